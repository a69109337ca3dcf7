"""XGBoost's linear booster as roostr serves it: standardised inputs, arrays instead of DMatrix.

The linear booster is a regularised logistic regression; it sees inputs standardised with the
training rows' means and scales, which travel with the model (``Standardization``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import xgboost as xgb

from roostr.model.matrices import dmatrix

__all__ = ["LinearTerms", "Standardization", "linear_margin", "standardization", "standardize"]

Standardization = dict[str, list[float]]  # {"mean": [...], "scale": [...]}, one per column


def standardization(matrix: npt.NDArray[np.float32]) -> Standardization:
    """Column means and standard deviations over the non-missing values (all-missing or
    constant columns get mean 0 / scale 1, so they standardise to themselves or stay NaN)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        present = ~np.isnan(matrix)
        counts = present.sum(axis=0)
        filled = np.where(present, matrix, 0.0).astype(np.float64)
        mean = np.where(counts > 0, filled.sum(axis=0) / np.maximum(counts, 1), 0.0)
        var = np.where(present, (filled - mean) ** 2, 0.0).sum(axis=0) / np.maximum(counts, 1)
    scale = np.sqrt(var)
    return {"mean": mean.tolist(), "scale": np.where(scale > 0, scale, 1.0).tolist()}


def standardize(matrix: npt.NDArray[np.float32], scale: Standardization) -> npt.NDArray[np.float32]:
    """(x − mean) / scale per column; NaN stays NaN, which XGBoost's linear booster reads as
    missing and gives no weight: a missing value counts as the training mean."""
    mean = np.asarray(scale["mean"], dtype=np.float32)
    sd = np.asarray(scale["scale"], dtype=np.float32)
    return np.ascontiguousarray((matrix - mean) / sd, dtype=np.float32)


@dataclass(frozen=True)
class LinearTerms:
    """A linear booster as float32 arrays: its margins and contributions without a DMatrix.

    XGBoost builds a DMatrix per call (~110 µs, more than a serving batch's arithmetic). The
    arithmetic here is XGBoost's own, in its order and precision: a contribution is
    weight × standardised value (0 when missing), the margin is the bias followed by each
    column's contribution in turn, summed in float32 (``np.cumsum`` adds in sequence). The
    weights and bias are XGBoost's, read back through ``pred_contribs`` on unit rows, so every
    number equals ``Booster.predict`` bit for bit (test_model_serves_what_xgboost_predicts.py).
    """

    mean: npt.NDArray[np.float32]
    scale: npt.NDArray[np.float32]
    weights: npt.NDArray[np.float32]
    bias: np.float32

    @classmethod
    def of(cls, booster: xgb.Booster, standardization: Standardization) -> LinearTerms:
        unit = np.eye(len(standardization["mean"]), dtype=np.float32)
        contribs = booster.predict(
            dmatrix(unit, 1), pred_contribs=True, validate_features=False
        )  # row j: weight j on the diagonal, the bias (with the base margin) in the last column
        return cls(
            mean=np.asarray(standardization["mean"], dtype=np.float32),
            scale=np.asarray(standardization["scale"], dtype=np.float32),
            weights=np.ascontiguousarray(np.diagonal(contribs[:, :-1]), dtype=np.float32),
            bias=np.float32(contribs[0, -1]),
        )

    def contributions(self, matrix: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        standardised = (matrix - self.mean) / self.scale
        products = standardised * self.weights
        return np.where(np.isnan(standardised), np.float32(0.0), products)

    def margin(self, matrix: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        terms = np.empty((matrix.shape[0], matrix.shape[1] + 1), dtype=np.float32)
        terms[:, 0] = self.bias
        terms[:, 1:] = self.contributions(matrix)
        return np.cumsum(terms, axis=1, dtype=np.float32)[:, -1]


def linear_margin(
    booster: xgb.Booster, matrix: npt.NDArray[np.float32], scale: Standardization, nthread: int
) -> npt.NDArray[np.float32]:
    standardized = dmatrix(standardize(matrix, scale), nthread)
    return booster.predict(standardized, output_margin=True, validate_features=False)
