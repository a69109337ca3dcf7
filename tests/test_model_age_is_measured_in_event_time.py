"""A champion's age is event time: from its training labels' cutoff to the newest scored signal,
never the wall clock, so a backfilled or replayed history ages it by the data's own time."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
from test_monitor_alerts_fire_on_crafted_cases import END, _healthy

from roostr.features import FEATURE_NAMES
from roostr.registry import ModelRegistry
from roostr.settings import Settings
from training.monitoring.alerts import check_alerts
from training.monitoring.evaluation import evaluate
from training.monitoring.job import champion_of
from training.trainer import fit_model


def _registered(tmp_path: Path, label_cutoff: str | None) -> ModelRegistry:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, len(FEATURE_NAMES))).astype(np.float32)
    y = (X[:, 0] + rng.normal(size=200) > 0).astype(np.int64)
    model = fit_model(X, y)
    registry = ModelRegistry(tmp_path)
    registry.register(
        model, version="v0.2-x", metrics={}, training_data={"label_cutoff": label_cutoff}
    )
    registry.promote("v0.2-x")
    return registry


def test_age_runs_from_the_label_cutoff_to_the_newest_signal(tmp_path: Path) -> None:
    world = _healthy()
    # registered now (the wall clock is months after the world), trained on labels final 40
    # days before the world's newest signal
    cutoff = END - timedelta(days=40)
    champion = champion_of(_registered(tmp_path, cutoff.isoformat()))
    assert champion is not None and champion.label_cutoff == cutoff
    report = evaluate(world.outcomes, world.scored, champion, Settings(), 0)
    newest = max(s.posted_at for s in world.scored)
    assert report.model_age_days == (newest - cutoff) / timedelta(days=1)
    assert "model_expired" in [a.name for a in check_alerts(report, Settings())]


def test_a_model_without_a_label_cutoff_has_no_age(tmp_path: Path) -> None:
    world = _healthy()
    champion = champion_of(_registered(tmp_path, None))
    report = evaluate(world.outcomes, world.scored, champion, Settings(), 0)
    assert report.model_age_days is None
    assert "model_expired" not in [a.name for a in check_alerts(report, Settings())]
