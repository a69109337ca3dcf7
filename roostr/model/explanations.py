"""Why a model scored a row: the inputs with the largest log-odds contributions, and importance."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import xgboost as xgb

from roostr.errors import ModelError

__all__ = ["feature_scores", "top_reasons"]


def top_reasons(
    names: Sequence[str],
    matrix: npt.NDArray[np.float32],
    contribs: npt.NDArray[np.float32],
    top_k: int,
) -> list[list[dict[str, Any]]]:
    """Per row, the ``top_k`` inputs by absolute contribution, largest first, as JSON-ready dicts
    in Reason's layout (feature, value, contribution); exact zeros are left out."""
    if contribs.shape[0] == 0 or top_k <= 0:
        return [[] for _ in range(contribs.shape[0])]
    k = min(top_k, contribs.shape[1])
    magnitude = np.abs(contribs)
    top = np.argpartition(-magnitude, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(magnitude, top, axis=1), axis=1, kind="stable")
    top = np.take_along_axis(top, order, axis=1)
    top_contrib = np.take_along_axis(contribs, top, axis=1)
    top_values = np.take_along_axis(matrix, top, axis=1).ravel()
    # numpy's stubs refuse a None branch in np.where; at run time it makes an object array.
    values = np.where(np.isnan(top_values), None, top_values).tolist()  # type: ignore[call-overload]
    # One flat pass over every row's reasons (half the cost of a nested one), cut into rows.
    reasons = [
        {"feature": names[j], "value": v, "contribution": c}
        for j, v, c in zip(top.ravel().tolist(), values, top_contrib.ravel().tolist(), strict=True)
    ]
    rows = [reasons[i : i + k] for i in range(0, len(reasons), k)]
    if np.all(top_contrib):  # no contribution is exactly zero (NaN is not zero)
        return rows
    return [[r for r in row if r["contribution"] != 0.0] for row in rows]


def feature_scores(booster: xgb.Booster, importance_type: str) -> dict[str, float]:
    """``booster.get_score`` of this single-output model: one number per feature (xgboost gives
    a list per feature only for a model with several outputs)."""
    scores: dict[str, float] = {}
    for name, score in booster.get_score(importance_type=importance_type).items():
        if isinstance(score, list):
            raise ModelError(f"{name} has {len(score)} scores; a single-output model has one")
        scores[name] = score
    return scores
