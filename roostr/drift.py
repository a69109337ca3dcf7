"""Feature drift: how far recent features moved from the distributions a model was trained on.

At training time ``feature_reference`` summarises each feature of the training matrix (stored in
the registry with the model): a few-valued feature (binary flags, categories) as its values and
their shares, any other as decile bin edges and the share in each bin. Missing values (unknown
context, NaN) are a bin of their own in both, so a scraper that stops sending a block is drift
too. ``drift`` bins recent values the same way and compares the shares: Population Stability
Index for binned continuous features, Jensen-Shannon divergence (base 2, 0..1) for categorical.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "FeatureDrift",
    "drift",
    "feature_reference",
    "jensen_shannon",
    "population_stability_index",
]

Kind = Literal["continuous", "categorical"]

CATEGORICAL_MAX_VALUES = 10  # a feature with at most this many distinct values is categorical
BINS = 10
_FLOOR = 1e-4  # share given to an empty bin: PSI's log needs both shares above zero


@dataclass(frozen=True)
class FeatureDrift:
    """One feature's drift: its statistic (PSI or JS, by ``kind``) and how many rows it saw."""

    feature: str
    kind: Kind
    value: float
    rows: int


def feature_reference(X: npt.ArrayLike, feature_names: Sequence[str]) -> dict[str, Any]:
    """Per feature of a training matrix: its kind, bins and the share of rows in each."""
    matrix = np.asarray(X, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[1] != len(feature_names):
        raise ValueError(f"matrix of shape {matrix.shape} for {len(feature_names)} features")
    features: dict[str, Any] = {}
    for j, name in enumerate(feature_names):
        column = matrix[:, j]
        present = column[~np.isnan(column)]
        values = np.unique(present)
        if values.size <= CATEGORICAL_MAX_VALUES:
            entry: dict[str, Any] = {"kind": "categorical", "values": values.tolist()}
        else:
            quantiles = np.quantile(present, np.linspace(0, 1, BINS + 1)[1:-1])
            entry = {"kind": "continuous", "edges": np.unique(quantiles).tolist()}
        entry["shares"] = _shares(entry, column).tolist()
        features[name] = entry
    return {"rows": int(matrix.shape[0]), "features": features}


def drift(
    reference: Mapping[str, Any], X: npt.ArrayLike, feature_names: Sequence[str]
) -> list[FeatureDrift]:
    """Every referenced feature's drift in ``X`` (columns named by ``feature_names``), largest
    first; features absent from the reference or from ``X`` are skipped."""
    matrix = np.asarray(X, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] == 0:
        return []
    columns = {name: j for j, name in enumerate(feature_names)}
    found = []
    for name, entry in reference["features"].items():
        if name not in columns:
            continue
        expected = np.asarray(entry["shares"], dtype=np.float64)
        actual = _shares(entry, matrix[:, columns[name]])
        kind: Kind = entry["kind"]
        value = (
            jensen_shannon(expected, actual)
            if kind == "categorical"
            else population_stability_index(expected, actual)
        )
        found.append(FeatureDrift(name, kind, value, int(matrix.shape[0])))
    return sorted(found, key=lambda d: (-d.value, d.feature))


def population_stability_index(expected: npt.ArrayLike, actual: npt.ArrayLike) -> float:
    """Σ (a − e)·ln(a / e) over bins; 0 for identical shares, > 0.2 is the usual "shifted"."""
    e = np.maximum(np.asarray(expected, dtype=np.float64), _FLOOR)
    a = np.maximum(np.asarray(actual, dtype=np.float64), _FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def jensen_shannon(expected: npt.ArrayLike, actual: npt.ArrayLike) -> float:
    """Jensen-Shannon divergence in bits: 0 identical, 1 disjoint; symmetric and always finite."""
    p = np.asarray(expected, dtype=np.float64)
    q = np.asarray(actual, dtype=np.float64)
    m = (p + q) / 2
    return float(max((_kl(p, m) + _kl(q, m)) / 2, 0.0))


def _kl(p: npt.NDArray[np.float64], q: npt.NDArray[np.float64]) -> float:
    mask = p > 0
    return float(np.sum(p[mask] * np.log2(p[mask] / q[mask])))


def _shares(entry: Mapping[str, Any], column: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Share of ``column`` in each bin of ``entry``; the last bin is missing (NaN), and for a
    categorical feature the one before it holds values unseen in training."""
    missing = np.isnan(column)
    present = column[~missing]
    if entry["kind"] == "categorical":
        values = np.asarray(entry["values"], dtype=np.float64)
        index = np.searchsorted(values, present)
        known = (index < values.size) & (values[np.minimum(index, values.size - 1)] == present)
        which = np.where(known, index, values.size)  # values.size: unseen in training
        bins = values.size + 1
    else:
        which = np.searchsorted(np.asarray(entry["edges"], dtype=np.float64), present, "right")
        bins = len(entry["edges"]) + 1
    counts = np.bincount(which, minlength=bins).astype(np.float64)
    counts = np.append(counts, float(missing.sum()))
    total = counts.sum()
    return counts / total if total else counts
