"""A ConvictionModel written to JSON or UBJSON predicts identically after loading; pickle is not
an option, and the wrapper's state (calibration, feature set, params) travels in the file."""

from pathlib import Path

import numpy as np
import pytest

from roostr.model import ConvictionModel, ModelError, load_model, save_model

NAMES = tuple(f"f{i}" for i in range(6))


def _data(n: int = 300, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, len(NAMES))).astype(np.float32)
    X[rng.random(X.shape) < 0.15] = np.nan
    y = np.nan_to_num(X[:, 0]) + 0.5 * np.nan_to_num(X[:, 1]) + rng.normal(size=n) > 0.3
    return X, y.astype(int)


@pytest.fixture
def model() -> ConvictionModel:
    X, y = _data()
    fitted = ConvictionModel(n_estimators=40, calibration="platt", monotone_constraints={"f0": 1})
    fitted.fit(X, y, feature_names=NAMES, feature_set_version="fs-test")
    held_X, held_y = _data(seed=2)
    return fitted.fit_calibration(fitted.decision_function(held_X), held_y)


@pytest.mark.parametrize("suffix", [".json", ".ubj"])
def test_round_trip_gives_identical_predictions(
    model: ConvictionModel, tmp_path: Path, suffix: str
) -> None:
    X, _ = _data(seed=3)
    model.version = "v0.1-test"
    loaded = load_model(save_model(model, tmp_path / f"model{suffix}"))
    np.testing.assert_array_equal(loaded.predict_proba(X)[:, 1], model.predict_proba(X)[:, 1])
    assert loaded.calibration_ == model.calibration_
    assert loaded.feature_names == NAMES
    assert loaded.feature_set_version == "fs-test"
    assert loaded.version == "v0.1-test"
    assert loaded.get_params() == model.get_params()
    assert [[r.feature for r in row] for row in loaded.explain(X[:5])] == [
        [r.feature for r in row] for row in model.explain(X[:5])
    ]


def test_only_xgboost_formats_are_written(model: ConvictionModel, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"json or \.ubj"):
        save_model(model, tmp_path / "model.pkl")


def test_a_plain_xgboost_file_is_not_mistaken_for_a_roostr_model(tmp_path: Path) -> None:
    import xgboost as xgb

    X, y = _data()
    booster = xgb.train({"objective": "binary:logistic"}, xgb.DMatrix(X, label=y), 2)
    booster.save_model(str(tmp_path / "plain.json"))
    with pytest.raises(ModelError, match="not a roostr"):
        load_model(tmp_path / "plain.json")


def test_probabilities_are_calibrated_and_reasons_name_features(model: ConvictionModel) -> None:
    X, _ = _data(n=50, seed=4)
    p = model.predict_proba(X)[:, 1]
    assert p.shape == (50,) and np.all((p >= 0) & (p <= 1))
    assert model.calibration_ is not None and model.calibration_["a"] > 0
    reasons = model.explain(X, top_k=2)
    assert len(reasons) == 50
    # a sparse model gives no reason for a row whose used features are all missing
    assert sum(len(row) == 2 for row in reasons) > 40
    for row in reasons:
        assert len(row) <= 2
        assert all(r.feature in NAMES for r in row)
        magnitudes = [abs(r.contribution) for r in row]
        assert magnitudes == sorted(magnitudes, reverse=True)


def test_reason_value_is_none_for_a_missing_feature(model: ConvictionModel) -> None:
    X = np.full((1, len(NAMES)), np.nan, dtype=np.float32)
    for reason in model.explain(X, top_k=6)[0]:
        assert reason.value is None


def test_monotone_constraint_holds(model: ConvictionModel) -> None:
    X = np.zeros((41, len(NAMES)), dtype=np.float32)
    X[:, 0] = np.linspace(-3, 3, 41)
    assert np.all(np.diff(model.predict_proba(X)[:, 1]) >= 0)


def test_wrong_matrix_shape_is_refused(model: ConvictionModel) -> None:
    with pytest.raises(ModelError, match="matrix"):
        model.predict_proba(np.zeros((3, 4), dtype=np.float32))


def test_a_model_saved_before_the_linear_booster_loads_as_trees(tmp_path: Path) -> None:
    import json

    import xgboost as xgb

    X, y = _data()
    booster = xgb.train(
        {"objective": "binary:logistic", "max_depth": 2},
        xgb.DMatrix(X, label=y, feature_names=list(NAMES)),
        5,
    )
    old_params = {"n_estimators": 5, "max_depth": 2, "validation_fraction": 0.2, "refit": True}
    calibration = {"method": "platt", "a": 0.9, "b": -0.1}
    state = {"version": "v0", "feature_set_version": "fs", "calibration": calibration}
    booster.set_attr(roostr=json.dumps({**state, "params": old_params}))
    booster.save_model(str(tmp_path / "old.json"))
    loaded = load_model(tmp_path / "old.json")
    assert loaded.booster_type_ == "gbtree" and loaded.standardization_ is None
    margin = booster.inplace_predict(X, predict_type="margin").astype(np.float64)
    np.testing.assert_allclose(
        loaded.predict_proba(X)[:, 1], 1 / (1 + np.exp(-(0.9 * margin - 0.1)))
    )


def test_a_linear_model_without_its_standardization_is_refused(tmp_path: Path) -> None:
    import json

    X, y = _data()
    model = ConvictionModel(booster="gblinear").fit(X, y, feature_names=NAMES)
    path = save_model(model, tmp_path / "model.json")
    saved = json.loads(path.read_text())
    attributes = saved["learner"]["attributes"]
    state = json.loads(attributes["roostr"])
    state["standardization"] = None
    attributes["roostr"] = json.dumps(state)
    path.write_text(json.dumps(saved))
    with pytest.raises(ModelError, match="inconsistent"):
        load_model(path)
