"""From a booster's margin (log-odds) to a probability that means what it says.

Platt scaling (two numbers, with a prior) suits the hundreds to thousands of rows roostr
calibrates on; isotonic regression (a monotone step function) is left to ``ISOTONIC_MIN_ROWS``.
Both are monotone, so calibration never reorders rows and monotone constraints survive it. The
state is a small JSON-ready dict, saved inside the model file.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize
from sklearn.isotonic import IsotonicRegression

__all__ = ["Calibration", "calibrate", "calibration_method", "fit_calibration", "platt", "sigmoid"]

Calibration = Literal["auto", "none", "platt", "isotonic"]
# Below this many rows a step function overfits: fitted on earlier matured rows and scored on
# later ones (the model's own validation slices, the champion's walk-forward folds), isotonic's
# log-loss was above Platt's on average at every size measured, 400 to 5,300 fitting rows
# (training/README.md, "2026-12-06 (4)").
ISOTONIC_MIN_ROWS = 10_000
PLATT_PRIOR_ROWS = 10.0  # weight of the Platt prior, in rows (see ``platt``)


def calibration_method(setting: Calibration, rows: int) -> str:
    """The method ``setting`` means for a calibration fitted on ``rows`` rows."""
    if setting == "auto":
        return "platt" if rows < ISOTONIC_MIN_ROWS else "isotonic"
    return setting


def fit_calibration(method: str, margin: npt.ArrayLike, y: npt.ArrayLike) -> dict[str, Any] | None:
    """The calibration state (JSON-ready) mapping margins to probabilities, by ``method``."""
    m = np.asarray(margin, dtype=np.float64).ravel()
    labels = np.asarray(y, dtype=np.float64).ravel()
    if method == "none":
        return None
    if method == "platt":
        a, b = platt(m, labels)
        return {"method": "platt", "a": a, "b": b}
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(m, labels)
    return {"method": "isotonic", "x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()}


def calibrate(
    calibration: dict[str, Any] | None, margin: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Probabilities of ``margin`` under a state from ``fit_calibration`` (None: the sigmoid)."""
    if calibration is None:
        return sigmoid(margin)
    if calibration["method"] == "platt":
        return sigmoid(calibration["a"] * margin + calibration["b"])
    return np.interp(margin, calibration["x"], calibration["y"])


def sigmoid(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp(-x))


def platt(margin: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> tuple[float, float]:
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
        residual = sigmoid(z) - y
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
