"""Train a ConvictionModel on time-ordered labelled rows and measure it on a later time slice.

1. Hold out the last ``test_fraction`` of rows in time; training keeps only rows whose 30-day
   horizon ended before the hold-out starts (``training.cv``).
2. Purged, expanding-window CV on the training part picks the number of boosting rounds: every
   fold trains ``max_rounds`` and records the test log-loss per round; the round that minimises
   the fold-size-weighted mean curve wins (early stopping on the CV metric itself, with no
   shuffling: XGBoost's own ``cv`` would shuffle rows across time).
3. The final model trains on the whole training part with that many rounds. Its probability is
   calibrated on the folds' out-of-fold margins: Platt below ~1,000 rows, isotonic above.
   No class re-weighting (it would bias every probability); ``max_delta_step`` bounds the
   updates instead, as XGBoost suggests for imbalanced data when probabilities matter.
4. The hold-out slice measures the model, the rules and a constant base-rate baseline.

The registered model is the one evaluated: it never saw the hold-out rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import xgboost as xgb

from roostr.features import FEATURE_NAMES, FEATURE_SET_VERSION
from roostr.model import ConvictionModel
from training.cv import purged_time_folds, time_holdout
from training.metrics import calibration_table, evaluate_probabilities, evaluate_scores

__all__ = ["MONOTONE_INCREASING", "TrainingError", "TrainingResult", "fingerprint", "train"]

# The methodology fixes these directions: Dan's endorsement and a caller's track record never
# lower P. Looked up by name; a feature absent from the set is skipped.
MONOTONE_INCREASING = ("dan_endorsed", "source_hit_rate", "author_hit_rate")
ISOTONIC_MIN_ROWS = 1_000
MIN_FOLD_TRAIN_ROWS = 50


class TrainingError(RuntimeError):
    """The data cannot support a trustworthy model (too few rows, one class, no history)."""


@dataclass
class TrainingResult:
    """The fitted model, its metrics (JSON-ready) and the hold-out arrays behind the plots."""

    model: ConvictionModel
    metrics: dict[str, Any]
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
    max_rounds: int = 300,
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
    folds = purged_time_folds(times[train_idx], n_folds)
    # A fold trained on a few dozen rows says nothing about how many rounds the full set needs.
    folds = [
        (tr, te)
        for tr, te in folds
        if tr.size >= MIN_FOLD_TRAIN_ROWS and len(np.unique(y_train[tr])) == 2
    ]
    if not folds:
        raise TrainingError("history too short for purged cross-validation (need > 30 days)")

    constraints = {name: 1 for name in MONOTONE_INCREASING if name in feature_names}
    template = ConvictionModel(
        **{"monotone_constraints": constraints, "random_state": seed, **(params or {})}
    )
    best_rounds, cv_metrics, oof_margin, oof_y = _cross_validate(
        template, X_train, y_train, folds, feature_names, max_rounds
    )
    model_params = template.get_params() | {
        "n_estimators": best_rounds,
        "calibration": "platt" if oof_y.size < ISOTONIC_MIN_ROWS else "isotonic",
    }
    model = ConvictionModel(**model_params).fit(
        X_train, y_train, feature_names=feature_names, feature_set_version=feature_set_version
    )
    model.fit_calibration(oof_margin, oof_y)

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
        "best_rounds": best_rounds,
        "calibration": model.calibration,
        "monotone_increasing": sorted(constraints),
        "cv": cv_metrics,
        "test": evaluate_probabilities(y_test, p_test),
        # rows without a logged rule score (0) cannot be compared with the rules
        "test_rules": evaluate_scores(y_test[rule_test > 0], rule_test[rule_test > 0]),
        "test_constant_baseline": evaluate_probabilities(y_test, np.full(y_test.size, base_rate)),
        "calibration_table": calibration_table(y_test, p_test),
        "top_features": [
            {"feature": name, "total_gain": gain} for name, gain in list(importance.items())[:10]
        ],
    }
    return TrainingResult(model, metrics, y_test, p_test, rule_test, importance)


def _cross_validate(
    template: ConvictionModel,
    X: npt.NDArray[np.float32],
    y: npt.NDArray[np.int64],
    folds: list[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]],
    feature_names: Sequence[str],
    max_rounds: int,
) -> tuple[int, dict[str, Any], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Best round count, CV metrics at it, and the out-of-fold margins/labels for calibration."""
    params = template.xgb_params(feature_names)
    names = list(feature_names)
    curves, boosters, tests = [], [], []
    for train_idx, test_idx in folds:
        dtrain = xgb.DMatrix(X[train_idx], label=y[train_idx], feature_names=names)
        dtest = xgb.DMatrix(X[test_idx], label=y[test_idx], feature_names=names)
        history: dict[str, Any] = {}
        booster = xgb.train(
            params,
            dtrain,
            num_boost_round=max_rounds,
            evals=[(dtest, "test")],
            evals_result=history,
            verbose_eval=False,
        )
        curves.append(history["test"]["logloss"])
        boosters.append(booster)
        tests.append((dtest, test_idx))
    sizes = [test_idx.size for _, test_idx in folds]
    mean_curve = np.average(np.array(curves), axis=0, weights=sizes)
    best_rounds = int(np.argmin(mean_curve)) + 1
    margins = [
        booster.predict(dtest, output_margin=True, iteration_range=(0, best_rounds))
        for booster, (dtest, _) in zip(boosters, tests, strict=True)
    ]
    oof_margin = np.concatenate(margins).astype(np.float64)
    oof_y = np.concatenate([y[test_idx] for _, test_idx in tests])
    oof_metrics = evaluate_probabilities(oof_y, 1.0 / (1.0 + np.exp(-oof_margin)))
    cv_metrics = {
        "folds": len(folds),
        "logloss": float(mean_curve[best_rounds - 1]),
        "logloss_at_round_1": float(mean_curve[0]),
        "oof_auc": oof_metrics["auc"],
        "oof_brier_uncalibrated": oof_metrics["brier"],
        "fold_sizes": [{"train": int(tr.size), "test": int(te.size)} for tr, te in folds],
    }
    return best_rounds, cv_metrics, oof_margin, oof_y
