"""ConvictionModel picks its booster from its own time-ordered out-of-fold predictions: the
linear booster when the signal is additive, trees when an interaction carries it, and the linear
booster keeps monotone constraints, persists as XGBoost JSON and explains itself."""

from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from roostr.model import ConvictionModel, load_model, save_model
from roostr.model.candidates import Spec

NAMES = tuple(f"f{i}" for i in range(6))


def _additive(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, len(NAMES))).astype(np.float32)
    X[:, 3] *= 1_000.0  # scales far apart: the linear booster must standardise
    logit = 1.2 * X[:, 0] - 0.8 * X[:, 1] + 0.001 * X[:, 3] - 1.0
    X[rng.random(X.shape) < 0.1] = np.nan
    return X, (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)


def _interaction(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, len(NAMES))).astype(np.float32)
    logit = 3.0 * np.sign(X[:, 0] * X[:, 1])  # XOR: no linear signal at all
    return X, (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)


def test_additive_signal_on_few_rows_gets_the_linear_booster() -> None:
    X, y = _additive(300, seed=0)
    model = ConvictionModel().fit(X, y, feature_names=NAMES)
    held_X, held_y = _additive(2_000, seed=1)
    assert model.booster_type_ == "gblinear"
    assert set(model.validation_log_loss_) == {
        "gblinear_l1_15",
        "gblinear_l1_5",
        "gblinear",
        "gbtree",
    }  # every candidate was measured
    assert roc_auc_score(held_y, model.predict_proba(held_X)[:, 1]) > 0.75
    assert model.calibration_ is not None


def test_an_interaction_gets_the_tree_booster() -> None:
    X, y = _interaction(1_500, seed=2)
    model = ConvictionModel().fit(X, y, feature_names=NAMES)
    held_X, held_y = _interaction(2_000, seed=3)
    assert model.booster_type_ == "gbtree"
    assert model.validation_log_loss_["gbtree"] < model.validation_log_loss_["gblinear"]
    assert roc_auc_score(held_y, model.predict_proba(held_X)[:, 1]) > 0.8


def test_linear_booster_keeps_a_monotone_constraint_against_the_data() -> None:
    X, y = _additive(400, seed=4)
    model = ConvictionModel(booster="gblinear", monotone_constraints={"f1": 1}).fit(
        X, y, feature_names=NAMES
    )
    grid = np.zeros((41, len(NAMES)), dtype=np.float32)
    grid[:, 1] = np.linspace(-3, 3, 41)
    assert np.all(np.diff(model.predict_proba(grid)[:, 1]) >= 0)
    free = ConvictionModel(booster="gblinear").fit(X, y, feature_names=NAMES)
    assert np.all(np.diff(free.predict_proba(grid)[:, 1]) < 0)  # the data alone says decreasing


def test_linear_model_round_trips_and_explains_with_raw_values(tmp_path: Path) -> None:
    X, y = _additive(400, seed=5)
    model = ConvictionModel(booster="gblinear").fit(
        X, y, feature_names=NAMES, feature_set_version="fs"
    )
    loaded = load_model(save_model(model, tmp_path / "model.ubj"))
    held_X, _ = _additive(50, seed=6)
    np.testing.assert_array_equal(
        loaded.predict_proba(held_X)[:, 1], model.predict_proba(held_X)[:, 1]
    )
    assert loaded.booster_type_ == "gblinear" and loaded.standardization_ is not None
    row = np.array([[2.0, 0.0, 0.0, np.nan, 0.0, 0.0]], dtype=np.float32)
    reasons = loaded.explain(row, top_k=2)[0]
    assert reasons[0].feature == "f0" and reasons[0].value == 2.0
    assert all(r.feature != "f3" for r in reasons)  # missing: no contribution
    assert loaded.feature_importance()["f0"] > loaded.feature_importance().get("f2", 0.0)


def test_a_slice_never_chooses_the_tree_rounds_it_is_scored_with() -> None:
    """Trees stopped early on the very slice that scores them look better than they are (the
    stopping round fits that slice's labels): their out-of-fold margins must not depend on the
    slice's labels at all, like the linear candidates'."""
    X, y = _additive(600, seed=7)
    model = ConvictionModel(min_rounds=1, early_stopping_rounds=10)
    model.rule_input_ = None
    labels = y.astype(np.float32)
    slices = model._validation_slices(labels)
    tree = Spec("gbtree")
    margins = model._out_of_fold(tree, X, labels, NAMES, slices).margin
    start, stop = slices[-1]
    flipped = labels.copy()
    flipped[start:stop] = 1.0 - flipped[start:stop]  # the last slice's labels, inverted
    again = model._out_of_fold(tree, X, flipped, NAMES, slices).margin
    np.testing.assert_array_equal(again, margins)
