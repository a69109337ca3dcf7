"""Champion / challenger retraining from the logged outcomes.

1. The outcomes become training rows (``labelled_outcomes``: deduped, matured by the label
   cutoff — the joiner's event-time watermark, never the wall clock — resolved, this feature set,
   features as logged). Too few, or one class only, is refused (``RetrainRefused``). So the
   training rows, the validation slices and the hold-out all hold final labels only.
2. ``training.pipeline.train`` holds out the latest outcomes in time (purged), fits the challenger
   on the rest (whose latest slice is its validation split) and measures it.
3. The champion (from the registry) and the rules (the logged rule scores) are measured on the
   same hold-out rows.
4. The challenger is promoted only if its AUC beats the champion's by ``retrain_promote_margin``
   and it passes the gates: AUC not below the rules' (minus ``retrain_rules_tolerance``), scores
   over at least ``retrain_min_score_buckets`` buckets, ECE at most ``retrain_max_ece``.
   Without a usable champion only the gates apply.
5. A challenger refused, the champion's calibration alone is re-fitted on the matured training
   rows (``training.recalibration``: the bootstrap prior ranks real signals well but is
   calibrated to its synthetic world) and measured on the same hold-out; it goes through the
   same gates, except that it must lower the champion's calibration error instead of raising
   its AUC (its ranking is the champion's).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from roostr.contracts import Outcome
from roostr.model import ConvictionModel
from roostr.registry import ModelRegistry, RegistryError
from roostr.settings import Settings
from training.cv import time_holdout
from training.datasets import LabelledSet, labelled_outcomes
from training.metrics import calibration_table, evaluate_probabilities
from training.pipeline import TrainingError, TrainingResult, train
from training.recalibration import recalibrated

__all__ = [
    "Comparison",
    "RetrainRefused",
    "compare",
    "labelled_for_retrain",
    "recalibrated_champion",
]


class RetrainRefused(RuntimeError):
    """The outcomes cannot support a challenger (too few, one class)."""


@dataclass
class Comparison:
    """Challenger, champion and rules on one hold-out, and whether the challenger is promoted."""

    challenger: dict[str, Any]
    champion: dict[str, Any] | None
    champion_version: str | None
    rules: dict[str, Any]
    promote: bool
    reasons: list[str]

    def as_metrics(self) -> dict[str, Any]:
        return {
            "champion_version": self.champion_version,
            "champion": self.champion,
            "promote": self.promote,
            "reasons": self.reasons,
        }


def labelled_for_retrain(
    outcomes: Sequence[Outcome],
    settings: Settings,
    *,
    source: str,
    cutoff: datetime | None,
    invalid: int = 0,
) -> LabelledSet:
    """Step 1: the training rows matured at ``cutoff``, or RetrainRefused saying why there are
    not enough."""
    data = labelled_outcomes(outcomes, source=source, invalid=invalid, cutoff=cutoff)
    if data.y.size < settings.retrain_min_outcomes:
        raise RetrainRefused(
            f"only {data.y.size} matured labelled outcomes of the current feature set, "
            f"need at least {settings.retrain_min_outcomes} (skipped: {data.skipped})"
        )
    if np.unique(data.y).size < 2:
        raise RetrainRefused(f"all {data.y.size} labelled outcomes have label {data.y[0]}")
    return data


def challenger_for(
    data: LabelledSet, settings: Settings, seed: int, **params: Any
) -> TrainingResult:
    """Step 2 (``params`` override the estimator's defaults)."""
    try:
        return train(
            data.X,
            data.y,
            data.posted_at,
            data.rule_score,
            seed=seed,
            test_fraction=settings.retrain_holdout_fraction,
            params=params or None,
        )
    except TrainingError as exc:
        raise RetrainRefused(str(exc)) from exc


def compare(result: TrainingResult, registry: ModelRegistry, settings: Settings) -> Comparison:
    """Steps 3 and 4."""
    challenger = result.metrics["test"]
    rules = result.metrics["test_rules"]
    champion_version = registry.champion()
    champion = None
    if champion_version is not None:
        try:
            model = registry.load(champion_version)
        except RegistryError:
            champion_version = None  # trained on another feature set: it cannot compete
        else:
            p = model.predict_proba(result.X_test)
            champion = evaluate_probabilities(result.y_test, p)
            champion["calibration_table"] = calibration_table(result.y_test, p)
    reasons = _failed_gates(challenger, champion, rules, settings)
    return Comparison(challenger, champion, champion_version, rules, not reasons, reasons)


def recalibrated_champion(
    result: TrainingResult, data: LabelledSet, registry: ModelRegistry, settings: Settings
) -> tuple[ConvictionModel, Comparison] | None:
    """Step 5: the recalibrated champion and its verdict; None without a usable champion or
    rows to calibrate on."""
    champion_version = registry.champion()
    if champion_version is None:
        return None
    try:
        champion = registry.load(champion_version)
        train_idx, _test_idx = time_holdout(data.posted_at, settings.retrain_holdout_fraction)
        model = recalibrated(champion, data.X[train_idx], data.y[train_idx])
    except (RegistryError, TrainingError):
        return None
    before = evaluate_probabilities(result.y_test, champion.predict_proba(result.X_test))
    p = model.predict_proba(result.X_test)
    after = evaluate_probabilities(result.y_test, p) | {
        "calibration_table": calibration_table(result.y_test, p)
    }
    rules = result.metrics["test_rules"]
    reasons = _failed_gates(after, None, rules, settings)
    if after["ece"] >= before["ece"]:
        reasons.append(
            f"calibration error {after['ece']:.3f} does not improve on the champion's "
            f"{before['ece']:.3f}"
        )
    return model, Comparison(after, before, champion_version, rules, not reasons, reasons)


def _failed_gates(
    challenger: Mapping[str, Any],
    champion: Mapping[str, Any] | None,
    rules: Mapping[str, Any],
    settings: Settings,
) -> list[str]:
    """Why the challenger must not be promoted (empty: promote)."""
    auc = challenger["auc"]
    if auc is None:
        return ["the hold-out holds a single class: AUC undefined"]
    reasons = []
    if champion is not None and champion["auc"] is not None:
        needed = champion["auc"] + settings.retrain_promote_margin
        if auc < needed:
            reasons.append(
                f"AUC {auc:.3f} does not beat the champion's {champion['auc']:.3f} "
                f"by {settings.retrain_promote_margin:.3f}"
            )
    if rules["auc"] is not None and auc < rules["auc"] - settings.retrain_rules_tolerance:
        reasons.append(f"AUC {auc:.3f} is below the rules' {rules['auc']:.3f}")
    if challenger["score_buckets"] < settings.retrain_min_score_buckets:
        reasons.append(
            f"scores use {challenger['score_buckets']} bucket(s), "
            f"need {settings.retrain_min_score_buckets}"
        )
    if challenger["ece"] > settings.retrain_max_ece:
        reasons.append(
            f"calibration error {challenger['ece']:.3f} exceeds {settings.retrain_max_ece:.3f}"
        )
    return reasons
