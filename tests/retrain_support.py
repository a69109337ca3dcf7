"""What the retrain gate tests share: a registry whose champion is a prior, and walk-forward
results built from chosen predictions, so a test states only the rankings it is about."""

from datetime import datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from roostr.model import ConvictionModel
from roostr.registry import ModelRegistry
from training.cv import Fold
from training.predictive_metrics import evaluate_probabilities, evaluate_scores
from training.trainer import TrainingResult

NAMES = ("x",)
VERSION = "test-features"


def prior_registry(where: Path) -> ModelRegistry:
    """A registry whose champion is a prior (no label cutoff) with P rising in x."""
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1.0, (500, 1)).astype(np.float32)
    y = (x[:, 0] + rng.normal(0, 1.0, 500) > 0).astype(np.int64)
    model = ConvictionModel(booster="gblinear", validation_fraction=0.0).fit(
        x, y, feature_names=NAMES, feature_set_version=VERSION
    )
    registry = ModelRegistry(where, feature_names=NAMES, feature_set_version=VERSION)
    registry.register(model, version="v0.1-prior", metrics={}, training_data={})
    registry.promote("v0.1-prior")
    return registry


def walk_forward_result(
    y: npt.NDArray[np.int64],
    p: npt.NDArray[np.float64],
    rule: npt.NDArray[np.int64],
    x: npt.NDArray[np.float64],
    folds: list[Fold],
) -> TrainingResult:
    """A challenger's walk-forward rows: labels, its probabilities, the rule scores and the
    champion's one input ``x``."""
    return TrainingResult(
        model=ConvictionModel(),
        metrics={"test": evaluate_probabilities(y, p), "test_rules": evaluate_scores(y, rule)},
        X_test=x.astype(np.float32).reshape(-1, 1),
        y_test=y,
        p_test=p,
        rule_test=rule,
        posted_at_test=np.full(y.size, np.datetime64(datetime(2026, 1, 1), "us")),
        folds=folds,
    )
