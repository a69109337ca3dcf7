"""The model's serving arithmetic gives XGBoost's own numbers, bit for bit.

Serving skips XGBoost's per-call DMatrix (a linear booster is computed from its arrays, trees
are predicted in place): the margins, probabilities and contributions must still be exactly
what ``Booster.predict`` returns on the same rows, missing values included, for both boosters,
and the same whether rows come one at a time or as a batch.
"""

from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb

from roostr.model import ConvictionModel
from roostr.model.linear import standardize


def _data(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 12)).astype(np.float32) * rng.uniform(0.1, 50, 12).astype(np.float32)
    y = (X[:, 0] / 50 + X[:, 1] * X[:, 2] / 100 + rng.normal(size=rows) > 0).astype(np.float32)
    X[rng.random(X.shape) < 0.2] = np.nan
    return X, y


@pytest.mark.parametrize("booster", ["gblinear", "gbtree"])
def test_margins_and_contributions_equal_xgboost_predict(booster: str) -> None:
    X, y = _data(600, seed=1)
    model = ConvictionModel(booster=booster, n_estimators=40, min_rounds=10).fit(X, y)
    assert model.booster_type_ == booster
    rows, _ = _data(2_000, seed=2)
    inputs = rows if model.standardization_ is None else standardize(rows, model.standardization_)
    dmatrix = xgb.DMatrix(inputs, feature_names=list(model.feature_names))
    expected_margin = model.booster_.predict(dmatrix, output_margin=True)
    expected_contribs = model.booster_.predict(dmatrix, pred_contribs=True, approx_contribs=True)

    margin = model.decision_function(rows)
    assert margin.dtype == np.float32
    np.testing.assert_array_equal(margin, expected_margin)
    np.testing.assert_array_equal(model.contributions(rows), expected_contribs[:, :-1])
    one_by_one = np.concatenate([model.decision_function(rows[i : i + 1]) for i in range(50)])
    np.testing.assert_array_equal(one_by_one, expected_margin[:50])


def test_a_refit_model_serves_its_new_booster() -> None:
    X, y = _data(600, seed=3)
    model = ConvictionModel(booster="gblinear").fit(X, y)
    before = model.decision_function(X[:20])
    model.fit(X, 1 - y)  # the opposite labels: the weights change sign
    standardised = standardize(X[:20], model.standardization_)
    after = model.booster_.predict(
        xgb.DMatrix(standardised, feature_names=list(model.feature_names)), output_margin=True
    )
    np.testing.assert_array_equal(model.decision_function(X[:20]), after)
    assert not np.array_equal(before, after)
