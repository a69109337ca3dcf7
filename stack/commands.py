"""Sub-commands that compose whole stacks: ``up``, ``demo``, ``bench`` and ``board-bench``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from roostr.settings import Settings
from stack.broker import wants_embedded_broker

__all__ = ["register"]


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    up = subparsers.add_parser(
        "up", parents=[common],
        help="the whole pipeline locally: broker, topics, model, scoring consumer, sample signals",
    )  # fmt: skip
    up.add_argument(
        "--serve", action="store_true", help="keep broker and consumer running after the sample"
    )
    up.add_argument(
        "--run-dir", type=Path, default=None, help="service logs (default .roostr/up/<time>)"
    )
    up.set_defaults(handler=run_up)

    demo = subparsers.add_parser(
        "demo", parents=[common],
        help="the whole learning loop locally in compressed time: score, label, retrain, backtest",
        description="Starts an embedded broker (unless --bootstrap-servers names one), the "
        "scoring consumers and the outcome joiner as processes, simulated scrapers and a price "
        "feed, then retrains and backtests, prints a summary and shuts everything down.",
    )  # fmt: skip
    demo.add_argument(
        "--run-dir", type=Path, default=None, help="logs and reports (default .roostr/runs/<time>)"
    )
    demo.add_argument("--signals", type=int, default=1_500, help="simulated signals")
    demo.add_argument(
        "--board", action="store_true",
        help="keep the broker, the services and the signal board up after the summary (Ctrl-C)",
    )  # fmt: skip
    demo.set_defaults(handler=run_demo)

    bench = subparsers.add_parser(
        "bench", parents=[common],
        help="benchmark passthrough vs scoring pipeline (embedded broker unless one is named)",
    )  # fmt: skip
    bench.add_argument("--json", action="store_true", help="one JSON object on stdout")
    bench.add_argument("--messages", type=int, default=50_000)
    bench.add_argument("--partitions", type=int, default=6, help="of the benchmark's topics")
    bench.add_argument("--rate", type=int, default=1_000, help="offered load for latency (/s)")
    bench.add_argument("--seconds", type=float, default=10.0, help="latency run duration")
    bench.add_argument("--scale-out", action="store_true", help="also measure 2 processes")
    bench.add_argument(
        "--transactional", action="store_true",
        help="also measure exactly-once (consume --transactional): backlog rate and latency",
    )  # fmt: skip
    bench.add_argument("--profile", metavar="FILE", help="write a cProfile of the pipeline run")
    bench.set_defaults(handler=run_bench)

    board_bench = subparsers.add_parser(
        "board-bench", parents=[common],
        help="measure the board: keep-up rate, lag and memory at a given rate; page load time",
    )  # fmt: skip
    board_bench.add_argument("--rate", type=float, default=1_000.0, help="signals per second")
    board_bench.add_argument("--seconds", type=float, default=20.0, help="how long to publish")
    board_bench.add_argument("--signals", type=int, default=10_000, help="held for the page loads")
    board_bench.set_defaults(handler=run_board_bench_command)


def run_up(args: argparse.Namespace, settings: Settings) -> int:
    from stack.local import run_local_stack

    run_dir = args.run_dir or _timestamped(Path(".roostr/up"))
    return run_local_stack(
        settings, embedded=wants_embedded_broker(settings), serve=args.serve, run_dir=run_dir
    )


def _timestamped(parent: Path) -> Path:
    """A run's own folder, named for when it started (UTC)."""
    from datetime import UTC, datetime

    return parent / datetime.now(UTC).strftime("%Y%m%dT%H%M%S")


def run_demo(args: argparse.Namespace, settings: Settings) -> int:
    from stack.demo import DemoPlan, run_demo

    embedded = wants_embedded_broker(settings)
    run_dir = args.run_dir or _timestamped(Path(".roostr/runs"))
    try:
        return run_demo(
            settings, embedded=embedded, run_dir=run_dir, plan=DemoPlan(args.signals),
            keep_board=args.board,
        )  # fmt: skip
    except KeyboardInterrupt:
        print("interrupted: services and broker stopped", file=sys.stderr)
        return 130


def run_bench(args: argparse.Namespace, settings: Settings) -> int:
    from stack.bench import run

    embedded = wants_embedded_broker(settings)
    if embedded and settings.security_protocol != "PLAINTEXT":
        print(
            f"roostr: error: the embedded broker is PLAINTEXT; name the broker to benchmark "
            f"over {settings.security_protocol} with --bootstrap-servers",
            file=sys.stderr,
        )
        return 2
    return run(
        settings,
        embedded=embedded,
        messages=args.messages,
        partitions=args.partitions,
        rate=args.rate,
        seconds=args.seconds,
        scale_out=args.scale_out,
        transactional=args.transactional,
        profile=Path(args.profile) if args.profile else None,
        as_json=args.json,
    )


def run_board_bench_command(args: argparse.Namespace, settings: Settings) -> int:
    from stack.board_bench import run_board_bench

    run_board_bench(settings, rate=args.rate, seconds=args.seconds, held=args.signals)
    return 0
