"""The whole loop in compressed time, on a real broker with real processes: raw signals are
scored, labelled from prices by the joiner, a retrain promotes a challenger from those outcomes,
and the running consumer scores the next signals with it, without a restart.

Event time runs far ahead of the clock: months of signals and six-hourly prices in seconds.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import ROOSTR
from scoring_service_support import ConsumerProcess, publish, wait_until
from topic_reading import read_topic

from roostr.contracts import Outcome, ScoredSignal
from roostr.registry import ModelRegistry
from roostr.settings import Settings
from roostr.synthetic.world import generate_world

pytestmark = pytest.mark.slow


def resolved_outcomes(settings: Settings) -> dict[str, Outcome]:
    found = {}
    for message in read_topic(settings, settings.topic_outcomes, 0, 1.0, 0.5):
        outcome = Outcome.model_validate_json(message.value())
        found[outcome.signal_id] = outcome
    return {i: o for i, o in found.items() if o.label is not None}


def test_signals_are_scored_labelled_retrained_on_and_the_new_champion_used(
    settings: Settings, tmp_path: Path
) -> None:
    settings = settings.model_copy(
        update={
            "mode": "hybrid",
            "retrain_min_outcomes": 150,
            "retrain_promote_margin": 0.0,
            "retrain_rules_tolerance": 1.0,  # the mechanics, not the world's difficulty
            "retrain_max_ece": 1.0,
        }
    )
    world = generate_world(700, seed=3, span_days=150)
    first, later = world.signals[:600], world.signals[600:]
    consumer = ConsumerProcess(settings, tmp_path, "consumer")
    joiner = ConsumerProcess(settings, tmp_path, "joiner", command="join")
    try:
        publish(settings, settings.topic_raw, first)
        publish(
            settings, settings.topic_prices, [t for p in world.prices.values() for t in p.ticks()]
        )
        wait_until(lambda: len(resolved_outcomes(settings)) >= 300, 120, "300 resolved outcomes")

        retrain = subprocess.run(
            [*ROOSTR, "retrain", "--reports-dir", str(tmp_path / "reports")],
            env=settings.child_env(), capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert retrain.returncode == 0, retrain.stdout + retrain.stderr
        champion = ModelRegistry(settings.registry_dir).champion()
        assert champion is not None and f"champion: {champion}" in retrain.stdout

        publish(settings, settings.topic_raw, later)
        later_ids = {s.signal_id for s in later}

        def scored_by_champion() -> bool:
            scored = [
                ScoredSignal.model_validate_json(m.value())
                for m in read_topic(settings, settings.topic_scored, 0, 1.0, 0.5)
            ]
            new = [s for s in scored if s.signal_id in later_ids]
            return len({s.signal_id for s in new}) == len(later_ids) and all(
                s.model_version == champion and s.ml_probability is not None for s in new
            )

        wait_until(scored_by_champion, 90, "the later signals scored by the new champion")
        outcomes = resolved_outcomes(settings)
        truth = {o.signal_id: o for o in world.outcomes}
        agree = sum(o.label == truth[i].label for i, o in outcomes.items())
        assert agree / len(outcomes) > 0.95  # the joiner labels as the world's own price paths say
        assert consumer.terminate() == 0 and joiner.terminate() == 0
    finally:
        consumer.ensure_stopped()
        joiner.ensure_stopped()
