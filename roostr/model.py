"""ConvictionModel: XGBoost's estimate of P(signal reaches 2× entry within 30 days).

A scikit-learn estimator (parameters in ``__init__``, learned state ending in ``_`` set by
``fit``, clone-able) holding a bare ``xgboost.Booster``, because serving uses
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
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.isotonic import IsotonicRegression

from roostr.contracts import Reason

__all__ = ["MODEL_SUFFIXES", "Calibration", "ConvictionModel", "ModelError"]

MODEL_SUFFIXES = (".json", ".ubj")
Calibration = Literal["auto", "none", "platt", "isotonic"]
ISOTONIC_MIN_ROWS = 1_000  # below this many validation rows a step function overfits
PLATT_PRIOR_ROWS = 10.0  # weight of the Platt prior, in rows (see ``_platt``)
MIN_VALIDATION_ROWS = 20  # fewer held-out rows cannot choose a round count or calibrate
_ATTR = "roostr"  # booster attribute holding the wrapper's own state as JSON


class ModelError(RuntimeError):
    """The model cannot be trained, loaded or applied as asked."""


class ConvictionModel(ClassifierMixin, BaseEstimator):
    """Binary XGBoost classifier that picks its own round count and calibrates itself in time.

    A scikit-learn estimator: every parameter is an ``__init__`` argument, ``fit`` learns
    everything (attributes ending in ``_``), so ``sklearn.clone`` and ``cross_validate`` work and
    what is cross-validated is what ships. ``fit`` expects rows in time order (oldest first):

    1. the last ``validation_fraction`` of the rows is held out in time;
    2. boosting on the earlier rows stops once the held-out log-loss has not improved for
       ``early_stopping_rounds`` rounds; the round count is the best one, but never fewer than
       ``min_rounds`` (a near-flat loss curve on a small validation slice must not collapse the
       model into one tree and one score bucket);
    3. the held-out margins calibrate the probability (``calibration``: ``platt``, a sigmoid of
       two numbers, right for small data; ``isotonic``, a monotone step function for 1,000+
       validation rows; ``auto`` picks by that size; ``none``);
    4. with ``refit`` the booster is retrained on all rows with that round count, so the most
       recent rows (usually the most informative) are not wasted.

    ``validation_fraction=0`` trains ``n_estimators`` rounds on everything, uncalibrated. Both
    calibrations are monotone, so monotone constraints on features survive them.

    ``predict_proba`` returns P(win) with shape ``(n,)``, not scikit-learn's ``(n, 2)``: the
    serving path (``roostr.scoring``) reads it so. Ranking scorers (``roc_auc``) go through
    ``decision_function``, as scikit-learn prefers for binary classifiers.
    """

    version: str | None = None  # set by the registry when registered or loaded; not learned

    def __init__(
        self,
        *,
        n_estimators: int = 600,
        max_depth: int = 3,
        learning_rate: float = 0.05,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        min_child_weight: float = 3.0,
        reg_lambda: float = 1.0,
        max_delta_step: float = 0.0,
        monotone_constraints: Mapping[str, int] | None = None,
        validation_fraction: float = 0.2,
        early_stopping_rounds: int = 50,
        min_rounds: int = 100,
        calibration: Calibration = "auto",
        refit: bool = True,
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
        self.max_delta_step = max_delta_step
        self.monotone_constraints = monotone_constraints
        self.validation_fraction = validation_fraction
        self.early_stopping_rounds = early_stopping_rounds
        self.min_rounds = min_rounds
        self.calibration = calibration
        self.refit = refit
        self.n_jobs = n_jobs
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # NaN = missing; XGBoost learns where to send it
        return tags

    # --- fitted views (what the registry and the scorer read) ----------------------------------

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Feature names in column order; empty before ``fit``."""
        names = getattr(self, "feature_names_in_", None)
        return () if names is None else tuple(str(n) for n in names)

    @property
    def feature_set_version(self) -> str | None:
        """The feature-set version the model was fitted on (None before ``fit``)."""
        return getattr(self, "feature_set_version_", None)

    # --- learning -----------------------------------------------------------------------------

    def fit(
        self,
        X: npt.ArrayLike,
        y: npt.ArrayLike,
        *,
        feature_names: Sequence[str] | None = None,
        feature_set_version: str | None = None,
    ) -> ConvictionModel:
        """Steps 1–4 of the class docstring on time-ordered rows (NaN = missing).

        Feature names come from ``feature_names``, else a DataFrame's columns, else ``f0..``.
        """
        names = _names_of(X, feature_names)
        matrix = _as_matrix(X, len(names))
        labels = np.asarray(y, dtype=np.float32).ravel()
        if matrix.shape[0] != labels.shape[0]:
            raise ModelError(f"{matrix.shape[0]} rows but {labels.shape[0]} labels")
        if len(np.unique(labels)) < 2:
            raise ModelError("training labels hold a single class; nothing to learn")
        params = self._xgb_params(names)
        n_val = round(labels.size * self.validation_fraction)
        train_y, val_y = labels[: labels.size - n_val], labels[labels.size - n_val :]
        self.calibration_: dict[str, Any] | None = None
        if n_val >= MIN_VALIDATION_ROWS and _two_classes(train_y) and _two_classes(val_y):
            dtrain = xgb.DMatrix(matrix[:-n_val], label=train_y, feature_names=list(names))
            dval = xgb.DMatrix(matrix[-n_val:], label=val_y, feature_names=list(names))
            booster = xgb.train(
                params,
                dtrain,
                num_boost_round=self.n_estimators,
                evals=[(dval, "validation")],
                early_stopping_rounds=self.early_stopping_rounds,
                verbose_eval=False,
            )
            best = booster.best_iteration + 1
            self.n_rounds_ = int(min(self.n_estimators, max(best, self.min_rounds)))
            self.early_stopping_round_ = int(best)
            missing = self.n_rounds_ - booster.num_boosted_rounds()
            if missing > 0:  # stopped before the floor: boost on to it
                booster = xgb.train(params, dtrain, num_boost_round=missing, xgb_model=booster)
            val_margin = booster.predict(
                dval, output_margin=True, iteration_range=(0, self.n_rounds_)
            )
            self.calibration_ = _fit_calibration(self._calibration_method(n_val), val_margin, val_y)
            if self.refit:
                dall = xgb.DMatrix(matrix, label=labels, feature_names=list(names))
                booster = xgb.train(params, dall, num_boost_round=self.n_rounds_)
            else:
                booster = booster[: self.n_rounds_]
        else:
            dall = xgb.DMatrix(matrix, label=labels, feature_names=list(names))
            booster = xgb.train(params, dall, num_boost_round=self.n_estimators)
            self.n_rounds_ = self.n_estimators
            self.early_stopping_round_ = None
        self.booster_ = booster
        self.classes_ = np.array([0, 1])
        self.feature_names_in_ = np.array(names, dtype=object)
        self.n_features_in_ = len(names)
        self.feature_set_version_ = feature_set_version
        return self

    def fit_calibration(self, margin: npt.ArrayLike, y: npt.ArrayLike) -> ConvictionModel:
        """Re-learn the calibration from out-of-sample margins (log-odds) and their labels.

        Margins must come from rows the booster did not see; in-sample margins would teach the
        calibrator the model's overconfidence.
        """
        self._fitted()
        m = np.asarray(margin, dtype=np.float64).ravel()
        self.calibration_ = _fit_calibration(self._calibration_method(m.size), m, y)
        return self

    def _calibration_method(self, rows: int) -> str:
        if self.calibration == "auto":
            return "platt" if rows < ISOTONIC_MIN_ROWS else "isotonic"
        return self.calibration

    def _xgb_params(self, feature_names: Sequence[str]) -> dict[str, Any]:
        constraints = dict(self.monotone_constraints or {})
        unknown = set(constraints) - set(feature_names)
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
        if constraints:
            params["monotone_constraints"] = (
                "(" + ",".join(str(constraints.get(n, 0)) for n in feature_names) + ")"
            )
        return params

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

    def predict(self, X: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """1 where P(win) ≥ 0.5, else 0."""
        return (self.predict_proba(X) >= 0.5).astype(np.int64)

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
        # model_construct: the values come straight from the model's arrays (see reason_rows).
        return [[Reason.model_construct(**r) for r in row] for row in self.reason_rows(X, top_k)]

    def reason_rows(self, X: npt.ArrayLike, top_k: int = 3) -> list[list[dict[str, Any]]]:
        """``explain`` as JSON-ready dicts in Reason's layout (feature, value, contribution).

        What a scored record carries: the serving path builds these directly, because a
        Reason model per reason cost more than computing it (hot path).
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
        return [
            [
                {"feature": names[j], "value": v, "contribution": c}
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
        model.feature_set_version_ = state["feature_set_version"]
        model.feature_names_in_ = np.array(booster.feature_names, dtype=object)
        model.n_features_in_ = len(booster.feature_names)
        model.classes_ = np.array([0, 1])
        model.calibration_ = state["calibration"]
        model.n_rounds_ = booster.num_boosted_rounds()
        return model

    def _fitted(self) -> xgb.Booster:
        booster: xgb.Booster | None = getattr(self, "booster_", None)
        if booster is None:
            raise ModelError("model is not fitted")
        return booster


def _names_of(X: npt.ArrayLike, feature_names: Sequence[str] | None) -> tuple[str, ...]:
    if feature_names is not None:
        return tuple(feature_names)
    columns = getattr(X, "columns", None)
    if columns is not None:
        return tuple(str(c) for c in columns)
    return tuple(f"f{i}" for i in range(np.shape(X)[1]))


def _two_classes(labels: npt.NDArray[np.float32]) -> bool:
    return len(np.unique(labels)) == 2


def _fit_calibration(method: str, margin: npt.ArrayLike, y: npt.ArrayLike) -> dict[str, Any] | None:
    """The calibration state (JSON-ready) mapping margins to probabilities, by ``method``."""
    m = np.asarray(margin, dtype=np.float64).ravel()
    labels = np.asarray(y, dtype=np.float64).ravel()
    if method == "none":
        return None
    if method == "platt":
        a, b = _platt(m, labels)
        return {"method": "platt", "a": a, "b": b}
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(m, labels)
    return {"method": "isotonic", "x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()}


def _as_matrix(X: npt.ArrayLike, n_features: int) -> npt.NDArray[np.float32]:
    """C-contiguous float32 (what XGBoost predicts from without a copy), shape-checked."""
    matrix = np.ascontiguousarray(X, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[1] != n_features:
        raise ModelError(f"expected a (rows, {n_features}) matrix, got shape {matrix.shape}")
    return matrix


def _sigmoid(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp(-x))


def _platt(margin: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> tuple[float, float]:
    """P = sigmoid(a·margin + b) by maximum likelihood, with a Gaussian prior at (a, b) = (1, 0).

    The prior is "the booster's own probabilities are right", worth ``PLATT_PRIOR_ROWS`` rows:
    on a small validation slice, plain Platt scaling follows its noise (a slope near zero flattens
    every score into one bucket; a negative one inverts the ranking), while on thousands of rows
    the data outweighs the prior. The slope is kept positive so calibration never reorders rows.
    """

    def loss(theta: npt.NDArray[np.float64]) -> tuple[float, npt.NDArray[np.float64]]:
        a, b = theta
        z = a * margin + b
        nll = float(np.sum(np.logaddexp(0.0, z) - y * z))
        residual = _sigmoid(z) - y
        prior = np.array([a - 1.0, b])
        value = nll + 0.5 * PLATT_PRIOR_ROWS * float(prior @ prior)
        gradient = np.array([residual @ margin, residual.sum()]) + PLATT_PRIOR_ROWS * prior
        return value, gradient

    fitted = minimize(
        loss,
        x0=np.array([1.0, 0.0]),
        jac=True,
        method="L-BFGS-B",
        bounds=[(1e-3, None), (None, None)],
    )
    return float(fitted.x[0]), float(fitted.x[1])
