"""Signals accepted while the broker is down survive ``kill -9`` and arrive exactly once later."""

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


def test_spooled_signals_arrive_exactly_once_after_kill_and_broker_start(tmp_path: Path) -> None:
    port = free_port()  # nothing listens here until the broker is started below
    tag = uuid.uuid4().hex[:8]
    settings = Settings(
        bootstrap_servers=f"127.0.0.1:{port}",
        topic_raw=f"raw-{tag}",
        partitions_raw=3,
        partitions_default=1,
        spool_dir=tmp_path / "spool",
    )
    count = 40
    lines = [
        json.dumps(
            {
                "signal_id": f"tg:{i}",
                "ticker": ("TAO", "ASTS", "RNDR")[i % 3],
                "source": "Telegram",
                "posted_at": "2026-03-01T12:00:00+00:00",
            }
        )
        for i in range(count)
    ]
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

    with EmbeddedBroker(port=port, log_path=tmp_path / "broker.log"):
        ensure_topics(settings)
        flushed = subprocess.run(
            [*ROOSTR, "spool", "flush", "--flush-timeout", "60"],
            capture_output=True, text=True, env=settings.child_env(), timeout=120,
        )  # fmt: skip
        assert flushed.returncode == 0, flushed.stderr
        assert f"{settings.topic_raw}: re-sent {count}, still spooled 0" in flushed.stdout
        records = read_topic(settings, settings.topic_raw, expected=count)

    ids = [RawSignal.model_validate_json(r.value()).signal_id for r in records]
    assert sorted(ids) == sorted(f"tg:{i}" for i in range(count))  # all of them, once each
    assert not list(spool.glob("*.batch*")), "the spool is empty once everything is acknowledged"
