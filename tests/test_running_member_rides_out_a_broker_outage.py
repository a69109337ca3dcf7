"""A scoring or joiner member that was up rides out a broker outage: it turns not ready, logs
``broker_unreachable`` once, keeps running and reconnecting, and is ready again (logging
``broker_reachable``) when the broker is back; no raw librdkafka line reaches stderr."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ROOSTR

from roostr.embedded_broker import EmbeddedBroker, free_port
from roostr.kafka import ensure_topics
from roostr.settings import Settings

pytestmark = pytest.mark.slow


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def events(path: Path, name: str) -> list[dict[str, object]]:
    lines = [line for line in path.read_text().splitlines() if line.startswith("{")]
    return [e for e in map(json.loads, lines) if e["event"] == name]


@pytest.mark.parametrize("member", ["consume", "join"])
def test_a_member_that_was_up_rides_out_a_broker_outage(member: str, tmp_path: Path) -> None:
    port, http_port = free_port(), free_port()
    settings = Settings(
        bootstrap_servers=f"127.0.0.1:{port}",
        connect_timeout_s=2,
        partitions_raw=2,
        partitions_default=1,
        registry_dir=tmp_path / "models",
        spool_dir=tmp_path / "spool",
    ).namespaced(uuid.uuid4().hex[:8])
    stderr_path = tmp_path / f"{member}.stderr"
    broker = EmbeddedBroker(port=port, log_path=tmp_path / "broker.log").start()
    try:
        ensure_topics(settings)
        with open(stderr_path, "w") as stderr:
            process = subprocess.Popen(
                [*ROOSTR, member, "--http-port", str(http_port)],
                stdout=stderr, stderr=stderr, env=settings.child_env(),
            )  # fmt: skip
        try:
            wait_for(lambda: ready(http_port), 90, "the member to be ready")
            broker.stop()
            wait_for(lambda: not ready(http_port), 30, "not ready while the broker is down")
            wait_for(lambda: bool(events(stderr_path, "broker_unreachable")), 30, "the outage log")
            assert process.poll() is None, "an outage after start is no reason to exit"
            [outage] = events(stderr_path, "broker_unreachable")  # once, not per retry
            assert outage["servers"] == settings.bootstrap_servers
            assert "Connection refused" in str(outage["reason"])

            broker = EmbeddedBroker(port=port, log_path=tmp_path / "broker-2.log").start()
            ensure_topics(settings)  # the embedded broker keeps nothing across a restart
            wait_for(lambda: bool(events(stderr_path, "broker_reachable")), 60, "the recovery")
            wait_for(lambda: ready(http_port), 90, "ready again")
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=90)
    finally:
        broker.stop()
    output = stderr_path.read_text()
    assert "%3|" not in output and "Traceback" not in output
