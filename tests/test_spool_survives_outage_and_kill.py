"""Signals accepted while the broker is down survive ``kill -9`` and arrive exactly once later;
``roostr publish`` gives up waiting within ``ROOSTR_CONNECT_TIMEOUT_S`` and says where they are."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_runs import run_cli
from conftest import ROOSTR
from topic_reading import read_topic

from roostr.contracts import RawSignal
from roostr.embedded_broker import EmbeddedBroker, free_port
from roostr.kafka import ensure_topics
from roostr.settings import Settings

pytestmark = pytest.mark.slow


def spooled_lines(spool: Path) -> int:
    return sum(p.read_bytes().count(b"\n") for p in spool.glob("*.batch"))


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def signal_line(i: int) -> str:
    return json.dumps(
        {
            "signal_id": f"tg:{i}",
            "ticker": ("TAO", "ASTS", "RNDR")[i % 3],
            "source": "Telegram",
            "posted_at": "2026-03-01T12:00:00+00:00",
        }
    )


def test_spooled_signals_arrive_exactly_once_after_kill_and_broker_start(tmp_path: Path) -> None:
    port = free_port()  # nothing listens here until the broker is started below
    tag = uuid.uuid4().hex[:8]
    settings = Settings(
        bootstrap_servers=f"127.0.0.1:{port}",
        topic_raw=f"raw-{tag}",
        partitions_raw=3,
        partitions_default=1,
        spool_dir=tmp_path / "spool",
        connect_timeout_s=120,  # this publisher is killed while it still waits for the broker
    )
    count, later = 40, 3
    lines = [signal_line(i) for i in range(count)]
    (tmp_path / "signals.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    stderr_path = tmp_path / "publisher.stderr"
    spool = settings.spool_dir / settings.topic_raw

    with open(stderr_path, "w") as stderr:
        publisher = subprocess.Popen(
            [*ROOSTR, "publish", str(tmp_path / "signals.jsonl"),
             "--batch-size", "7", "--message-timeout-ms", "800", "--flush-timeout", "300"],
            stdout=subprocess.DEVNULL, stderr=stderr, env=settings.child_env(),
        )  # fmt: skip
        try:
            wait_for(lambda: spooled_lines(spool) == count, 30, "every line to be spooled")
            wait_for(lambda: "delivery_failed" in stderr_path.read_text(), 30, "a failed send")
        finally:
            os.kill(publisher.pid, signal.SIGKILL)
            publisher.wait()
    assert publisher.returncode == -signal.SIGKILL
    assert spooled_lines(spool) == count
    # A batch that was being written when the process died was never reported accepted.
    (spool / ".000000000099.batch.tmp").write_bytes(lines[0].encode()[:25])

    # A publisher left to itself spools its records, waits ROOSTR_CONNECT_TIMEOUT_S, says once
    # which broker is unreachable and where the records wait, and exits 3 (unacknowledged).
    quick = settings.model_copy(update={"connect_timeout_s": 3})
    stdin = "".join(signal_line(count + i) + "\n" for i in range(later))
    given_up = run_cli(quick, "publish", "-", stdin=stdin)
    assert given_up.returncode == 3, given_up.output
    assert given_up.seconds < 20, "bounded by ROOSTR_CONNECT_TIMEOUT_S (3 s) plus start-up"
    assert f"published {later}, rejected 0, unacknowledged {count + later}" in given_up.stdout
    [line] = given_up.lines_naming(settings.bootstrap_servers)
    assert line.startswith(f"roostr: error: Kafka broker {settings.bootstrap_servers} unreachable")
    assert f"{count + later} records kept in the spool {spool.resolve()}" in line
    assert "`roostr spool flush`" in line
    assert "%3|" not in given_up.output and "Traceback" not in given_up.output
    assert spooled_lines(spool) == count + later

    with EmbeddedBroker(port=port, log_path=tmp_path / "broker.log"):
        ensure_topics(settings)
        flushed = subprocess.run(
            [*ROOSTR, "spool", "flush", "--flush-timeout", "60"],
            capture_output=True, text=True, env=settings.child_env(), timeout=120,
        )  # fmt: skip
        assert flushed.returncode == 0, flushed.stderr
        assert f"{settings.topic_raw}: re-sent {count + later}, still spooled 0" in flushed.stdout
        records = read_topic(settings, settings.topic_raw, expected=count + later)

    ids = [RawSignal.model_validate_json(r.value()).signal_id for r in records]
    assert sorted(ids) == sorted(f"tg:{i}" for i in range(count + later))  # all, once each
    assert not list(spool.glob("*.batch*")), "the spool is empty once everything is acknowledged"
