"""The retrain's gates compare rankings within walk-forward folds: each fold is predicted by
its own model, so a challenger whose fold models rank well but sit on different scales is not
charged for pairs across folds that a fixed champion and the rules never pay for. A challenger
that ranks badly within the folds is refused as before."""

from pathlib import Path

import numpy as np
import pytest
from retrain_support import prior_registry, walk_forward_result

from roostr.registry import ModelRegistry
from roostr.settings import Settings
from training.predictive_metrics import within_group_auc
from training.retrain import compare
from training.trainer import TrainingResult

FOLDS = 4
FOLD_ROWS = 120
ROWS = FOLDS * FOLD_ROWS
SHIFTS = (-3.0, 2.0, -1.0, 3.0)  # each fold model's own scale: log-odds added to its fold


def _walk_forward(challenger_skill: float) -> TrainingResult:
    """Rows where the champion (ranking by ``x``) and the rules rank moderately well, and the
    challenger's fold models carry ``challenger_skill`` times the label, each fold shifted by
    its own ``SHIFTS`` entry."""
    rng = np.random.default_rng(0)
    y = (rng.random(ROWS) < 0.35).astype(np.int64)
    fold = np.repeat(np.arange(FOLDS), FOLD_ROWS)
    rule = np.clip(np.round(5 + 1.5 * y + rng.normal(0, 1.2, ROWS)), 1, 10).astype(np.int64)
    margin = np.asarray(SHIFTS)[fold] + challenger_skill * y + rng.normal(0, 1.0, ROWS)
    p = 1 / (1 + np.exp(-margin))
    x = 1.0 * y + rng.normal(0, 1.0, ROWS)
    folds = [(np.arange(0), np.arange(k * FOLD_ROWS, (k + 1) * FOLD_ROWS)) for k in range(FOLDS)]
    return walk_forward_result(y, p, rule, x, folds)


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    return prior_registry(tmp_path)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(registry_dir=tmp_path, retrain_max_ece=1.0)  # only the ranking gates decide


def test_within_group_auc_ignores_pairs_across_groups() -> None:
    y = np.array([0, 1, 0, 1])
    score = np.array([0.1, 0.2, 0.8, 0.9])  # each group ranked right, the groups' scales apart

    assert within_group_auc(y, score, np.array([0, 0, 1, 1])) == 1.0
    assert within_group_auc(y, score) == 0.75
    assert within_group_auc(np.array([0, 1]), np.array([0.1, 0.2]), np.array([0, 1])) is None


def test_a_challenger_that_ranks_well_within_each_fold_is_promoted(
    registry: ModelRegistry, settings: Settings
) -> None:
    result = _walk_forward(challenger_skill=2.0)
    pooled = [within_group_auc(result.y_test, s) for s in (result.rule_test, result.X_test[:, 0])]
    # pooled, it looks clearly worse than the rules and the champion: the gates refused it
    assert result.metrics["test"]["auc"] < min(a for a in pooled if a is not None) - 0.05

    verdict = compare(result, registry, settings)

    assert verdict.challenger["auc"] > verdict.rules["auc"]
    assert verdict.champion is not None
    assert verdict.challenger["auc_on_champion_rows"] > verdict.champion["auc"]
    assert verdict.promote, verdict.reasons


def test_a_challenger_that_ranks_badly_within_the_folds_is_refused(
    registry: ModelRegistry, settings: Settings
) -> None:
    verdict = compare(_walk_forward(challenger_skill=0.3), registry, settings)

    assert verdict.champion is not None
    assert verdict.challenger["auc_on_champion_rows"] < verdict.champion["auc"]
    assert not verdict.promote
    assert any("below the rules" in reason for reason in verdict.reasons), verdict.reasons
