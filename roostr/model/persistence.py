"""A model on disk: one XGBoost JSON or UBJSON file, never pickle.

A pickle runs code on load and breaks across library versions. Everything the wrapper adds —
feature-set version, model version, calibration, standardisation, parameters — travels inside
the booster's string attributes, so one file is the whole model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb
from sklearn.utils.validation import check_is_fitted

from roostr.errors import ModelError
from roostr.features import FEATURE_NAMES
from roostr.model.estimator import ConvictionModel
from roostr.rules import RULE_SETS

__all__ = ["MODEL_SUFFIXES", "load_model", "save_model"]

MODEL_SUFFIXES = (".json", ".ubj")
_ATTR = "roostr"  # booster attribute holding the wrapper's own state as JSON
# What a model saved before a parameter existed was trained with (not today's default).
_LEGACY_PARAMS: dict[str, Any] = {
    "rule_input": None,
    "linear_l1_rows": (),
    "spread_priors": False,
    "excluded_features": (),
}


def save_model(model: ConvictionModel, path: Path | str) -> Path:
    """Write ``model`` as XGBoost JSON (``.json``) or UBJSON (``.ubj``); returns the path."""
    target = _model_file(path)
    check_is_fitted(model, "booster_")
    booster: xgb.Booster = model.booster_
    booster.set_attr(
        **{
            _ATTR: json.dumps(
                {
                    "version": model.version,
                    "feature_set_version": model.feature_set_version,
                    "calibration": model.calibration_,
                    "standardization": model.standardization_,
                    "rule_input": model.rule_input_,
                    "candidate": model.candidate_,
                    "params": model.get_params(),
                }
            )
        }
    )
    booster.save_model(str(target))
    return target


def load_model(path: Path | str) -> ConvictionModel:
    """Read a model written by ``save_model``; raises ModelError if it is not one."""
    source = _model_file(path)
    booster = xgb.Booster()
    try:
        booster.load_model(str(source))
    except xgb.core.XGBoostError as exc:
        raise ModelError(f"cannot read model {source}: {exc}") from exc
    state_json = booster.attr(_ATTR)
    if state_json is None or not booster.feature_names:
        raise ModelError(f"{source} is an XGBoost model but not a roostr ConvictionModel")
    state = json.loads(state_json)
    # models saved before the linear booster existed lack its state: they are tree models;
    # models saved before the rule input or L1 existed were trained without them
    params = {**_LEGACY_PARAMS, **state["params"]}
    for name in ("linear_l1_rows", "excluded_features"):
        params[name] = tuple(params[name])  # JSON made it a list
    model = ConvictionModel(**params)
    model.standardization_ = state.get("standardization")
    model.booster_type_ = json.loads(booster.save_config())["learner"]["gradient_booster"]["name"]
    model.candidate_ = state.get("candidate", model.booster_type_)
    if (model.booster_type_ == "gblinear") != (model.standardization_ is not None):
        raise ModelError(f"{source} is a {model.booster_type_} model with inconsistent state")
    model.rule_input_ = state.get("rule_input")
    inputs = tuple(booster.feature_names)
    names = inputs if model.rule_input_ is None else inputs[:-1]
    model.feature_names_in_ = np.array(names, dtype=object)
    if model.rule_input_ is not None and (
        model.rule_input_ not in RULE_SETS or names != FEATURE_NAMES or inputs != model.input_names
    ):
        raise ModelError(f"{source} has a rule input this code cannot compute from its inputs")
    model.booster_ = booster
    model.booster_.set_param({"nthread": model.n_jobs})
    model.version = state["version"]
    model.feature_set_version_ = state["feature_set_version"]
    model.n_features_in_ = len(names)
    model.classes_ = np.array([0, 1])
    model.calibration_ = state["calibration"]
    model.n_rounds_ = booster.num_boosted_rounds()
    return model


def _model_file(path: Path | str) -> Path:
    file = Path(path)
    if file.suffix not in MODEL_SUFFIXES:
        raise ModelError(f"model files are {' or '.join(MODEL_SUFFIXES)}, not {file.name}")
    return file
