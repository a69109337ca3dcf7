"""The retrain's calibration gate judges the ECE beyond its noise floor: a challenger whose
probabilities are right is not refused because a few hundred walk-forward rows make its ECE
look large (here at most 2 in 20 draws, against most of them when the raw ECE was
judged), and one whose probabilities are off is refused all the same."""

from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from roostr.model import ConvictionModel
from roostr.registry import ModelRegistry
from roostr.settings import Settings
from training.predictive_metrics import ece_noise_floor, evaluate_probabilities, evaluate_scores
from training.retrain import compare
from training.trainer import TrainingResult

ROWS = 150
LIMIT = 0.05  # a strict limit, so that noise alone crosses it on this many rows
DRAWS = 20


def _result(p: np.ndarray, y: np.ndarray) -> TrainingResult:
    """Walk-forward rows scored ``p`` with labels ``y``, and a rule score that ranks like p."""
    rule = np.clip(np.ceil(p * 10), 1, 10).astype(np.int64)
    return TrainingResult(
        model=ConvictionModel(),
        metrics={"test": evaluate_probabilities(y, p), "test_rules": evaluate_scores(y, rule)},
        X_test=np.zeros((p.size, 1), dtype=np.float32),
        y_test=y,
        p_test=p,
        rule_test=rule,
        posted_at_test=np.full(p.size, np.datetime64(datetime(2026, 1, 1), "us")),
        folds=[],
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(registry_dir=tmp_path / "models", retrain_max_ece=LIMIT)


def _calibrated(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities and labels drawn from them: calibrated by design."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.1, 0.6, ROWS)
    return p, (rng.random(ROWS) < p).astype(np.int64)


def test_a_calibrated_challenger_is_rarely_refused_for_noise(settings: Settings) -> None:
    registry = ModelRegistry(settings.registry_dir)
    raw_refusals = noise_refusals = 0
    for seed in range(DRAWS):
        p, y = _calibrated(seed)
        verdict = compare(_result(p, y), registry, settings)
        assert verdict.challenger["ece_floor"] == pytest.approx(ece_noise_floor(p))
        raw_refusals += verdict.challenger["ece"] > LIMIT  # what the raw ECE gate refused
        noise_refusals += any("noise floor" in reason for reason in verdict.reasons)
    assert raw_refusals > DRAWS / 2
    assert noise_refusals <= DRAWS / 10


def test_a_miscalibrated_challenger_is_refused(settings: Settings) -> None:
    p, y = _calibrated(0)
    result = _result(np.clip(p + 0.2, 0.0, 1.0), y)  # 0.2 too confident everywhere

    verdict = compare(result, ModelRegistry(settings.registry_dir), settings)

    assert any("exceeds its noise floor" in reason for reason in verdict.reasons), verdict.reasons


def test_the_noise_floor_shrinks_with_the_rows() -> None:
    p = np.random.default_rng(0).uniform(0.1, 0.6, 4_000)
    small, large = ece_noise_floor(p[:100]), ece_noise_floor(p)
    assert small > 2 * large > 0.0
    assert ece_noise_floor(p[:100]) == small  # a measurement, not a random draw
