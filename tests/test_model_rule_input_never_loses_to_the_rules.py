"""The model computes the rule score from X itself and uses it as one more input: on data where
the rules are informative it ranks at least as well as the rules alone and better than without
the input, serves what XGBoost predicts, explains and round-trips, and stays a clone-able
estimator. Serving passes only X."""

from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from roostr.features import FEATURE_NAMES, FEATURE_SET_VERSION
from roostr.model import ConvictionModel, load_model, save_model
from roostr.model.linear import standardize
from roostr.rules import RULE_SETS
from training.datasets import bootstrap_set
from training.trainer import fit_model

RULE_COLUMN = "rule_score:green_flags_v1"
TRAIN_ROWS = 900


@pytest.fixture(scope="module")
def rows() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Signals in time order whose win odds follow the rule score, plus liquidity (which the
    rules ignore), plus noise: the rules are informative but not everything."""
    X = bootstrap_set(1_400, seed=11).X
    rng = np.random.default_rng(11)
    rule = RULE_SETS["green_flags_v1"].score(X)
    liquidity = np.nan_to_num(X[:, FEATURE_NAMES.index("log_liquidity")] - 12.0) / 2.0
    logit = 0.35 * (rule - 5.5) + 0.5 * liquidity - 0.6
    y = (rng.random(rule.size) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y, rule


@pytest.fixture(scope="module")
def model(rows: tuple[np.ndarray, np.ndarray, np.ndarray]) -> ConvictionModel:
    X, y, _ = rows
    return fit_model(X[:TRAIN_ROWS], y[:TRAIN_ROWS], seed=3)


def test_ranks_later_rows_at_least_as_well_as_the_rules_and_better_than_without(
    rows: tuple[np.ndarray, np.ndarray, np.ndarray], model: ConvictionModel
) -> None:
    X, y, rule = rows
    later_X, later_y = X[TRAIN_ROWS:], y[TRAIN_ROWS:]
    without = fit_model(X[:TRAIN_ROWS], y[:TRAIN_ROWS], seed=3, params={"rule_input": None})
    assert model.rule_input_ == "green_flags_v1" and without.rule_input_ is None
    auc = roc_auc_score(later_y, model.predict_proba(later_X)[:, 1])
    assert auc >= roc_auc_score(later_y, rule[TRAIN_ROWS:])
    assert auc > roc_auc_score(later_y, without.predict_proba(later_X)[:, 1])


def test_the_rule_input_is_constrained_increasing_even_against_the_data(
    rows: tuple[np.ndarray, np.ndarray, np.ndarray], model: ConvictionModel
) -> None:
    X, y, _ = rows
    assert model.feature_importance().get(RULE_COLUMN, 0.0) > 0.0  # the model leans on it
    flipped = ConvictionModel(booster="gblinear").fit(
        X[:TRAIN_ROWS], 1 - y[:TRAIN_ROWS], feature_names=FEATURE_NAMES
    )
    assert RULE_COLUMN not in flipped.feature_importance()  # pinned at weight 0, not negative
    assert np.all(flipped.contributions(X)[:, -1] == 0.0)


def test_linear_serving_is_bit_exact_with_the_rule_input(
    rows: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    X, y, _ = rows
    model = ConvictionModel(booster="gblinear").fit(X[:600], y[:600], feature_names=FEATURE_NAMES)
    inputs = np.column_stack([X[600:], RULE_SETS["green_flags_v1"].score(X[600:])])
    dmatrix = xgb.DMatrix(
        standardize(inputs.astype(np.float32), model.standardization_),
        feature_names=list(model.input_names),
    )
    expected = model.booster_.predict(dmatrix, output_margin=True)
    np.testing.assert_array_equal(model.decision_function(X[600:]), expected)
    expected_contribs = model.booster_.predict(dmatrix, pred_contribs=True)[:, :-1]
    np.testing.assert_array_equal(model.contributions(X[600:]), expected_contribs)


@pytest.mark.parametrize("suffix", [".json", ".ubj"])
def test_round_trip_keeps_the_rule_input_and_the_predictions(
    rows: tuple[np.ndarray, np.ndarray, np.ndarray],
    model: ConvictionModel,
    tmp_path: Path,
    suffix: str,
) -> None:
    X, _, _ = rows
    loaded = load_model(save_model(model, tmp_path / f"model{suffix}"))
    np.testing.assert_array_equal(loaded.predict_proba(X)[:, 1], model.predict_proba(X)[:, 1])
    assert loaded.rule_input_ == "green_flags_v1" and loaded.candidate_ == model.candidate_
    assert loaded.feature_names == FEATURE_NAMES and loaded.n_features_in_ == len(FEATURE_NAMES)
    assert loaded.input_names == (*FEATURE_NAMES, RULE_COLUMN)
    assert loaded.feature_set_version == FEATURE_SET_VERSION
    assert loaded.get_params() == model.get_params()
    assert loaded.reason_rows(X[:20]) == model.reason_rows(X[:20])


def test_a_rule_score_reason_carries_the_score_as_its_value(
    rows: tuple[np.ndarray, np.ndarray, np.ndarray], model: ConvictionModel
) -> None:
    X, _, rule = rows
    reasons = model.explain(X[:200], top_k=len(model.input_names))
    found = [(i, r) for i, row in enumerate(reasons) for r in row if r.feature == RULE_COLUMN]
    assert found
    assert all(r.value == rule[i] for i, r in found)


def test_clone_and_params_carry_the_new_parameters(model: ConvictionModel) -> None:
    params = model.get_params(deep=True)
    assert params["rule_input"] == "green_flags_v1" and params["linear_l1_rows"] == (5.0, 15.0)
    twin = clone(ConvictionModel(rule_input=None, linear_l1_rows=(2.0,)))
    assert twin.get_params()["rule_input"] is None and twin.linear_l1_rows == (2.0,)
    assert not hasattr(clone(model), "rule_input_")


def test_an_unknown_rule_set_is_refused(rows: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    from roostr.model import ModelError

    X, y, _ = rows
    with pytest.raises(ModelError, match="unknown rule set"):
        ConvictionModel(rule_input="no_such_rules").fit(X, y, feature_names=FEATURE_NAMES)
