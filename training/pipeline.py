"""Train a ConvictionModel on time-ordered labelled rows and measure it on a later time slice.

1. Hold out the last ``test_fraction`` of rows in time; training keeps only rows whose 30-day
   horizon ended before the hold-out starts (``training.cv``).
2. ``fit_model`` fits the estimator on the training rows: inside ``ConvictionModel.fit`` the
   latest of them are predicted slice by slice from the rows before each slice; those
   out-of-fold predictions choose the candidate (the sparsest L1 linear booster unless a less
   regularised one or trees are clearly better), stop tree boosting early (with a floor on the
   rounds) and calibrate the probability, then the chosen booster is refitted on every training
   row. The model adds the ``green_flags_v1`` rule score, which it computes from the features,
   as an input (constrained increasing, like the ``MONOTONE_INCREASING`` features).
   No class re-weighting: it would bias every probability.
3. Purged, expanding-window CV of the same estimator (``sklearn.clone`` per fold) reports how
   stable that procedure is; it chooses nothing, so what is cross-validated is what ships.
4. The hold-out slice measures the model, the rules and a constant base-rate baseline.

The registered model is the one evaluated: it never saw the hold-out rows. The learning
benchmark (``benchmarks/learning_bench.py``) is what the estimator's defaults were chosen by.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.base import clone

from roostr.features import FEATURE_NAMES, FEATURE_SET_VERSION
from roostr.model import ConvictionModel
from training.cv import purged_time_folds, time_holdout
from training.metrics import (
    calibration_table,
    evaluate_probabilities,
    evaluate_scores,
    win_rate_by_score,
)

__all__ = [
    "MONOTONE_INCREASING",
    "TrainingError",
    "TrainingResult",
    "fingerprint",
    "fit_model",
    "template",
    "train",
]

# The methodology fixes these directions: Dan's endorsement and a caller's track record never
# lower P. Looked up by name; a feature absent from the set is skipped.
MONOTONE_INCREASING = ("dan_endorsed", "source_hit_rate", "author_hit_rate")
MIN_FOLD_TRAIN_ROWS = 50


class TrainingError(RuntimeError):
    """The data cannot support a trustworthy model (too few rows, one class, no history)."""


@dataclass
class TrainingResult:
    """The fitted model, its metrics (JSON-ready) and the hold-out arrays behind the plots."""

    model: ConvictionModel
    metrics: dict[str, Any]
    X_test: npt.NDArray[np.float32]
    y_test: npt.NDArray[np.int64]
    p_test: npt.NDArray[np.float64]
    rule_test: npt.NDArray[np.int64]
    importance: dict[str, float] = field(default_factory=dict)


def fingerprint(
    X: npt.NDArray[np.float32], y: npt.ArrayLike, posted_at: npt.ArrayLike, source: str
) -> dict[str, Any]:
    """What the model was trained on, enough to tell two training sets apart."""
    labels = np.asarray(y, dtype=np.int64)
    times = np.asarray(posted_at, dtype="datetime64[us]")
    digest = hashlib.sha256()
    for array in (np.ascontiguousarray(X, dtype=np.float32), labels, times.astype(np.int64)):
        digest.update(array.tobytes())
    return {
        "source": source,
        "rows": int(labels.size),
        "positives": int(labels.sum()),
        "first_posted_at": str(times.min()) if times.size else None,
        "last_posted_at": str(times.max()) if times.size else None,
        "sha256": digest.hexdigest(),
    }


def fit_model(
    X: npt.NDArray[np.float32],
    y: npt.ArrayLike,
    *,
    feature_names: Sequence[str] = FEATURE_NAMES,
    feature_set_version: str = FEATURE_SET_VERSION,
    seed: int = 7,
    params: Mapping[str, Any] | None = None,
) -> ConvictionModel:
    """The one way roostr fits a model: ``train``, ``retrain`` and the benchmark all call this."""
    return template(feature_names, seed, params).fit(
        X, y, feature_names=feature_names, feature_set_version=feature_set_version
    )


def template(
    feature_names: Sequence[str], seed: int, params: Mapping[str, Any] | None = None
) -> ConvictionModel:
    """An unfitted ConvictionModel with roostr's monotone constraints and ``params`` on top."""
    constraints = {name: 1 for name in MONOTONE_INCREASING if name in feature_names}
    return ConvictionModel(
        **{"monotone_constraints": constraints, "random_state": seed, **(params or {})}
    )


