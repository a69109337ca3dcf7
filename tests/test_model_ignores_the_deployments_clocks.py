"""A model is fitted without the deployment's clocks (counts that grow with its age): when the win
rate drifts within the training window, a clock carries the drift past the window, and the
served probabilities with it. Excluded, the clocks stay columns but weigh nothing, in any
booster, and a saved model keeps the exclusion."""

from pathlib import Path

import numpy as np
import pytest

from roostr.errors import ModelError
from roostr.model import ConvictionModel, load_model, save_model
from training.trainer import DEPLOYMENT_CLOCKS, fit_model

ROWS, AHEAD = 1_200, 400
CLOCK = "author_resolved_signals"
NAMES = ("call", CLOCK, "noise")
assert CLOCK in DEPLOYMENT_CLOCKS


def _rows(start: int, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Rows of a deployment ``start`` signals old whose win rate rose from 0.2 to 0.4 over the
    training window and stays at 0.4 after it; the call's own driver is ``call``."""
    age = np.arange(start, start + count, dtype=np.float64)
    call = rng.normal(0.0, 1.0, count)
    base = np.log(0.25) + np.log(0.4 / 0.6 / 0.25) * np.minimum(age / ROWS, 1.0)  # odds 0.25 → ⅔
    y = (rng.random(count) < 1 / (1 + np.exp(-(base + 0.8 * call)))).astype(np.int64)
    X = np.column_stack([call, age / 4, rng.normal(0.0, 1.0, count)]).astype(np.float32)
    return X, y


@pytest.fixture(scope="module")
def world() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    return (*_rows(0, ROWS, rng), *_rows(3 * ROWS, AHEAD, rng))


@pytest.mark.parametrize("booster", ["gblinear", "gbtree"])
def test_a_clock_changes_no_prediction(world: tuple[np.ndarray, ...], booster: str) -> None:
    X, y, ahead, _ = world
    model = fit_model(X, y, feature_names=NAMES, params={"booster": booster})
    stopped = ahead.copy()
    stopped[:, 1] = 0.0

    assert model.excluded_features == (CLOCK,)
    assert np.array_equal(model.predict_proba(ahead), model.predict_proba(stopped))
    assert CLOCK not in model.feature_importance()
    assert np.all(model.contributions(ahead)[:, 1] == 0.0)


def test_a_drift_is_not_extrapolated_past_the_window(world: tuple[np.ndarray, ...]) -> None:
    X, y, ahead, ahead_y = world
    served = fit_model(X, y, feature_names=NAMES).predict_proba(ahead)[:, 1]
    with_clock = fit_model(X, y, feature_names=NAMES, params={"excluded_features": ()})
    extrapolated = with_clock.predict_proba(ahead)[:, 1]

    # the clock's model carries the rise on: it serves well above what wins ahead
    assert extrapolated.mean() > ahead_y.mean() + 0.1
    # without it the model serves the window's level, between its start and its end
    assert y.mean() - 0.05 < served.mean() < ahead_y.mean() + 0.05


def test_a_saved_model_keeps_its_exclusions(world: tuple[np.ndarray, ...], tmp_path: Path) -> None:
    X, y, ahead, _ = world
    model = fit_model(X, y, feature_names=NAMES)

    loaded = load_model(save_model(model, tmp_path / "m.json"))

    assert loaded.excluded_features == (CLOCK,)
    assert np.array_equal(loaded.predict_proba(ahead), model.predict_proba(ahead))


def test_excluding_an_unknown_feature_is_refused(world: tuple[np.ndarray, ...]) -> None:
    X, y, _, _ = world
    with pytest.raises(ModelError, match="excluded features name unknown features"):
        ConvictionModel(excluded_features=("nope",)).fit(X, y, feature_names=NAMES)
