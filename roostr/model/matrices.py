"""What a model reads: checked float32 matrices, their column names, XGBoost's DMatrix."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import xgboost as xgb

from roostr.errors import ModelError

__all__ = ["as_matrix", "dmatrix", "names_of"]


def names_of(X: npt.ArrayLike, feature_names: Sequence[str] | None) -> tuple[str, ...]:
    if feature_names is not None:
        return tuple(feature_names)
    columns = getattr(X, "columns", None)
    if columns is not None:
        return tuple(str(c) for c in columns)
    return tuple(f"f{i}" for i in range(np.shape(X)[1]))


def as_matrix(X: npt.ArrayLike, n_features: int) -> npt.NDArray[np.float32]:
    """C-contiguous float32 (what XGBoost predicts from without a copy), shape-checked."""
    matrix = np.ascontiguousarray(X, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[1] != n_features:
        raise ModelError(f"expected a (rows, {n_features}) matrix, got shape {matrix.shape}")
    return matrix


def dmatrix(
    matrix: npt.NDArray[np.float32], nthread: int, label: npt.NDArray[np.float32] | None = None
) -> xgb.DMatrix:
    """XGBoost's input for a checked matrix, without feature names: ``as_matrix`` checked its
    width and the caller its column order (the Scorer takes only a model of its feature names).
    Names cost more than the prediction itself on a serving-sized batch (~2 × 80 µs a batch),
    and training reads them back on every boosting round; a trained booster is named after.
    ``nthread`` bounds the threads that build it too (XGBoost's default is every core)."""
    return xgb.DMatrix(matrix, label=label, nthread=nthread)
