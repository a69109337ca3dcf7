"""Which candidate learner ships: the simplest one that the best does not clearly beat."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from roostr.model.calibration import platt

__all__ = ["Candidate", "Spec", "calibrated_row_losses", "simplest_unbeaten"]

SIGNIFICANT_SE = 2.0  # a more complex candidate ships only when this much better


@dataclass(frozen=True)
class Spec:
    """One candidate learner: a booster kind and, for the linear booster, its L1 strength in
    rows (see ``linear_l1_rows``)."""

    kind: str
    l1_rows: float = 0.0

    @property
    def name(self) -> str:
        return f"{self.kind}_l1_{self.l1_rows:g}" if self.l1_rows else self.kind


@dataclass(frozen=True)
class Candidate:
    """One candidate's out-of-fold margins over the validation slices, and its round count."""

    spec: Spec
    margin: npt.NDArray[np.float64]
    rounds: int
    early_stopping_round: int | None


def calibrated_row_losses(
    margin: npt.NDArray[np.float64], y: npt.NDArray[np.float32]
) -> npt.NDArray[np.float64]:
    """Per-row log-loss after Platt scaling: compares booster kinds on ranking and
    calibratability, not on how over- or under-confident their raw margins happen to be."""
    labels = y.astype(np.float64)
    a, b = platt(margin, labels)
    z = a * margin + b
    return np.logaddexp(0.0, z) - labels * z


def simplest_unbeaten(
    candidates: Sequence[Candidate], losses: Sequence[npt.NDArray[np.float64]]
) -> Candidate:
    """The first (simplest) of ``candidates`` that the one with the lowest mean validation loss
    does not beat by more than ``SIGNIFICANT_SE`` standard errors of the paired per-row loss
    difference; ``losses`` are the candidates' per-row losses, in the same order.

    A few dozen validation rows rank two learners almost at random; picking the lower loss
    then ships trees on small data about a third of the time, where the linear model ranks
    better out of sample. Extra freedom (trees, weaker penalties) must be earned with clear
    evidence.
    """
    best = losses[int(np.argmin([loss.mean() for loss in losses]))]
    gains = [loss - best for loss in losses]  # the best's own gain is 0: it always qualifies
    return next(
        candidate
        for candidate, gain in zip(candidates, gains, strict=True)
        if gain.mean() <= SIGNIFICANT_SE * gain.std(ddof=1) / np.sqrt(gain.size)
    )
