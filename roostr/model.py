"""ConvictionModel: XGBoost's estimate of P(signal reaches 2× entry within 30 days).

Shaped like a scikit-learn estimator (parameters in ``__init__``, ``fit``, ``predict_proba``,
learned state ending in ``_``) but holding a bare ``xgboost.Booster``, because serving uses
``Booster.inplace_predict`` (no DMatrix, no pandas) to stay well under a millisecond per batch.

Persistence is XGBoost's own JSON or UBJSON only (never pickle: a pickle runs code on load and
breaks across library versions). Everything the wrapper adds — feature-set version, model version,
calibration, parameters — travels inside the booster's string attributes, so one file is the
whole model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import xgboost as xgb

from roostr.contracts import Reason

__all__ = ["MODEL_SUFFIXES", "Calibration", "ConvictionModel", "ModelError"]

MODEL_SUFFIXES = (".json", ".ubj")
Calibration = Literal["none", "platt", "isotonic"]
_ATTR = "roostr"  # booster attribute holding the wrapper's own state as JSON


class ModelError(RuntimeError):
    """The model cannot be trained, loaded or applied as asked."""


class ConvictionModel:
    """Binary XGBoost classifier plus optional calibration of its margin into a probability.

    ``calibration`` picks how ``fit_calibration`` maps raw log-odds to probability: ``platt``
    (a sigmoid, two numbers: right for small data) or ``isotonic`` (a monotone step function
    interpolated linearly: needs ~1,000+ rows). Both are monotone, so monotone constraints on
    features survive calibration.
    """

    def __init__(
        self,
        *,
        n_estimators: int = 200,
        max_depth: int = 2,
        learning_rate: float = 0.1,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        min_child_weight: float = 2.0,
        reg_lambda: float = 1.0,
        max_delta_step: float = 1.0,
        monotone_constraints: Mapping[str, int] | None = None,
        calibration: Calibration = "none",
        n_jobs: int = 1,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.reg_lambda = reg_lambda
        # XGBoost's advice for imbalanced data when calibrated probabilities matter: cap the step
        # instead of re-weighting classes (which would bias every probability upward).
        self.max_delta_step = max_delta_step
        self.monotone_constraints = dict(monotone_constraints or {})
        self.calibration = calibration
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.version: str | None = None
        self.feature_names: tuple[str, ...] = ()
        self.feature_set_version: str | None = None
        self.booster_: xgb.Booster | None = None
        self.calibration_: dict[str, Any] | None = None

    # --- parameters ---------------------------------------------------------------------------

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments, JSON-ready (stored in the artifact and registry metadata)."""
        return {
            "n_estimators": self.n_estimators,
            "max_depth": self.max_depth,
            "learning_rate": self.learning_rate,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "min_child_weight": self.min_child_weight,
            "reg_lambda": self.reg_lambda,
            "max_delta_step": self.max_delta_step,
            "monotone_constraints": dict(self.monotone_constraints),
            "calibration": self.calibration,
            "n_jobs": self.n_jobs,
            "random_state": self.random_state,
        }

    def xgb_params(self, feature_names: Sequence[str]) -> dict[str, Any]:
        """The booster parameters for ``xgb.train`` (also used by the training CV loop)."""
        unknown = set(self.monotone_constraints) - set(feature_names)
        if unknown:
            raise ModelError(f"monotone constraints name unknown features: {sorted(unknown)}")
        params: dict[str, Any] = {
            "objective": "binary:logistic",
            "eval_metric": "logloss",
            "tree_method": "hist",
            "max_depth": self.max_depth,
            "eta": self.learning_rate,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "min_child_weight": self.min_child_weight,
            "lambda": self.reg_lambda,
            "max_delta_step": self.max_delta_step,
            "nthread": self.n_jobs,
            "seed": self.random_state,
        }
        if self.monotone_constraints:
            params["monotone_constraints"] = (
                "("
                + ",".join(str(self.monotone_constraints.get(n, 0)) for n in feature_names)
                + ")"
            )
        return params

    # --- learning -----------------------------------------------------------------------------

    def fit(
        self,
        X: npt.ArrayLike,
        y: npt.ArrayLike,
        *,
        feature_names: Sequence[str],
        feature_set_version: str,
    ) -> ConvictionModel:
        """Train ``n_estimators`` rounds on all of ``X`` (NaN = missing); drops any calibration."""
        matrix = _as_matrix(X, len(feature_names))
        labels = np.asarray(y, dtype=np.float32)
        if matrix.shape[0] != labels.shape[0]:
            raise ModelError(f"{matrix.shape[0]} rows but {labels.shape[0]} labels")
        if len(np.unique(labels)) < 2:
            raise ModelError("training labels hold a single class; nothing to learn")
        dtrain = xgb.DMatrix(matrix, label=labels, feature_names=list(feature_names))
        self.booster_ = xgb.train(
            self.xgb_params(feature_names), dtrain, num_boost_round=self.n_estimators
        )
        self.feature_names = tuple(feature_names)
        self.feature_set_version = feature_set_version
        self.calibration_ = None
        return self

    def fit_calibration(self, margin: npt.ArrayLike, y: npt.ArrayLike) -> ConvictionModel:
        """Learn ``self.calibration`` from out-of-sample margins (log-odds) and their labels.

        Margins must come from models that did not see those rows (e.g. cross-validation folds);
        in-sample margins would teach the calibrator the model's overconfidence.
        """
        m = np.asarray(margin, dtype=np.float64).ravel()
        labels = np.asarray(y, dtype=np.float64).ravel()
        if self.calibration == "none":
            self.calibration_ = None
        elif self.calibration == "platt":
            from sklearn.linear_model import LogisticRegression

            fitted = LogisticRegression(C=1e6).fit(m.reshape(-1, 1), labels)
            self.calibration_ = {
                "method": "platt",
                "a": float(fitted.coef_[0, 0]),
                "b": float(fitted.intercept_[0]),
            }
        else:
            from sklearn.isotonic import IsotonicRegression

            fitted = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(m, labels)
            self.calibration_ = {
                "method": "isotonic",
                "x": fitted.X_thresholds_.tolist(),
                "y": fitted.y_thresholds_.tolist(),
            }
        return self

    # --- prediction ---------------------------------------------------------------------------

    def decision_function(self, X: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Raw log-odds per row (before calibration)."""
        booster = self._fitted()
        matrix = _as_matrix(X, len(self.feature_names))
        return booster.inplace_predict(matrix, predict_type="margin")

    def predict_proba(self, X: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """P(2× within 30 days) per row, shape (n,) — calibrated when a calibration was fitted."""
        margin = self.decision_function(X).astype(np.float64)
        calibration = self.calibration_
        if calibration is None:
            return _sigmoid(margin)
        if calibration["method"] == "platt":
            return _sigmoid(calibration["a"] * margin + calibration["b"])
        return np.interp(margin, calibration["x"], calibration["y"])

    def contributions(self, X: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Per-feature log-odds contributions, shape (n, features); the bias column is dropped.

        Uses ``approx_contribs=True`` (Saabas: each split's gain credited to its feature along the
        decision path). Exact TreeSHAP is ~20× slower and serving asks for reasons on every
        signal; the approximation ranks the top few features the same way in practice. The
        values are in the raw model's log-odds, before calibration.
        """
        booster = self._fitted()
        matrix = _as_matrix(X, len(self.feature_names))
        dmatrix = xgb.DMatrix(matrix, feature_names=list(self.feature_names), nthread=self.n_jobs)
        return booster.predict(dmatrix, pred_contribs=True, approx_contribs=True)[:, :-1]

    def explain(self, X: npt.ArrayLike, top_k: int = 3) -> list[list[Reason]]:
        """The ``top_k`` features with the largest absolute contribution, per row, largest first.

        Features whose contribution is exactly zero (unused by every tree on the path) are left
        out, so a row may get fewer than ``top_k`` reasons.
        """
        self._fitted()
        matrix = _as_matrix(X, len(self.feature_names))
        contribs = self.contributions(matrix)
        if contribs.shape[0] == 0 or top_k <= 0:
            return [[] for _ in range(contribs.shape[0])]
        k = min(top_k, contribs.shape[1])
        magnitude = np.abs(contribs)
        top = np.argpartition(-magnitude, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(magnitude, top, axis=1), axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        top_contrib = np.take_along_axis(contribs, top, axis=1).tolist()
        top_values = np.take_along_axis(matrix, top, axis=1)
        values = np.where(np.isnan(top_values), None, top_values).tolist()
        names = self.feature_names
        # model_construct: names, floats and None straight from the arrays above; validating
        # three Reasons per signal would cost more than computing them (hot path).
        return [
            [
                Reason.model_construct(feature=names[j], value=v, contribution=c)
                for j, v, c in zip(idx, vals, cons, strict=True)
                if c != 0.0
            ]
            for idx, vals, cons in zip(top.tolist(), values, top_contrib, strict=True)
        ]

    def feature_importance(self) -> dict[str, float]:
        """Total gain per feature (features never split on are absent)."""
        return dict(self._fitted().get_score(importance_type="total_gain"))

    # --- persistence --------------------------------------------------------------------------

    def save(self, path: Path | str) -> Path:
        """Write the model as XGBoost JSON (``.json``) or UBJSON (``.ubj``); returns the path."""
        target = Path(path)
        if target.suffix not in MODEL_SUFFIXES:
            raise ModelError(f"model files are {' or '.join(MODEL_SUFFIXES)}, not {target.name}")
        booster = self._fitted()
        booster.set_attr(
            **{
                _ATTR: json.dumps(
                    {
                        "version": self.version,
                        "feature_set_version": self.feature_set_version,
                        "calibration": self.calibration_,
                        "params": self.get_params(),
                    }
                )
            }
        )
        booster.save_model(str(target))
        return target

    @classmethod
    def load(cls, path: Path | str) -> ConvictionModel:
        """Read a model written by ``save``; raises ModelError if it is not one."""
        source = Path(path)
        if source.suffix not in MODEL_SUFFIXES:
            raise ModelError(f"model files are {' or '.join(MODEL_SUFFIXES)}, not {source.name}")
        booster = xgb.Booster()
        try:
            booster.load_model(str(source))
        except xgb.core.XGBoostError as exc:
            raise ModelError(f"cannot read model {source}: {exc}") from exc
        state_json = booster.attr(_ATTR)
        if state_json is None or not booster.feature_names:
            raise ModelError(f"{source} is an XGBoost model but not a roostr ConvictionModel")
        state = json.loads(state_json)
        model = cls(**state["params"])
        model.booster_ = booster
        model.booster_.set_param({"nthread": model.n_jobs})
        model.version = state["version"]
        model.feature_set_version = state["feature_set_version"]
        model.feature_names = tuple(booster.feature_names)
        model.calibration_ = state["calibration"]
        return model

    def _fitted(self) -> xgb.Booster:
        if self.booster_ is None:
            raise ModelError("model is not fitted")
        return self.booster_


def _as_matrix(X: npt.ArrayLike, n_features: int) -> npt.NDArray[np.float32]:
    """C-contiguous float32 (what XGBoost predicts from without a copy), shape-checked."""
    matrix = np.ascontiguousarray(X, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[1] != n_features:
        raise ModelError(f"expected a (rows, {n_features}) matrix, got shape {matrix.shape}")
    return matrix


def _sigmoid(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp(-x))
