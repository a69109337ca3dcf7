"""Which signals a scorer trades: the top X % of its ranking, or every score at or above N.

``top10%`` is the seed's plan ("simulate the top 10 % of signals"): the ``ceil(X % of n)``
best-ranked of the n signals the scorer scored, ties broken by the earlier ``posted_at``, then
by ``signal_id``, so every scorer trades the same number of signals and the choice never
depends on read order. ``score>=N`` takes every signal whose 1–10 score is at least N.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

__all__ = ["Selection", "parse_selection"]

_TOP = re.compile(r"^top(\d+(?:\.\d+)?)%$")
_SCORE = re.compile(r"^score>=(\d+)$")


@dataclass(frozen=True, slots=True)
class Selection:
    """A parsed ``--select`` value."""

    kind: Literal["top", "score"]
    value: float
    text: str

    def mask(
        self,
        ranking: npt.NDArray[np.float64],
        score: npt.NDArray[np.int64],
        order: npt.NDArray[np.intp],
    ) -> npt.NDArray[np.bool_]:
        """Selected rows. ``ranking`` is NaN where the scorer gave no score; ``order`` is the
        rows' tie-break rank (0 = earliest posted_at, then smallest signal_id)."""
        scored = ~np.isnan(ranking)
        if self.kind == "score":
            return scored & (score >= self.value)
        candidates = np.flatnonzero(scored)
        take = math.ceil(candidates.size * self.value / 100 - 1e-9)
        best = candidates[np.lexsort((order[candidates], -ranking[candidates]))][:take]
        selected = np.zeros(ranking.size, dtype=bool)
        selected[best] = True
        return selected


def parse_selection(text: str) -> Selection:
    """``top<X>%`` with 0 < X ≤ 100, or ``score>=<N>`` with N in 1..10; ValueError otherwise."""
    spec = text.replace(" ", "")
    if match := _TOP.match(spec):
        value = float(match.group(1))
        if 0 < value <= 100:
            return Selection("top", value, spec)
    elif match := _SCORE.match(spec):
        value = float(match.group(1))
        if 1 <= value <= 10:
            return Selection("score", value, spec)
    raise ValueError(f"--select {text!r}: expected top<X>% (0 < X <= 100) or score>=<N> (1..10)")
