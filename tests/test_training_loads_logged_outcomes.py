"""Logged outcomes load as training rows: timestamps of mixed precision parse, and an outcome
that does not say which feature set its features are is skipped and counted, never a NaN row."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from roostr.contracts import Outcome
from roostr.features import FEATURE_NAMES, FEATURE_SET_VERSION
from training.datasets import labelled_outcomes, outcomes_set


def _outcome(i: int, posted_at: datetime, **update: object) -> Outcome:
    fields = {
        "signal_id": f"s{i}",
        "ticker": "ABC",
        "posted_at": posted_at,
        "label": i % 2,
        "status": "won" if i % 2 else "lost",
        "features": dict.fromkeys(FEATURE_NAMES, float(i)),
        "feature_set_version": FEATURE_SET_VERSION,
        "rule_score": 5,
    }
    return Outcome(**(fields | update))


def test_whole_second_and_microsecond_timestamps_load_together(tmp_path: Path) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    stamps = [start, start + timedelta(seconds=1, microseconds=250), start + timedelta(days=1)]
    path = tmp_path / "outcomes.jsonl"
    path.write_text("".join(_outcome(i, t).model_dump_json() + "\n" for i, t in enumerate(stamps)))
    data = outcomes_set(path)
    expected = np.array([t.replace(tzinfo=None) for t in stamps], dtype="datetime64[us]")
    np.testing.assert_array_equal(data.posted_at, expected)
    assert data.X[1, 0] == 1.0


def test_outcomes_without_a_feature_set_are_skipped_and_counted() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    records = [_outcome(i, start + timedelta(hours=i)) for i in range(4)]
    records += [
        _outcome(10, start, feature_set_version=None),
        _outcome(11, start, feature_set_version=None, features={}),
        _outcome(12, start, feature_set_version="fs-old"),
        records[0],
    ]
    data = labelled_outcomes(records, source="test")
    assert data.X.shape == (4, len(FEATURE_NAMES)) and not np.isnan(data.X).any()
    assert data.skipped == {
        "invalid": 0,
        "duplicate": 1,
        "immature": 0,
        "unresolved": 0,
        "no_feature_set": 2,
        "other_feature_set": 1,
    }
