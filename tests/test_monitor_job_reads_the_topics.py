"""``roostr monitor`` against a real broker: it reads signals.outcomes and signals.scored to
their ends, reports, and exits 1 when an alert fires (2 when it cannot read); ``--serve``
exposes the same verdict as Prometheus metrics."""

from __future__ import annotations

import json
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import ROOSTR
from scoring_service_support import ConsumerProcess, http_get, train_tiny_model, wait_until

from roostr.contracts import Outcome, ScoredSignal
from roostr.kafka import make_producer
from roostr.registry import ModelRegistry
from roostr.settings import Settings

pytestmark = pytest.mark.slow

START = datetime(2026, 1, 1, tzinfo=UTC)


def _outcomes() -> list[Outcome]:
    """Two weeks, 100 signals a day; actionable winners fall from 7 in 10 to 5 in 10."""
    outcomes = []
    for day in range(14):
        for score in range(1, 11):
            for k in range(10):
                won = k < ((7 if day < 7 else 5) if score >= 7 else 2)
                posted = START + timedelta(days=day, hours=k)
                outcomes.append(
                    Outcome(
                        signal_id=f"{day}:{score}:{k}", ticker="TAO", posted_at=posted,
                        entry_price=1.0, label=int(won), status="won" if won else "lost",
                        hit_at=posted + timedelta(days=1) if won else None,
                        final_score=score, ml_score=score, model_version="v0.1",
                    )
                )  # fmt: skip
    return outcomes


def _scored() -> list[ScoredSignal]:
    return [
        ScoredSignal(
            signal_id=f"{i}", ticker="TAO", source="YieldHub",
            posted_at=START + timedelta(days=13, minutes=i), scored_at=START,
            features={}, feature_set_version="fs", rule_score=5, ml_score=1 + i % 10,
            final_score=5, tier="low", mode="parallel",
        )
        for i in range(200)
    ]  # fmt: skip


def _publish(settings: Settings) -> None:
    producer = make_producer(settings)
    for outcome in _outcomes():
        producer.produce(settings.topic_outcomes, key=outcome.signal_id.encode(),
                         value=outcome.model_dump_json().encode())  # fmt: skip
        producer.poll(0)
    for signal in _scored():
        producer.produce(settings.topic_scored, key=b"TAO", value=signal.model_dump_json().encode())
    assert producer.flush(30) == 0


def _monitor(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ROOSTR, "monitor", *args], env=settings.child_env(), capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


def test_monitor_reports_alerts_as_exit_status_and_metrics(
    settings: Settings, tmp_path: Path
) -> None:
    train_tiny_model(ModelRegistry(settings.registry_dir), seed=1)
    _publish(settings)

    done = _monitor(settings, "--json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert [a["name"] for a in report["alerts"]] == ["win_rate_down"]
    current, previous = report["history"][:2]
    assert (current["outcomes"], current["win_rate"]) == (700, pytest.approx(0.5))
    assert (previous["outcomes"], previous["win_rate"]) == (700, pytest.approx(0.7))
    assert report["recent"]["score_buckets_used"] == 10
    assert any("no feature reference" in note for note in report["notes"])

    text = _monitor(settings)
    assert text.returncode == 1 and "ALERT win_rate_down" in text.stdout

    server = ConsumerProcess(settings, tmp_path, "monitor", "--serve", "--http-port", "0",
                             command="monitor")  # fmt: skip
    try:
        port = server.wait_for_event("http_listening")["port"]
        wait_until(lambda: http_get(port, "/readyz")[0] == 200, 60, "first evaluation")
        metrics = http_get(port, "/metrics")[1]
        assert 'roostr_monitor_alert{alert="win_rate_down"} 1.0' in metrics
        assert 'roostr_monitor_alert{alert="feature_drift"} 0.0' in metrics
        assert 'roostr_monitor_win_rate{window="current"} 0.5' in metrics
        assert server.terminate() == 0, server.tail()
    finally:
        server.ensure_stopped()


def test_monitor_exits_2_when_the_topics_are_missing(settings: Settings) -> None:
    missing = settings.namespaced(uuid.uuid4().hex[:6])
    done = _monitor(missing)
    assert done.returncode == 2 and "does not exist" in done.stderr
