"""``calibration="auto"`` calibrates with Platt scaling up to ``ISOTONIC_MIN_ROWS`` (10,000):
on the learning benchmark's tuning seeds the isotonic step function, fitted on earlier matured
rows, forecast later ones worse at every size from 400 to 5,300 rows. Both paths that use it are
pinned: the model's own calibration on 2,000 validation rows (5,000 outcomes) and the champion's
calibration-only update on 1,000 matured rows; both were isotonic at 1,000 rows before."""

import numpy as np
import pytest

from roostr.model import ConvictionModel
from roostr.model.calibration import calibration_method
from training.recalibration import recalibrated

NAMES = tuple(f"f{i}" for i in range(4))


def _rows(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, len(NAMES))).astype(np.float32)
    logit = 0.8 * X[:, 0] - 0.5 * X[:, 1] - 1.0
    return X, (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)


@pytest.mark.parametrize(("rows", "method"), [(300, "platt"), (1_000, "platt"),
                                              (5_000, "platt"), (9_999, "platt"),
                                              (10_000, "isotonic")])  # fmt: skip
def test_auto_is_platt_below_ten_thousand_rows(rows: int, method: str) -> None:
    assert calibration_method("auto", rows) == method
    assert calibration_method("isotonic", rows) == "isotonic"  # an explicit choice stands


def test_a_model_of_five_thousand_outcomes_calibrates_with_platt() -> None:
    X, y = _rows(5_000, seed=0)
    model = ConvictionModel(booster="gblinear").fit(X, y, feature_names=NAMES)
    assert model.calibration_ is not None and model.calibration_["method"] == "platt"


def test_the_champions_update_on_a_thousand_rows_calibrates_with_platt() -> None:
    X, y = _rows(400, seed=1)
    champion = ConvictionModel(booster="gblinear").fit(X, y, feature_names=NAMES)
    new_X, new_y = _rows(1_000, seed=2)
    fresh = recalibrated(champion, new_X, new_y)
    assert fresh.calibration_ is not None and fresh.calibration_["method"] == "platt"
