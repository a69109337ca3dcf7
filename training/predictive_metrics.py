"""Held-out evaluation: the numbers the seed's targets are stated in, for any scorer.

"Actionable" means a final score of 7 or more (tiers medium and high): the seed's precision is
"share of high-conviction calls that actually win". Probability metrics (Brier, calibration) need
a probability, so the rules, which only give a score, report ranking and decision metrics only.
"""

from __future__ import annotations

import math
from typing import TypedDict

import numpy as np
import numpy.typing as npt
from scipy.stats import rankdata
from sklearn.metrics import (
    brier_score_loss,
    log_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)

from roostr.scale import probability_to_score

__all__ = [
    "ACTIONABLE_SCORE",
    "ECE_BINS",
    "ProbabilityMetrics",
    "ScoreMetrics",
    "ScoreRow",
    "calibration_table",
    "ece_noise_floor",
    "evaluate_probabilities",
    "evaluate_scores",
    "expected_calibration_error",
    "paired_auc_difference",
    "score_buckets",
    "win_rate_by_score",
    "within_group_auc",
]

ACTIONABLE_SCORE = 7
ECE_BINS = 10
BOOTSTRAP_DRAWS = 200


class ScoreMetrics(TypedDict):
    """Ranking and decision quality of 1–10 scores (JSON-ready: None where undefined)."""

    rows: int
    positives: int
    auc: float | None
    precision: float
    recall: float
    actionable_share: float


class ProbabilityMetrics(ScoreMetrics):
    """``ScoreMetrics`` of a probability's score, with AUC on the probability itself."""

    brier: float | None
    log_loss: float | None
    ece: float | None
    score_buckets: int
    mean_probability: float | None


class ScoreRow(TypedDict):
    """One score's row of a calibration or win-rate table."""

    score: int
    rows: int
    mean_probability: float | None
    win_rate: float | None


def _finite(value: float) -> float | None:
    """JSON-safe: NaN (e.g. AUC of a single-class slice) becomes None."""
    return None if math.isnan(value) else float(value)


def _auc(y: npt.NDArray[np.int64], ranking: npt.ArrayLike) -> float | None:
    return _finite(roc_auc_score(y, ranking)) if len(np.unique(y)) == 2 else None


def within_group_auc(
    y: npt.ArrayLike, score: npt.ArrayLike, groups: npt.ArrayLike | None = None
) -> float | None:
    """AUC over the (win, loss) pairs of the same group only: the pair-weighted mean of each
    group's AUC (a group of one class has no pairs); the plain AUC without ``groups``. None
    when no group holds both classes.

    Walk-forward rows are predicted by one model per fold: a pair across two folds compares two
    models' scales (each fold's model is calibrated on its own rows), not a ranking. Pooled, a
    retrained challenger paid for that scale noise while a fixed champion or the rules did not
    (figures: ``training/README.md``, "AUC within folds")."""
    labels = np.asarray(y, dtype=np.int64)
    ranking = np.asarray(score, dtype=np.float64)
    group = np.zeros(labels.size, dtype=np.int64) if groups is None else np.asarray(groups)
    weighted = pairs = 0.0
    for g in np.unique(group):
        mine = group == g
        wins = int(labels[mine].sum())
        n_pairs = wins * (int(mine.sum()) - wins)
        if n_pairs:  # Mann–Whitney: the wins' rank sum (ties at their mean rank), as sklearn's
            ranks = rankdata(ranking[mine])
            weighted += float(ranks[labels[mine] == 1].sum()) - wins * (wins + 1) / 2
            pairs += n_pairs
    return weighted / pairs if pairs else None


def paired_auc_difference(
    y: npt.ArrayLike, a: npt.ArrayLike, b: npt.ArrayLike, groups: npt.ArrayLike | None = None
) -> tuple[float, float] | None:
    """``within_group_auc`` of a minus b on the same rows and its standard error, by a paired
    bootstrap over the rows (fixed seed: the same rows give the same figure); None when no
    group holds both classes."""
    labels, first, second = (np.asarray(v) for v in (y, a, b))
    group = np.zeros(labels.size, dtype=np.int64) if groups is None else np.asarray(groups)
    difference = _difference(labels, first, second, group)
    if difference is None:
        return None
    rng = np.random.default_rng(0)
    draws = []
    for _ in range(BOOTSTRAP_DRAWS):
        i = rng.integers(0, labels.size, labels.size)
        drawn = _difference(labels[i], first[i], second[i], group[i])
        if drawn is not None:
            draws.append(drawn)
    return difference, float(np.std(draws, ddof=1))


