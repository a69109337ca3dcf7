"""The bootstrap model, trained on synthetic green-flag signals, ranks and forecasts held-out
(later) signals better than a constant base rate — and honestly, not perfectly."""

import numpy as np
import pytest

from roostr.features import FEATURE_NAMES
from training.datasets import bootstrap_set
from training.trainer import TrainingError, TrainingResult, train


@pytest.fixture(scope="module")
def result() -> TrainingResult:
    data = bootstrap_set(400, seed=7)
    return train(
        data.X,
        data.y,
        data.posted_at,
        data.rule_score,
        seed=7,
    )


def test_beats_the_constant_baseline_on_held_out_data(result: TrainingResult) -> None:
    test, constant = result.metrics["test"], result.metrics["test_constant_baseline"]
    assert 0.65 < test["auc"] < 0.98  # learns the flags, but the labels are noisy
    assert test["brier"] < constant["brier"]


def test_metrics_cover_the_seed_targets(result: TrainingResult) -> None:
    m = result.metrics
    # walk-forward: every fold's test rows come after its (purged) training rows
    assert m["train_rows"] == 400 and len(m["test_folds"]) >= 3 and m["best_rounds"] >= 1
    assert m["test_rows"] == sum(fold["test"] for fold in m["test_folds"]) < 400
    starts = [fold["starts_at"] for fold in m["test_folds"]]
    assert starts == sorted(starts) and m["test_starts_at"] == starts[0]
    assert m["calibration"] == "platt"  # small data
    assert m["monotone_increasing"] == ["author_hit_rate", "dan_endorsed", "source_hit_rate"]
    assert {"precision", "recall", "brier", "auc"} <= set(m["test"])
    assert m["test_rules"]["auc"] is not None
    assert sum(row["rows"] for row in m["calibration_table"]) == m["test_rows"]
    # the model's inputs: the features and the rule score it computes from them
    inputs = (*FEATURE_NAMES, "rule_score:green_flags_v1")
    assert result.model.input_names == inputs and m["rule_input"] == "green_flags_v1"
    assert m["top_features"] and all(f["feature"] in inputs for f in m["top_features"])


def test_dan_endorsement_never_lowers_the_probability(result: TrainingResult) -> None:
    data = bootstrap_set(120, seed=3)
    column = FEATURE_NAMES.index("dan_endorsed")
    without, with_dan = data.X.copy(), data.X.copy()
    without[:, column], with_dan[:, column] = 0.0, 1.0
    model = result.model
    assert np.all(model.predict_proba(with_dan)[:, 1] >= model.predict_proba(without)[:, 1] - 1e-12)


def test_one_class_data_is_refused() -> None:
    data = bootstrap_set(100, seed=1)
    with pytest.raises(TrainingError, match="single class"):
        train(
            data.X,
            np.zeros_like(data.y),
            data.posted_at,
            data.rule_score,
        )
