"""`roostr train --data outcomes.parquet` reads what pandas writes as the JSON lines would read.

Parquet turns an integer column with nulls into floats (7.0), nulls into NaN / NaT and
timestamps into pandas Timestamps; the strict Outcome contract takes none of those as is.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from roostr.features import FEATURE_SET_VERSION, feature_dicts
from training.datasets import bootstrap_set, outcomes_set
from training.synthetic import generate


def test_parquet_and_json_lines_give_the_same_training_set(tmp_path: Path) -> None:
    synthetic = generate(60, seed=5)
    features = feature_dicts(bootstrap_set(60, seed=5).X)
    outcomes = [
        outcome.model_copy(
            update={
                "features": row,
                "feature_set_version": FEATURE_SET_VERSION,
                "rule_score": None if i % 3 else 7,
            }
        )
        for i, (outcome, row) in enumerate(zip(synthetic.outcomes, features, strict=True))
    ]
    lines = tmp_path / "outcomes.jsonl"
    lines.write_text("".join(o.model_dump_json() + "\n" for o in outcomes), encoding="utf-8")
    frame = pd.DataFrame([o.model_dump(mode="json") for o in outcomes])
    for column in ("posted_at", "hit_at"):  # as a pipeline that parses its times would store them
        frame[column] = pd.to_datetime(frame[column], utc=True)
    frame.to_parquet(tmp_path / "outcomes.parquet")
    assert frame["rule_score"].dtype == np.float64 and frame["hit_at"].isna().any()

    from_parquet = outcomes_set(tmp_path / "outcomes.parquet")
    from_lines = outcomes_set(lines)

    assert from_parquet.skipped == from_lines.skipped
    assert from_lines.skipped["invalid"] == 0 and len(from_lines.y) == 60
    np.testing.assert_array_equal(from_parquet.X, from_lines.X)
    np.testing.assert_array_equal(from_parquet.y, from_lines.y)
    np.testing.assert_array_equal(from_parquet.rule_score, from_lines.rule_score)
    np.testing.assert_array_equal(from_parquet.posted_at, from_lines.posted_at)
