"""Models and modes change under a running consumer: no restart, no crash, no gap.

A promoted champion is used for later records; a corrupt champion switches scoring to rules
with degraded=true; a mode in a models.updates control message switches the mode.
"""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import pytest
from scoring_service_support import (
    ConsumerProcess,
    good_records,
    produce,
    read_outputs,
    train_tiny_model,
    wait_until,
)

from roostr.contracts import ModelUpdate, ScoredSignal
from roostr.kafka import make_producer
from roostr.registry import ModelRegistry
from roostr.settings import Settings

pytestmark = pytest.mark.slow


def _announce(settings: Settings, update: ModelUpdate) -> None:
    producer = make_producer(settings)
    producer.produce(settings.topic_model_updates, value=update.model_dump_json().encode())
    assert producer.flush(10) == 0


def _score_round(settings: Settings, prefix: str, seen: int, count: int = 20) -> list[ScoredSignal]:
    produce(settings, good_records(count, prefix=prefix, seed=len(prefix)))
    scored, _dead = read_outputs(settings, expected=seen + count)
    return [s for s in scored if s.signal_id.startswith(prefix)]


def test_promotion_corruption_and_mode_switch_apply_without_restart(
    settings: Settings, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"mode": "hybrid"})
    registry = ModelRegistry(settings.registry_dir)
    first = train_tiny_model(registry, seed=3)
    consumer = ConsumerProcess(settings, tmp_path, "scorer")
    try:
        round1 = _score_round(settings, "one", 0)
        assert {s.model_version for s in round1} == {first}

        second = train_tiny_model(registry, seed=4)  # promoted: the pointer poll finds it
        wait_until(
            lambda: any(e.get("model_version") == second for e in consumer.events("model_loaded")),
            30, "second model loaded",
        )  # fmt: skip
        round2 = _score_round(settings, "two", 20)
        assert {s.model_version for s in round2} == {second}
        assert not any(s.degraded for s in round2)

        third = train_tiny_model(registry, seed=5, promote=False)
        update = registry.promote(third)
        artifact = next((registry.root / third).glob("model.*"))
        artifact.write_text("{ this is not a model")
        _announce(settings, update)  # the event makes the consumer reload now
        consumer.wait_for_event("model_load_failed")
        round3 = _score_round(settings, "three", 40)
        assert all(s.degraded and s.model_version is None for s in round3)
        assert all(s.final_score == s.rule_score for s in round3)
        port = consumer.wait_for_event("http_listening")["port"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            metrics = response.read().decode()
        assert "roostr_model_loaded 0.0" in metrics
        failures = re.search(r"^roostr_model_load_failures_total (\S+)$", metrics, re.M)
        assert failures and float(failures.group(1)) >= 1

        _announce(settings, update.model_copy(update={"mode": "rules"}))
        consumer.wait_for_event("mode_switched")
        round4 = _score_round(settings, "four", 60)
        assert all(s.mode == "rules" and not s.degraded for s in round4)
        assert consumer.process.poll() is None, consumer.tail()
        assert consumer.terminate() == 0, consumer.tail()
    finally:
        consumer.ensure_stopped()
