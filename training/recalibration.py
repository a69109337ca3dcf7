"""Calibration-only update of a fitted model: new probabilities, the same ranking.

The bootstrap champion was trained on synthetic signals whose labels come from the rules' own
green flags: it ranks real signals well (the flags carry signal) but its probabilities are tuned
to the synthetic world's base rate, not the market's. Until enough real outcomes exist to retrain
it, re-fitting only its calibration on them fixes the probabilities without touching what it
learned. The booster never saw those outcomes, so its margins on them are out of sample, which
is what a calibration must be fitted on.
"""

from __future__ import annotations

import copy

import numpy as np
import numpy.typing as npt

from roostr.model import MIN_VALIDATION_ROWS, ConvictionModel
from training.trainer import TrainingError

__all__ = ["recalibrated"]


def recalibrated(model: ConvictionModel, X: npt.ArrayLike, y: npt.ArrayLike) -> ConvictionModel:
    """A copy of ``model`` (same booster, ``version`` None) whose calibration is re-fitted on
    labelled rows ``X, y`` that the booster never trained on; ``model`` is left unchanged.

    Raises TrainingError when the rows cannot support a calibration (too few, one class).
    """
    labels = np.asarray(y, dtype=np.float64).ravel()
    if labels.size < MIN_VALIDATION_ROWS or np.unique(labels).size < 2:
        raise TrainingError(
            f"{labels.size} rows with {np.unique(labels).size} class(es) cannot calibrate a model"
        )
    fresh = copy.deepcopy(model)  # the booster is copied too: saving one never edits the other
    fresh.version = None
    return fresh.fit_calibration(fresh.decision_function(X), labels)
