"""Feature drift: PSI of a continuous feature, Jensen-Shannon of a binary one, both ~0 on the
training distribution and large on a shifted one; the reference is stored with every trained
model, so the monitor can measure against the champion's own training data."""

from __future__ import annotations

import numpy as np
import pytest

from roostr.drift import drift, feature_reference, jensen_shannon, population_stability_index
from roostr.features import FEATURE_NAMES
from roostr.registry import ModelRegistry
from roostr.settings import Settings
from stack.cli import main

NAMES = ["price_change", "dan_endorsed", "trends"]


def _matrix(rng: np.random.Generator, n: int, shift: float = 0.0, missing: float = 0.2):
    trends = rng.normal(50 + 20 * shift, 10, n)
    trends[rng.random(n) < missing] = np.nan  # unknown context: a bin of its own
    return np.c_[
        rng.normal(shift, 1.0, n), (rng.random(n) < 0.2 + 0.3 * shift).astype(float), trends
    ]


def _by_name(found):
    return {d.feature: d for d in found}


def test_identical_distributions_do_not_drift() -> None:
    reference = feature_reference(_matrix(np.random.default_rng(0), 5000), NAMES)
    found = _by_name(drift(reference, _matrix(np.random.default_rng(1), 5000), NAMES))
    assert found["price_change"].kind == "continuous" and found["dan_endorsed"].kind == (
        "categorical"
    )
    assert found["price_change"].value < 0.02 and found["trends"].value < 0.02
    assert found["dan_endorsed"].value < 0.005
    assert population_stability_index([0.25] * 4, [0.25] * 4) == 0.0
    assert jensen_shannon([0.5, 0.5], [0.5, 0.5]) == 0.0


def test_shifted_distributions_drift_past_the_thresholds() -> None:
    settings = Settings()
    reference = feature_reference(_matrix(np.random.default_rng(0), 5000), NAMES)
    found = drift(reference, _matrix(np.random.default_rng(1), 2000, shift=1.0), NAMES)
    by_name = _by_name(found)
    assert by_name["price_change"].value > settings.monitor_drift_psi
    assert by_name["trends"].value > settings.monitor_drift_psi
    assert by_name["dan_endorsed"].value > settings.monitor_drift_js
    assert [d.value for d in found] == sorted((d.value for d in found), reverse=True)
    assert jensen_shannon([1.0, 0.0], [0.0, 1.0]) == pytest.approx(1.0)  # disjoint: 1 bit


def test_a_feature_going_missing_is_drift() -> None:
    rng = np.random.default_rng(0)
    reference = feature_reference(_matrix(rng, 5000, missing=0.1), NAMES)
    found = _by_name(drift(reference, _matrix(rng, 2000, missing=0.9), NAMES))
    assert found["trends"].value > Settings().monitor_drift_psi
    assert found["price_change"].value < 0.05


def test_unseen_categories_count_as_drift() -> None:
    rng = np.random.default_rng(0)
    reference = feature_reference(_matrix(rng, 5000), NAMES)
    recent = _matrix(rng, 2000)
    recent[:, 1] = 2.0  # a value never seen in training
    assert _by_name(drift(reference, recent, NAMES))["dan_endorsed"].value > 0.5


def test_training_stores_the_reference_with_the_model(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    for name, value in settings.to_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    args = ["train", "--bootstrap", "--samples", "300", "--reports-dir", str(tmp_path / "r")]
    assert main(args) == 0
    registry = ModelRegistry(settings.registry_dir)
    reference = registry.metadata(registry.champion())["feature_reference"]
    assert set(reference["features"]) == set(FEATURE_NAMES)
    for entry in reference["features"].values():
        assert sum(entry["shares"]) == pytest.approx(1.0)
        assert entry["kind"] in ("continuous", "categorical")
