"""Time-ordered splits that cannot leak a label from the future into training.

A signal's label is only known ``horizon`` (30 days) after it was posted. A training row whose
horizon overlaps the test period carries information about prices inside that period, so each
training set keeps only rows with ``posted_at + horizon < test start`` ("purging"). Folds are
expanding windows: fold k trains on what was purged-before block k and tests on block k, like a
model retrained on everything known so far and used on the next stretch of time.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import numpy.typing as npt

__all__ = ["HORIZON", "Fold", "purged_time_folds"]

HORIZON = timedelta(days=30)

Index = npt.NDArray[np.intp]
Times = npt.NDArray[np.datetime64]
Fold = tuple[Index, Index]  # (train, test) row indices


def _blocks(posted_at: Times, n_blocks: int) -> list[Index]:
    """Row indices cut into ``n_blocks`` consecutive stretches of time of equal row count."""
    order = np.argsort(posted_at, kind="stable")
    return [block for block in np.array_split(order, n_blocks) if block.size]


def _purged_before(
    posted_at: Times, candidates: Index, start: np.datetime64, horizon: timedelta
) -> Index:
    """The candidates whose whole label horizon ends strictly before ``start``."""
    resolved = posted_at[candidates] + np.timedelta64(horizon)
    return np.sort(candidates[resolved < start])


def purged_time_folds(
    posted_at: npt.ArrayLike, n_folds: int = 5, horizon: timedelta = HORIZON
) -> list[Fold]:
    """``n_folds`` (train, test) index pairs over time; folds with no purged training rows or a
    single-row test block are skipped, so fewer may come back on short histories.

    The data is cut into ``n_folds + 1`` time blocks; fold k tests on block k+1.
    """
    times = np.asarray(posted_at, dtype="datetime64[us]")
    blocks = _blocks(times, n_folds + 1)
    folds = []
    for k in range(1, len(blocks)):
        test = np.sort(blocks[k])
        earlier = np.concatenate(blocks[:k])
        train = _purged_before(times, earlier, times[test].min(), horizon)
        if train.size and test.size > 1:
            folds.append((train, test))
    return folds
