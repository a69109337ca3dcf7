"""The seed's 1–10 conviction scale, its tiers and the hybrid blend, vectorised.

Bands (seed): P > 0.8 → 9–10, 0.6–0.8 → 7–8, 0.4–0.6 → 5–6, P < 0.4 → 1–4. Each two-point band
splits at its midpoint and the avoid band in steps of 0.1, so the score is one point per 0.1 of
probability. Boundaries follow the seed's wording: 0.8 itself is "0.6–0.8" (8), 0.4 is not "< 0.4"
(5); every other edge belongs to the band above it, except 0.9, which stays 9 like 0.8 stays 8
("> 0.8 → 9–10" is read as 9 for (0.8, 0.9], 10 for (0.9, 1]).
"""

from __future__ import annotations

from typing import overload

import numpy as np
import numpy.typing as npt

from roostr.contracts import Tier

__all__ = [
    "HYBRID_ML_WEIGHT",
    "HYBRID_RULE_WEIGHT",
    "hybrid_score",
    "probability_to_score",
    "round_score",
    "tier_for_score",
]

HYBRID_RULE_WEIGHT = 0.3
HYBRID_ML_WEIGHT = 0.7

# A probability at or above an inclusive edge, or strictly above a strict edge, earns one point.
_INCLUSIVE_EDGES = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
_STRICT_EDGES = np.array([0.8, 0.9])

# Tier by score, indexed 0..10 (index 0 unused: scores start at 1).
_TIERS: tuple[Tier, ...] = ("avoid",) * 5 + ("low",) * 2 + ("medium",) * 2 + ("high",) * 2
_TIER_ARRAY = np.array(_TIERS, dtype=object)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@overload
def probability_to_score(p: float) -> int: ...
@overload
def probability_to_score(p: npt.ArrayLike) -> IntArray: ...
def probability_to_score(p: float | npt.ArrayLike) -> int | IntArray:
    """P(2x in 30 days) → integer score 1–10 (array in, array out; NaN is not a probability)."""
    values = np.asarray(p, dtype=np.float64)
    if np.isnan(values).any():
        raise ValueError("probability is NaN")
    scores = (
        1
        + np.searchsorted(_INCLUSIVE_EDGES, values, side="right")
        + np.searchsorted(_STRICT_EDGES, values, side="left")
    ).astype(np.int64)
    return int(scores) if scores.ndim == 0 else scores


@overload
def tier_for_score(score: int) -> Tier: ...
@overload
def tier_for_score(score: npt.ArrayLike) -> npt.NDArray[np.object_]: ...
def tier_for_score(score: int | npt.ArrayLike) -> Tier | npt.NDArray[np.object_]:
    """Score 1–10 → tier: high 9–10, medium 7–8, low 5–6, avoid 1–4."""
    values = np.asarray(score)
    if values.size and (values.min() < 1 or values.max() > 10):
        raise ValueError(f"score outside 1..10: {score!r}")
    tiers = _TIER_ARRAY[values.astype(np.int64)]
    return str(tiers) if values.ndim == 0 else tiers  # type: ignore[return-value]


def hybrid_score(rule: npt.ArrayLike, ml: npt.ArrayLike) -> FloatArray:
    """The seed's phase-2 blend 0.3·rule + 0.7·ML, unrounded (the contract logs it as a float)."""
    return HYBRID_RULE_WEIGHT * np.asarray(rule, dtype=np.float64) + HYBRID_ML_WEIGHT * np.asarray(
        ml, dtype=np.float64
    )


def round_score(score: npt.ArrayLike) -> IntArray:
    """Round half up to an integer 1–10 (``np.round`` rounds 6.5 to 6, a trader expects 7).

    Rounded to 6 decimals first so float error (0.3·3 + 0.7·8 = 6.4999…) does not flip a half.
    """
    values = np.floor(np.round(np.asarray(score, dtype=np.float64), 6) + 0.5)
    return np.clip(values, 1, 10).astype(np.int64)
