"""The retrain's rules gate refuses a challenger that ranks clearly below the rules only when the
champion, which serves if it is refused, ranks at least as well on the same walk-forward rows:
refusing it otherwise serves a ranking further below the rules than the one refused. A
challenger that ranks below the champion is refused as before."""

from pathlib import Path

import numpy as np
import pytest
from retrain_support import prior_registry, walk_forward_result

from roostr.registry import ModelRegistry
from roostr.settings import Settings
from training.retrain import compare
from training.trainer import TrainingResult

ROWS = 400


def _walk_forward(champion_skill: float) -> TrainingResult:
    """Rows where the rules rank far better than the challenger, and the champion's input ``x``
    carries ``champion_skill`` times the label (the champion ranks by x)."""
    rng = np.random.default_rng(0)
    y = (rng.random(ROWS) < 0.35).astype(np.int64)
    rule = np.clip(np.round(5 + 2.5 * y + rng.normal(0, 1.0, ROWS)), 1, 10).astype(np.int64)
    p = 1 / (1 + np.exp(-(-0.8 + 0.5 * y + rng.normal(0, 0.5, ROWS))))
    x = champion_skill * y + rng.normal(0, 1.0, ROWS)
    return walk_forward_result(y, p, rule, x, folds=[])


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    return prior_registry(tmp_path)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(registry_dir=tmp_path, retrain_max_ece=1.0)  # only the rules gate decides


def test_a_challenger_below_the_rules_but_above_the_champion_is_promoted(
    registry: ModelRegistry, settings: Settings
) -> None:
    verdict = compare(_walk_forward(champion_skill=0.0), registry, settings)

    assert verdict.challenger["auc_minus_rules"] < -2 * verdict.challenger["auc_minus_rules_se"]
    assert verdict.champion is not None
    assert verdict.challenger["auc_on_champion_rows"] > verdict.champion["auc"]
    assert verdict.promote, verdict.reasons


def test_a_challenger_below_the_rules_and_the_champion_is_refused(
    registry: ModelRegistry, settings: Settings
) -> None:
    verdict = compare(_walk_forward(champion_skill=3.0), registry, settings)

    assert verdict.champion is not None
    assert verdict.challenger["auc_on_champion_rows"] < verdict.champion["auc"]
    assert not verdict.promote
    assert any("below the rules" in reason for reason in verdict.reasons), verdict.reasons