def _difference(
    y: npt.NDArray[np.int64],
    a: npt.NDArray[np.float64],
    b: npt.NDArray[np.float64],
    groups: npt.NDArray[np.int64],
) -> float | None:
    first, second = within_group_auc(y, a, groups), within_group_auc(y, b, groups)
    return None if first is None or second is None else first - second


def evaluate_scores(y: npt.ArrayLike, scores: npt.ArrayLike) -> ScoreMetrics:
    """Ranking and decision quality of 1–10 scores: AUC, precision and recall at score ≥ 7."""
    labels = np.asarray(y, dtype=np.int64)
    s = np.asarray(scores, dtype=np.int64)
    actionable = s >= ACTIONABLE_SCORE
    return {
        "rows": int(labels.size),
        "positives": int(labels.sum()),
        "auc": _auc(labels, s),
        "precision": float(precision_score(labels, actionable, zero_division=0)),
        "recall": float(recall_score(labels, actionable, zero_division=0)),
        "actionable_share": float(actionable.mean()) if labels.size else 0.0,
    }


def evaluate_probabilities(y: npt.ArrayLike, p: npt.ArrayLike) -> ProbabilityMetrics:
    """``evaluate_scores`` on the seed's scale, plus AUC on the raw probability and Brier score."""
    labels = np.asarray(y, dtype=np.int64)
    prob = np.asarray(p, dtype=np.float64)
    some = bool(labels.size)
    return {
        **evaluate_scores(labels, probability_to_score(prob)),
        "auc": _auc(labels, prob),
        "brier": float(brier_score_loss(labels, prob)) if some else None,
        "log_loss": float(log_loss(labels, prob, labels=[0, 1])) if some else None,
        "ece": expected_calibration_error(labels, prob) if some else None,
        "score_buckets": score_buckets(prob),
        "mean_probability": float(prob.mean()) if some else None,
    }


def expected_calibration_error(y: npt.ArrayLike, p: npt.ArrayLike, bins: int = ECE_BINS) -> float:
    """Row-weighted mean |mean predicted P − win rate| over ``bins`` equal-width bins of P."""
    labels = np.asarray(y, dtype=np.float64)
    prob = np.asarray(p, dtype=np.float64)
    which = np.minimum((prob * bins).astype(np.int64), bins - 1)
    rows = np.bincount(which, minlength=bins)
    gap = np.abs(
        np.bincount(which, weights=prob, minlength=bins)
        - np.bincount(which, weights=labels, minlength=bins)
    )
    return float(gap.sum() / max(rows.sum(), 1))


def ece_noise_floor(p: npt.ArrayLike, draws: int = BOOTSTRAP_DRAWS) -> float:
    """The ECE a perfectly calibrated model with these probabilities shows on this many rows:
    the mean over labels drawn from the probabilities themselves (fixed seed: the same
    probabilities give the same figure). ECE is biased upward on few rows (each bin's win rate
    is noisy and the gaps are absolute), so this much of an observed ECE is noise, not
    miscalibration."""
    prob = np.asarray(p, dtype=np.float64)
    if not prob.size:
        return 0.0
    rng = np.random.default_rng(0)
    return float(
        np.mean(
            [expected_calibration_error(rng.random(prob.size) < prob, prob) for _ in range(draws)]
        )
    )


def score_buckets(p: npt.ArrayLike) -> int:
    """How many of the 10 score buckets the probabilities use (1 = no differentiation)."""
    return int(np.unique(probability_to_score(np.asarray(p, dtype=np.float64))).size)


def calibration_table(y: npt.ArrayLike, p: npt.ArrayLike) -> list[ScoreRow]:
    """Per score 1–10: rows, mean predicted P, actual win rate (the seed's calibration check)."""
    prob = np.asarray(p, dtype=np.float64)
    return win_rate_by_score(y, probability_to_score(prob), prob)


def win_rate_by_score(
    y: npt.ArrayLike, scores: npt.ArrayLike, p: npt.ArrayLike | None = None
) -> list[ScoreRow]:
    """Per score 1–10: rows, actual win rate and (given probabilities) mean predicted P."""
    labels = np.asarray(y, dtype=np.int64)
    s = np.asarray(scores, dtype=np.int64)
    prob = None if p is None else np.asarray(p, dtype=np.float64)
    table: list[ScoreRow] = []
    for score in range(1, 11):
        mask = s == score
        count = int(mask.sum())
        table.append(
            {
                "score": score,
                "rows": count,
                "mean_probability": float(prob[mask].mean())
                if count and prob is not None
                else None,
                "win_rate": float(labels[mask].mean()) if count else None,
            }
        )
    return table