def train(
    X: npt.NDArray[np.float32],
    y: npt.ArrayLike,
    posted_at: npt.ArrayLike,
    rule_score: npt.ArrayLike,
    *,
    feature_names: Sequence[str] = FEATURE_NAMES,
    feature_set_version: str = FEATURE_SET_VERSION,
    seed: int = 7,
    n_folds: int = 5,
    test_fraction: float = 0.2,
    params: Mapping[str, Any] | None = None,
) -> TrainingResult:
    """Run steps 1–4 of the module docstring; raises TrainingError when the data cannot."""
    labels = np.asarray(y, dtype=np.int64)
    times = np.asarray(posted_at, dtype="datetime64[us]")
    rules = np.asarray(rule_score, dtype=np.int64)
    matrix = np.ascontiguousarray(X, dtype=np.float32)
    if len(np.unique(labels)) < 2:
        raise TrainingError("labels hold a single class")
    train_idx, test_idx = time_holdout(times, test_fraction)
    if len(np.unique(labels[train_idx])) < 2:
        raise TrainingError(f"only {train_idx.size} purged training rows, not both classes")
    X_train, y_train = matrix[train_idx], labels[train_idx]
    estimator = template(feature_names, seed, params)
    cv_metrics = _cross_validate(
        estimator, X_train, y_train, purged_time_folds(times[train_idx], n_folds), feature_names
    )
    model = fit_model(
        X_train,
        y_train,
        feature_names=feature_names,
        feature_set_version=feature_set_version,
        seed=seed,
        params=params,
    )
    y_test, rule_test = labels[test_idx], rules[test_idx]
    p_test = model.predict_proba(matrix[test_idx])
    base_rate = float(y_train.mean())
    importance = dict(sorted(model.feature_importance().items(), key=lambda kv: -kv[1]))
    metrics = {
        "train_rows": int(train_idx.size),
        "test_rows": int(test_idx.size),
        "purged_rows": int(labels.size - train_idx.size - test_idx.size),
        "test_starts_at": str(times[test_idx].min()),
        "base_rate_train": base_rate,
        "booster": model.booster_type_,
        "candidate": model.candidate_,
        "rule_input": model.rule_input_,
        "validation_log_loss": model.validation_log_loss_,
        "best_rounds": model.n_rounds_,
        "early_stopping_round": model.early_stopping_round_,
        "calibration": (model.calibration_ or {}).get("method", "none"),
        "monotone_increasing": sorted(model.monotone_constraints or {}),
        "cv": cv_metrics,
        "test": evaluate_probabilities(y_test, p_test),
        # rows without a logged rule score (0) cannot be compared with the rules
        "test_rules": evaluate_scores(y_test[rule_test > 0], rule_test[rule_test > 0]),
        "test_rules_by_score": win_rate_by_score(y_test[rule_test > 0], rule_test[rule_test > 0]),
        "test_constant_baseline": evaluate_probabilities(y_test, np.full(y_test.size, base_rate)),
        "calibration_table": calibration_table(y_test, p_test),
        "top_features": [
            {"feature": name, "importance": value} for name, value in list(importance.items())[:10]
        ],
    }
    return TrainingResult(model, metrics, matrix[test_idx], y_test, p_test, rule_test, importance)


def _cross_validate(
    estimator: ConvictionModel,
    X: npt.NDArray[np.float32],
    y: npt.NDArray[np.int64],
    folds: list[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]],
    feature_names: Sequence[str],
) -> dict[str, Any]:
    """Out-of-fold metrics of the estimator over purged time folds (folds too small to fit
    are skipped: a fold trained on a few dozen rows says nothing)."""
    usable = [
        (tr, te)
        for tr, te in folds
        if tr.size >= MIN_FOLD_TRAIN_ROWS and len(np.unique(y[tr])) == 2
    ]
    probabilities, labels, rounds = [], [], []
    for train_idx, test_idx in usable:
        fold_model = clone(estimator).fit(X[train_idx], y[train_idx], feature_names=feature_names)
        probabilities.append(fold_model.predict_proba(X[test_idx]))
        labels.append(y[test_idx])
        rounds.append(fold_model.n_rounds_)
    oof = (
        evaluate_probabilities(np.concatenate(labels), np.concatenate(probabilities))
        if usable
        else {}
    )
    return {
        "folds": len(usable),
        "oof_auc": oof.get("auc"),
        "oof_brier": oof.get("brier"),
        "oof_ece": oof.get("ece"),
        "rounds": rounds,
        "fold_sizes": [{"train": int(tr.size), "test": int(te.size)} for tr, te in usable],
    }
