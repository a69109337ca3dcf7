"""A calibration-only update: a model trained where wins were common, recalibrated on outcomes
from a world where they are rare, forecasts the new world's rates (lower ECE on further rows)
while ranking exactly as before, and the original model is left as it was."""

import numpy as np
import pytest
from scipy.stats import rankdata

from roostr.model import ConvictionModel
from training.predictive_metrics import expected_calibration_error
from training.recalibration import recalibrated
from training.trainer import TrainingError

NAMES = tuple(f"f{i}" for i in range(6))


def _rows(n: int, seed: int, base_logit: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, len(NAMES))).astype(np.float32)
    logit = 1.0 * X[:, 0] - 0.7 * X[:, 1] + base_logit
    return X, (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)


def test_recalibration_lowers_ece_and_keeps_the_ranking() -> None:
    X, y = _rows(800, seed=0, base_logit=1.0)  # the synthetic world: wins common
    model = ConvictionModel().fit(X, y, feature_names=NAMES)
    model.version = "v0.1-bootstrap"
    new_X, new_y = _rows(600, seed=1, base_logit=-1.5)  # the real world: wins rare
    later_X, later_y = _rows(3_000, seed=2, base_logit=-1.5)
    before = model.predict_proba(later_X)[:, 1]
    calibration = model.calibration_

    fresh = recalibrated(model, new_X, new_y)
    after = fresh.predict_proba(later_X)[:, 1]

    assert fresh is not model and fresh.version is None and model.version == "v0.1-bootstrap"
    assert model.calibration_ == calibration  # the champion itself is untouched
    np.testing.assert_array_equal(
        fresh.decision_function(later_X), model.decision_function(later_X)
    )
    ece_before = expected_calibration_error(later_y, before)
    assert ece_before > 0.15  # the model forecasts the old world's win rate
    assert expected_calibration_error(later_y, after) < ece_before / 2
    np.testing.assert_array_equal(rankdata(after), rankdata(before))


def test_too_few_or_one_class_rows_are_refused() -> None:
    X, y = _rows(400, seed=3, base_logit=0.0)
    model = ConvictionModel(booster="gblinear").fit(X, y, feature_names=NAMES)
    with pytest.raises(TrainingError, match="cannot calibrate"):
        recalibrated(model, X[:10], y[:10])
    with pytest.raises(TrainingError, match="cannot calibrate"):
        recalibrated(model, X, np.zeros_like(y))
