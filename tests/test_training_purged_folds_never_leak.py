"""Walk-forward folds never train on a row whose 30-day label horizon reaches
into the period being tested."""

from datetime import timedelta

import numpy as np

from training.cv import HORIZON, purged_time_folds
from training.trainer import usable_folds


def _times(n: int = 500, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    start = np.datetime64("2025-01-01T00:00:00", "us")
    offsets = rng.uniform(0, 365 * 24 * 3600, size=n).astype("int64")
    return start + offsets.astype("timedelta64[s]")  # deliberately unsorted


def test_every_fold_is_purged_by_the_label_horizon() -> None:
    times = _times()
    folds = purged_time_folds(times, n_folds=5)
    assert len(folds) == 5
    seen_test: set[int] = set()
    for train, test in folds:
        test_start = times[test].min()
        assert np.all(times[train] + np.timedelta64(HORIZON) < test_start)
        assert not set(train.tolist()) & set(test.tolist())
        assert not seen_test & set(test.tolist())
        seen_test |= set(test.tolist())
    # test blocks move forward in time and training sets grow
    starts = [times[test].min() for _, test in folds]
    assert starts == sorted(starts)
    sizes = [train.size for train, _ in folds]
    assert sizes == sorted(sizes)


def test_purging_removes_rows_that_would_leak() -> None:
    times = _times()
    train, test = purged_time_folds(times, n_folds=5)[2]
    test_start = times[test].min()
    earlier = np.flatnonzero(times < test_start)
    leaking = earlier[times[earlier] + np.timedelta64(HORIZON) >= test_start]
    assert leaking.size > 0  # the data does contain rows that would leak ...
    assert not set(leaking.tolist()) & set(train.tolist())  # ... and none of them are trained on


def test_short_history_yields_fewer_folds_not_leaky_ones() -> None:
    times = _times(n=60)
    folds = purged_time_folds(times, n_folds=5, horizon=timedelta(days=90))
    assert len(folds) < 5
    for train, test in folds:
        assert np.all(times[train] + np.timedelta64(timedelta(days=90)) < times[test].min())


def test_walk_forward_counts_only_folds_trained_on_half_the_latest_ones_rows() -> None:
    """A young deployment's folds: purging takes 30 days from each, so the share is measured
    against the latest fold, which is always kept."""
    times = _times(n=300)
    labels = np.random.default_rng(1).integers(0, 2, 300)
    folds = purged_time_folds(times, n_folds=10)
    kept = usable_folds(folds, labels)
    largest = max(train.size for train, _test in folds)
    assert kept and all(train.size >= largest / 2 for train, _test in kept)
    assert np.array_equal(kept[-1][1], folds[-1][1])
    assert len(kept) < len(folds)  # the folds trained on few rows measure a younger model
