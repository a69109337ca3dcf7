"""The linear booster treats a monotone-constrained input (a track record, Dan's endorsement) as a
prior, like the rule input: spread wider, it pays less L1, so on a few hundred rows its weight
is not held near zero among noise columns; the importance is reported per standard deviation
all the same, and a saved model keeps what it was trained with."""

from pathlib import Path

import numpy as np

from roostr.model import ConvictionModel, load_model, save_model

ROWS, NOISE = 400, 20
NAMES = ("record", *(f"noise{i}" for i in range(NOISE)))


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    X = rng.normal(0.0, 1.0, (ROWS, NOISE + 1)).astype(np.float32)
    y = (rng.random(ROWS) < 1 / (1 + np.exp(-(-0.6 + 0.3 * X[:, 0])))).astype(np.int64)
    return X, y


def _fit(spread_priors: bool) -> ConvictionModel:
    X, y = _data()
    model = ConvictionModel(
        booster="gblinear",
        linear_l1_rows=(15.0,),
        monotone_constraints={"record": 1},
        spread_priors=spread_priors,
        calibration="none",
    )
    return model.fit(X, y, feature_names=NAMES, feature_set_version="test")


def test_a_constrained_input_keeps_more_weight_when_spread() -> None:
    spread, plain = _fit(True).feature_importance(), _fit(False).feature_importance()

    assert spread.get("record", 0.0) > 1.5 * plain.get("record", 0.0)


def test_the_importance_is_per_standard_deviation_and_survives_a_round_trip(
    tmp_path: Path,
) -> None:
    model = _fit(True)
    X, _ = _data()
    unit = X.copy()
    unit[:, 0] += X[:, 0].std()  # one standard deviation more of the record
    shift = float(np.mean(model.decision_function(unit) - model.decision_function(X)))
    assert shift > 0.0
    assert abs(model.feature_importance()["record"] - shift) < 1e-3 * shift

    loaded = load_model(save_model(model, tmp_path / "m.json"))
    assert loaded.spread_priors is True
    assert loaded.feature_importance() == model.feature_importance()
