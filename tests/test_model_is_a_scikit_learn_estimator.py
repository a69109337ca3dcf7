"""ConvictionModel behaves as a scikit-learn estimator: clone-able, parameters only in
``__init__``, learned state set by ``fit``, and cross-validated through sklearn as shipped."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import TimeSeriesSplit, cross_val_score
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
)

from roostr.model import ConvictionModel

NAMES = tuple(f"f{i}" for i in range(5))


def _data(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, len(NAMES))).astype(np.float32)
    X[rng.random(X.shape) < 0.1] = np.nan
    logit = 1.5 * np.nan_to_num(X[:, 0]) - np.nan_to_num(X[:, 1]) - 1.0
    return X, (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)


def test_clone_copies_parameters_and_no_fitted_state() -> None:
    X, y = _data()
    model = ConvictionModel(max_depth=2, monotone_constraints={"f0": 1}, random_state=3)
    model.fit(X, y, feature_names=NAMES, feature_set_version="fs")
    twin = clone(model)
    assert twin.get_params(deep=True) == model.get_params(deep=True)
    assert not hasattr(twin, "booster_") and twin.feature_names == ()
    with pytest.raises(NotFittedError):
        twin.predict_proba(X)
    check_no_attributes_set_in_init("ConvictionModel", ConvictionModel())
    check_get_params_invariance("ConvictionModel", ConvictionModel())


def test_fit_sets_learned_attributes_and_keeps_parameters() -> None:
    X, y = _data()
    model = ConvictionModel(n_estimators=300, min_rounds=20)
    before = model.get_params()
    model.fit(pd.DataFrame(X, columns=list(NAMES)), y, feature_set_version="fs")
    assert model.get_params() == before
    assert list(model.feature_names_in_) == list(NAMES) and model.n_features_in_ == 5
    assert model.feature_names == NAMES and model.feature_set_version == "fs"
    assert 20 <= model.n_rounds_ <= 300 and model.booster_.num_boosted_rounds() == model.n_rounds_
    assert model.calibration_ is not None and model.calibration_["method"] == "platt"
    assert list(model.classes_) == [0, 1]
    proba = model.predict_proba(X)  # scikit-learn's layout: one column per class, rows sum to 1
    assert proba.shape == (X.shape[0], 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.predict(X), (proba[:, 1] >= 0.5).astype(int))


def test_cross_validates_through_sklearn() -> None:
    X, y = _data(600)
    scores = cross_val_score(ConvictionModel(), X, y, cv=TimeSeriesSplit(3), scoring="roc_auc")
    assert scores.shape == (3,)
    assert scores.mean() > 0.7  # the signal in f0 and f1 is learned in every fold


def test_a_noisy_validation_slice_never_inverts_or_flattens_the_ranking() -> None:
    # 200 rows: the validation slice holds about 40 rows, too few to trust on its own
    X, y = _data(200, seed=5)
    model = ConvictionModel().fit(X, y)
    held_X, held_y = _data(400, seed=6)
    p = model.predict_proba(held_X)[:, 1]
    assert model.calibration_["a"] > 0
    assert np.unique(np.round(p, 6)).size > 10
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(held_y, p) > 0.7
