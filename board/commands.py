"""``roostr board``: serve the signal board until Ctrl-C."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from roostr.settings import Settings

if TYPE_CHECKING:
    from board.server import BoardServer

__all__ = ["ADMIN_TOKEN_ENV", "READ_TOKEN_ENV", "register"]

ADMIN_TOKEN_ENV = "ROOSTR_BOARD_ADMIN_TOKEN"
READ_TOKEN_ENV = "ROOSTR_BOARD_READ_TOKEN"
DEFAULT_PORT = 8765


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    board = subparsers.add_parser(
        "board", parents=[common],
        help="the signal board: live feed, leaderboard, model panel, backtests (a web page)",
        description="Serve the signal board. It follows signals.scored, signals.outcomes, "
        "prices and models.updates from their beginning without joining a group. Read-only "
        f"unless an admin token is given (--admin-token-file or {ADMIN_TOKEN_ENV}); reading "
        f"can be put behind a token too (--read-token-file or {READ_TOKEN_ENV}).",
    )  # fmt: skip
    board.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    board.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"0 picks a free port (default {DEFAULT_PORT})",
    )
    board.add_argument(
        "--reports", type=Path, default=Path("reports"), metavar="DIR",
        help="folder of HTML reports to list (default: reports, where train and retrain write)",
    )  # fmt: skip
    board.add_argument("--admin-token-file", type=Path, default=None)
    board.add_argument("--read-token-file", type=Path, default=None)
    board.set_defaults(handler=run_board)


def run_board(args: argparse.Namespace, settings: Settings) -> int:
    from board.server import BoardServer
    from roostr.kafka import require_broker

    require_broker(settings)
    server = BoardServer(
        settings,
        host=args.host,
        port=args.port,
        reports_dir=args.reports,
        admin_token=_token(args.admin_token_file, ADMIN_TOKEN_ENV),
        read_token=_token(args.read_token_file, READ_TOKEN_ENV),
    )
    _serve(server)
    return 0


def _serve(server: BoardServer) -> None:
    server.start()
    print(f"board: {server.url}", flush=True)
    server.wait()


def _token(path: Path | None, variable: str) -> str | None:
    """A token from its file (first line, stripped) or else the environment; None when unset."""
    if path is not None:
        return path.read_text(encoding="utf-8").strip() or None
    return os.environ.get(variable) or None
