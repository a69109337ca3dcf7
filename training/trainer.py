"""Train a ConvictionModel on time-ordered labelled rows and measure the procedure walk-forward.

1. The rows are cut into ``n_folds + 1`` stretches of time; each later stretch is predicted by
   the estimator fitted on the rows before it whose 30-day horizon ended before it starts
   (purged, ``training.cv``), as a model retrained on everything known so far and served on the
   next stretch would be; only stretches trained on at least half the latest one's rows count
   (earlier ones would measure a much younger model than the one that ships). These pooled
   out-of-fold predictions are the "test" rows: they measure the model, the rules and a constant
   base-rate baseline, and ``training.retrain`` compares the champion on them. Pooling several
   stretches gives a comparison about twice the rows of one latest hold-out (a 200-row hold-out
   decides a promotion almost at random).
2. ``fit_model`` then fits the estimator on every row, so the most recent outcomes (usually the
   most informative, and a fifth of a young deployment's data) are not left out of the model
   that ships: what is measured is the procedure, and the procedure is what ships. Inside
   ``ConvictionModel.fit`` the latest rows are predicted slice by slice from the rows before
   each slice; those out-of-fold predictions choose the candidate (the sparsest L1 linear
   booster unless a less regularised one or trees are clearly better), stop tree boosting early
   (with a floor on the rounds) and calibrate the probability, then the chosen booster is
   refitted on every row. The model adds the ``green_flags_v1`` rule score, which it computes
   from the features, as an input (constrained increasing, like the ``MONOTONE_INCREASING``
   features). No class re-weighting: it would bias every probability.

The learning benchmark (``benchmarks/learning_bench.py``) is what the estimator's defaults and
this procedure were chosen by.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.base import clone

from roostr.errors import RoostrError
from roostr.features import FEATURE_NAMES, FEATURE_SET_VERSION
from roostr.model import ConvictionModel
from training.cv import Fold, purged_time_folds
from training.predictive_metrics import (
    calibration_table,
    evaluate_probabilities,
    evaluate_scores,
    win_rate_by_score,
)

__all__ = [
    "DEPLOYMENT_CLOCKS",
    "MONOTONE_INCREASING",
    "TrainingError",
    "TrainingResult",
    "fingerprint",
    "fit_model",
    "template",
    "train",
    "usable_folds",
]

# The methodology fixes these directions: Dan's endorsement and a caller's track record never
# lower P. Looked up by name; a feature absent from the set is skipped.
MONOTONE_INCREASING = ("dan_endorsed", "source_hit_rate", "author_hit_rate")
# The deployment's clocks: counts that grow with its age, not with anything about the call. Within
# a training window they rise with time, so a model fits any drift of the win rate onto them and
# extrapolates it past the window (at 16 signals a day the served probabilities of a thousand
# outcomes averaged 0.55 where 0.31 won; training/README.md, "Deployment clocks"). The model
# is fitted without them; they stay features.
DEPLOYMENT_CLOCKS = (
    "source_resolved_signals",
    "author_resolved_signals",
    "hours_since_first_mention",
)
MIN_FOLD_TRAIN_ROWS = 50
# A fold trained on less than this share of the latest fold's rows measures a much younger model
# than the one that ships (fitted on all of them), and would hold a challenger to a handicap.
MIN_FOLD_TRAIN_SHARE = 0.5


class TrainingError(RoostrError):
    """The data cannot support a trustworthy model (too few rows, one class, no history)."""


@dataclass
class TrainingResult:
    """The model fitted on every row, its metrics (JSON-ready), and the walk-forward test rows
    (pooled out-of-fold, in fold order) with their predictions, behind the plots and the
    champion comparison; ``folds`` index the training rows."""

    model: ConvictionModel
    metrics: dict[str, Any]
    X_test: npt.NDArray[np.float32]
    y_test: npt.NDArray[np.int64]
    p_test: npt.NDArray[np.float64]
    rule_test: npt.NDArray[np.int64]
    posted_at_test: npt.NDArray[np.datetime64]
    folds: list[Fold]
    importance: dict[str, float] = field(default_factory=dict)

    @property
    def fold_test(self) -> npt.NDArray[np.int64]:
        """The walk-forward fold of each test row (which model predicted it); all 0 without
        ``folds``."""
        if not self.folds:
            return np.zeros(self.y_test.size, dtype=np.int64)
        return np.repeat(np.arange(len(self.folds)), [test.size for _train, test in self.folds])


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
    """An unfitted ConvictionModel with roostr's monotone constraints and excluded clocks, and
    ``params`` on top."""
    constraints = {name: 1 for name in MONOTONE_INCREASING if name in feature_names}
    clocks = tuple(name for name in DEPLOYMENT_CLOCKS if name in feature_names)
    return ConvictionModel(
        **{
            "monotone_constraints": constraints,
            "excluded_features": clocks,
            "random_state": seed,
            **(params or {}),
        }
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
    n_folds: int = 10,
    params: Mapping[str, Any] | None = None,
) -> TrainingResult:
    """Run steps 1–4 of the module docstring; raises TrainingError when the data cannot."""
    labels = np.asarray(y, dtype=np.int64)
    times = np.asarray(posted_at, dtype="datetime64[us]")
    rules = np.asarray(rule_score, dtype=np.int64)
    matrix = np.ascontiguousarray(X, dtype=np.float32)
    if len(np.unique(labels)) < 2:
        raise TrainingError("labels hold a single class")
    folds = usable_folds(purged_time_folds(times, n_folds), labels)
    if not folds:
        raise TrainingError(
            f"{labels.size} rows leave no walk-forward fold with {MIN_FOLD_TRAIN_ROWS} purged "
            "training rows of both classes"
        )
    estimator = template(feature_names, seed, params)
    test_idx = np.concatenate([test for _train, test in folds])
    p_test = np.concatenate(
        [
            clone(estimator)
            .fit(matrix[train_idx], labels[train_idx], feature_names=feature_names)
            .predict_proba(matrix[test])[:, 1]
            for train_idx, test in folds
        ]
    )
    model = fit_model(
        matrix,
        labels,
        feature_names=feature_names,
        feature_set_version=feature_set_version,
        seed=seed,
        params=params,
    )
    y_test, rule_test = labels[test_idx], rules[test_idx]
    # the constant baseline knows, like the model, only the base rate before each fold
    base = np.concatenate([np.full(te.size, labels[tr].mean()) for tr, te in folds])
    importance = dict(sorted(model.feature_importance().items(), key=lambda kv: -kv[1]))
    metrics = {
        "train_rows": int(labels.size),
        "test_rows": int(test_idx.size),
        "test_folds": [
            {"train": int(tr.size), "test": int(te.size), "starts_at": str(times[te].min())}
            for tr, te in folds
        ],
        "test_starts_at": str(times[test_idx].min()),
        "base_rate_train": float(labels.mean()),
        "booster": model.booster_type_,
        "candidate": model.candidate_,
        "rule_input": model.rule_input_,
        "validation_log_loss": model.validation_log_loss_,
        "best_rounds": model.n_rounds_,
        "early_stopping_round": model.early_stopping_round_,
        "calibration": (model.calibration_ or {}).get("method", "none"),
        "monotone_increasing": sorted(model.monotone_constraints or {}),
        "test": evaluate_probabilities(y_test, p_test),
        # rows without a logged rule score (0) cannot be compared with the rules
        "test_rules": evaluate_scores(y_test[rule_test > 0], rule_test[rule_test > 0]),
        "test_rules_by_score": win_rate_by_score(y_test[rule_test > 0], rule_test[rule_test > 0]),
        "test_constant_baseline": evaluate_probabilities(y_test, base),
        "calibration_table": calibration_table(y_test, p_test),
        "top_features": [
            {"feature": name, "importance": value} for name, value in list(importance.items())[:10]
        ],
    }
    return TrainingResult(
        model,
        metrics,
        matrix[test_idx],
        y_test,
        p_test,
        rule_test,
        times[test_idx],
        folds,
        importance,
    )


def usable_folds(folds: list[Fold], labels: npt.NDArray[np.int64]) -> list[Fold]:
    """The folds that measure something like the model that ships: trained on at least
    ``MIN_FOLD_TRAIN_SHARE`` of the latest fold's training rows (purging takes the last 30
    days' rows from every fold, a large share of a young deployment's) and on
    ``MIN_FOLD_TRAIN_ROWS``, of both classes."""
    largest = max((tr.size for tr, _te in folds), default=0)
    least = max(MIN_FOLD_TRAIN_ROWS, MIN_FOLD_TRAIN_SHARE * largest)
    return [(tr, te) for tr, te in folds if tr.size >= least and len(np.unique(labels[tr])) == 2]
