"""The operator's commands reach a running consumer without a restart: ``roostr models shadow``
adds the challenger's scores to later records, ``promote`` drops the shadow, ``rollback`` returns
to the previous champion and ``roostr mode rules`` switches scoring to the rules."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import ROOSTR
from scoring_service_support import (
    ConsumerProcess,
    good_records,
    produce,
    read_outputs,
    train_tiny_model,
    wait_until,
)

from roostr.contracts import ScoredSignal
from roostr.registry import ModelRegistry
from roostr.settings import Settings

pytestmark = pytest.mark.slow


def _roostr(settings: Settings, *args: str) -> str:
    done = subprocess.run(
        [*ROOSTR, *args], env=settings.child_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert f"announced on {settings.topic_model_updates}" in done.stdout, done.stdout
    return done.stdout


def _round(settings: Settings, prefix: str, seen: int, count: int = 20) -> list[ScoredSignal]:
    produce(settings, good_records(count, prefix=prefix, seed=len(prefix)))
    scored, _dead = read_outputs(settings, expected=seen + count)
    return [s for s in scored if s.signal_id.startswith(prefix)]


def test_shadow_promote_rollback_and_rules_mode_apply_to_a_running_consumer(
    settings: Settings, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"mode": "hybrid"})
    registry = ModelRegistry(settings.registry_dir)
    first = train_tiny_model(registry, seed=3)
    second = train_tiny_model(registry, seed=4, promote=False)
    consumer = ConsumerProcess(settings, tmp_path, "scorer")
    try:
        before = _round(settings, "one", 0)
        assert {(s.model_version, s.shadow_model_version) for s in before} == {(first, None)}

        _roostr(settings, "models", "shadow", second)
        consumer.wait_for_event("shadow_loaded")
        shadowed = _round(settings, "two", 20)
        assert {(s.model_version, s.shadow_model_version) for s in shadowed} == {(first, second)}
        assert all(s.shadow_probability is not None for s in shadowed)
        assert any(s.shadow_score != s.ml_score for s in shadowed)  # a different model

        _roostr(settings, "models", "promote", second)
        wait_until(lambda: bool(consumer.events("shadow_cleared")), 30, "shadow dropped")
        promoted = _round(settings, "three", 40)
        assert {(s.model_version, s.shadow_model_version) for s in promoted} == {(second, None)}

        loaded = len(consumer.events("model_loaded"))
        _roostr(settings, "models", "rollback")
        wait_until(
            lambda: any(e.get("model_version") == first
                        for e in consumer.events("model_loaded")[loaded:]),
            30, "first model reloaded",
        )  # fmt: skip
        rolled_back = _round(settings, "four", 60)
        assert {s.model_version for s in rolled_back} == {first}

        _roostr(settings, "mode", "rules")
        consumer.wait_for_event("mode_switched")
        rules = _round(settings, "five", 80)
        assert all(s.mode == "rules" and s.final_score == s.rule_score for s in rules)
        assert all(s.ml_probability is None and not s.degraded for s in rules)
        assert consumer.process.poll() is None, consumer.tail()
        assert consumer.terminate() == 0, consumer.tail()
    finally:
        consumer.ensure_stopped()

    # A consumer started later replays the switch: it scores with the rules from the start.
    late = ConsumerProcess(settings, tmp_path, "late")
    try:
        assert all(s.mode == "rules" for s in _round(settings, "six", 100))
        assert late.terminate() == 0, late.tail()
    finally:
        late.ensure_stopped()
