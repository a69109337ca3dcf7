"""The board as one object: store, reader thread and web server (uvicorn, in a thread), so the
command, the demo and the benchmark run the same thing."""

from __future__ import annotations

import signal
import socket
import threading
import time
from pathlib import Path

import uvicorn

from board.app import create_app
from board.follower import Follower
from board.security import Access
from board.store import BoardStore
from roostr.group_lag import GroupLagReader
from roostr.logs import get_logger
from roostr.settings import Settings

__all__ = ["BoardServer"]

log = get_logger("roostr.board")


class BoardServer:
    """Binds at construction (so ``url`` is known, port 0 included); ``start`` serves."""

    def __init__(
        self,
        settings: Settings,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        reports_dir: Path = Path("reports"),
        admin_token: str | None = None,
        read_token: str | None = None,
        max_signals: int = 20_000,
    ) -> None:
        self.store = BoardStore(settings, max_signals=max_signals)
        self.follower = Follower(settings, self.store)
        app = create_app(
            self.store,
            Access(admin_token, read_token),
            reports_dir,
            GroupLagReader(settings, settings.group_scoring, settings.topic_raw),
            healthy=lambda: self.follower.healthy,
        )
        self._socket = socket.create_server((host, port))
        bound_host, bound_port = self._socket.getsockname()[:2]
        self.url = f"http://{bound_host}:{bound_port}/"
        config = uvicorn.Config(
            app, log_config=None, access_log=False, lifespan="off", timeout_graceful_shutdown=2
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="board-http",
            daemon=True,
        )  # fmt: skip

    def start(self, timeout_s: float = 10.0) -> BoardServer:
        self.follower.start()
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started and self._thread.is_alive():
            if time.monotonic() > deadline:
                raise RuntimeError("the board's web server did not start")
            time.sleep(0.02)
        log.info("board_listening", url=self.url)
        return self

    def wait(self) -> None:
        """Serve until SIGINT or SIGTERM (main thread only), then stop."""
        stopping = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda _s, _f: stopping.set())
        while not stopping.wait(0.5):
            if not self._thread.is_alive():
                break
        self.stop()

    def stop(self) -> None:
        self._server.should_exit = True
        self.follower.stop()
        self._thread.join(10)
        self.follower.join(10)
        self._socket.close()
        log.info("board_stopped")
