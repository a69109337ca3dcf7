"""Champion / challenger retraining from the logged outcomes.

1. The outcomes become training rows (``labelled_outcomes``: deduped, matured by the label
   cutoff — the joiner's event-time watermark, never the wall clock — resolved, this feature set,
   features as logged). Too few, or one class only, is refused (``RetrainRefused``). So the
   training rows, the validation slices and the walk-forward test rows hold final labels only.
2. ``training.trainer.train`` measures the challenger's procedure walk-forward over
   ``retrain_folds`` stretches of time (each predicted from the purged rows before it) and fits
   the challenger on every matured row.
3. The champion (from the registry) and the rules (the logged rule scores) are measured on the
   same walk-forward rows; the champion only on those posted after its own training labels'
   cutoff (it has seen the earlier ones), unless fewer than ``MIN_CHAMPION_ROWS`` remain: then on
   all of them, which favours the champion — the safe side.
4. The challenger is promoted only if its AUC beats the champion's by ``retrain_promote_margin``
   and it passes the gates: AUC not below the rules' (minus ``retrain_rules_tolerance``, by more
   than two standard errors of the paired difference on these rows; waived when it outranks
   the champion on the same rows, which would serve in its place), scores
   over at least ``retrain_min_score_buckets`` buckets, and a calibration error beyond its
   noise floor (the ECE a perfectly calibrated model shows on these rows) of at most
   ``retrain_max_ece``. Every AUC here counts only pairs of rows from the same walk-forward
   fold (``within_group_auc``): each fold is predicted by its own model, and pairs across
   folds would charge the challenger for the scale differences between its fold models that
   a fixed champion or the rules do not have.
   Only the gates apply without a usable champion, against a prior never fitted to real
   outcomes (no label cutoff: the bootstrap, trained on synthetic labels) and against a
   champion that ranks below the rules on these rows: neither is a standard worth defending,
   and the learning benchmark showed a thousand matured outcomes fit a model that serves the
   next period better than the prior in every world while the comparison, on a few hundred
   rows, kept the prior half the time.
5. A challenger refused, the champion's calibration alone is re-fitted on the matured rows
   (``training.recalibration``: the bootstrap prior ranks real signals well but is calibrated
   to its synthetic world), measured walk-forward the same way (each stretch's calibration
   fitted on the purged rows before it); it goes through the same gates, except that it must
   lower the champion's calibration error instead of raising its AUC (its ranking is the
   champion's).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from roostr.contracts import Outcome
from roostr.errors import RoostrError
from roostr.model import ConvictionModel
from roostr.registry import ModelRegistry, RegistryError
from roostr.settings import Settings
from training.cv import HORIZON
from training.datasets import LabelledSet, labelled_outcomes
from training.predictive_metrics import (
    calibration_table,
    ece_noise_floor,
    evaluate_probabilities,
    paired_auc_difference,
    within_group_auc,
)
from training.recalibration import recalibrated
from training.trainer import TrainingError, TrainingResult, train

__all__ = [
    "Comparison",
    "RetrainRefused",
    "compare",
    "labelled_for_retrain",
    "recalibrated_champion",
]


MIN_CHAMPION_ROWS = 100  # fewer out-of-sample rows cannot tell two models apart
SIGNIFICANT_SE = 2.0  # a challenger below the rules by more standard errors is refused


class RetrainRefused(RoostrError):
    """The outcomes cannot support a challenger (too few, one class)."""


@dataclass
class Comparison:
    """Challenger, champion and rules on the walk-forward test rows, and whether the challenger
    is promoted."""

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
            n_folds=settings.retrain_folds,
            params=params or None,
        )
    except TrainingError as exc:
        raise RetrainRefused(str(exc)) from exc


def compare(result: TrainingResult, registry: ModelRegistry, settings: Settings) -> Comparison:
    """Steps 3 and 4."""
    folds = result.fold_test
    challenger = (
        result.metrics["test"]
        | {"auc": within_group_auc(result.y_test, result.p_test, folds)}
        | _noise_aware(result.y_test, result.p_test, result.rule_test, folds)
    )
    rules = _rules(result)
    champion_version = registry.champion()
    champion = standard = None
    if champion_version is not None:
        try:
            model = registry.load(champion_version)
        except RegistryError:
            champion_version = None  # trained on another feature set: it cannot compete
        else:
            metadata = registry.metadata(champion_version)
            rows = _unseen_by(metadata, result.posted_at_test)
            y, p = result.y_test[rows], model.predict_proba(result.X_test[rows])[:, 1]
            champion = (
                evaluate_probabilities(y, p)
                | {"auc": within_group_auc(y, p, folds[rows])}
                | {"calibration_table": calibration_table(y, p), "rows": int(y.size)}
                | _noise_aware(y, p, result.rule_test[rows], folds[rows])
            )
            # the challenger on the same rows, so the two AUCs compare like with like
            challenger = challenger | {
                "auc_on_champion_rows": within_group_auc(y, result.p_test[rows], folds[rows])
            }
            # a prior never fitted to real outcomes (the bootstrap) is no standard to beat: the
            # first challenger fitted to them that passes the gates replaces it
            standard = None if _label_cutoff(metadata) is None else champion
    reasons = _failed_gates(challenger, standard, rules, settings, fallback=champion)
    return Comparison(challenger, champion, champion_version, rules, not reasons, reasons)


def _rules(result: TrainingResult) -> dict[str, Any]:
    """The rules' walk-forward metrics, their AUC within folds like the models' (rows without a
    logged rule score cannot be compared)."""
    scored = result.rule_test > 0
    auc = within_group_auc(
        result.y_test[scored], result.rule_test[scored], result.fold_test[scored]
    )
    return dict(result.metrics["test_rules"]) | {"auc": auc}


def _label_cutoff(metadata: Mapping[str, Any]) -> str | None:
    """The label cutoff of a registered model's training outcomes; None for a prior."""
    cutoff: str | None = (metadata.get("training_data") or {}).get("label_cutoff")
    return cutoff


def _unseen_by(metadata: Mapping[str, Any], posted_at: np.ndarray) -> np.ndarray:
    """The test rows a registered model never trained on: posted after its training labels'
    cutoff minus the horizon (none earlier matured into it). All rows for a prior (no cutoff)
    or if too few remain to compare (then the champion is favoured)."""
    cutoff = _label_cutoff(metadata)
    everything = np.ones(posted_at.size, dtype=bool)
    if cutoff is None:
        return everything
    seen_until = datetime.fromisoformat(cutoff) - HORIZON
    unseen = posted_at > np.datetime64(seen_until.replace(tzinfo=None), "us")
    return unseen if unseen.sum() >= MIN_CHAMPION_ROWS else everything


def recalibrated_champion(
    result: TrainingResult, data: LabelledSet, registry: ModelRegistry, settings: Settings
) -> tuple[ConvictionModel, Comparison] | None:
    """Step 5: the champion recalibrated on every matured row, and its verdict from the same
    walk-forward folds as the challenger's; None without a usable champion or rows to
    calibrate on."""
    champion_version = registry.champion()
    if champion_version is None:
        return None
    try:
        champion = registry.load(champion_version)
        p = np.concatenate(
            [
                recalibrated(champion, data.X[train], data.y[train]).predict_proba(data.X[test])[
                    :, 1
                ]
                for train, test in result.folds
            ]
        )
        model = recalibrated(champion, data.X, data.y)
    except (RegistryError, TrainingError):
        return None
    folds = result.fold_test
    before = evaluate_probabilities(result.y_test, champion.predict_proba(result.X_test)[:, 1])
    after: dict[str, Any] = {
        **evaluate_probabilities(result.y_test, p),
        "auc": within_group_auc(result.y_test, p, folds),
        "calibration_table": calibration_table(result.y_test, p),
        **_noise_aware(result.y_test, p, result.rule_test, folds),
    }
    rules = _rules(result)
    reasons = _failed_gates(after, None, rules, settings)
    if after["ece"] >= before["ece"]:
        reasons.append(
            f"calibration error {after['ece']:.3f} does not improve on the champion's "
            f"{before['ece']:.3f}"
        )
    return model, Comparison(after, dict(before), champion_version, rules, not reasons, reasons)


def _failed_gates(
    challenger: Mapping[str, Any],
    champion: Mapping[str, Any] | None,
    rules: Mapping[str, Any],
    settings: Settings,
    *,
    fallback: Mapping[str, Any] | None = None,
) -> list[str]:
    """Why the challenger must not be promoted (empty: promote). ``fallback`` is what serves if
    it is refused (the champion), measured on the same rows; the rules gate spares a challenger
    that outranks it: refusing one then serves a ranking further below the rules than the one
    refused (the bootstrap prior in the learning benchmark's sparse world)."""
    auc = challenger["auc"]
    if auc is None:
        return ["the walk-forward test rows hold a single class: AUC undefined"]
    reasons = []
    if champion is not None and champion["auc"] is not None and not _below_rules(champion):
        mine = challenger.get("auc_on_champion_rows", auc)
        if mine < champion["auc"] + settings.retrain_promote_margin:
            reasons.append(
                f"AUC {mine:.3f} does not beat the champion's {champion['auc']:.3f} "
                f"by {settings.retrain_promote_margin:.3f} (on {champion['rows']} test rows)"
            )
    below = _below_rules(challenger, SIGNIFICANT_SE, settings.retrain_rules_tolerance)
    if below and not _outranks(challenger, fallback):
        reasons.append(
            f"AUC {auc:.3f} is below the rules' {rules['auc']:.3f} (by "
            f"{-challenger['auc_minus_rules']:.3f}, more than {SIGNIFICANT_SE:g} standard errors "
            f"of {challenger['auc_minus_rules_se']:.3f})"
        )
    if challenger["score_buckets"] < settings.retrain_min_score_buckets:
        reasons.append(
            f"scores use {challenger['score_buckets']} bucket(s), "
            f"need {settings.retrain_min_score_buckets}"
        )
    if challenger["ece"] - challenger["ece_floor"] > settings.retrain_max_ece:
        reasons.append(
            f"calibration error {challenger['ece']:.3f} exceeds its noise floor "
            f"{challenger['ece_floor']:.3f} by more than {settings.retrain_max_ece:.3f}"
        )
    return reasons


def _outranks(challenger: Mapping[str, Any], fallback: Mapping[str, Any] | None) -> bool:
    """The challenger ranks above ``fallback`` on the rows they share (never without one)."""
    if fallback is None or fallback["auc"] is None:
        return False
    return bool(challenger.get("auc_on_champion_rows", challenger["auc"]) > fallback["auc"])


def _noise_aware(
    y: np.ndarray, p: np.ndarray, rule: np.ndarray, folds: np.ndarray
) -> dict[str, float]:
    """What the gates need to tell a scorer's faults from the noise of a few hundred rows: the
    ECE's noise floor (``ece_noise_floor``: a perfectly calibrated model shows an ECE of
    0.02–0.04 on the walk-forward rows of 1,000 outcomes, near 0.07 on 150 rows; the raw ECE
    counted that noise as miscalibration, and ECE minus it is the usual debiased estimate),
    the paired AUC difference (within ``folds``) with the rules on the rows that have a rule
    score and its standard error (absent when no fold's scored rows hold both classes)."""
    floor = {"ece_floor": ece_noise_floor(p)}
    scored = rule > 0
    paired = paired_auc_difference(y[scored], p[scored], rule[scored], folds[scored])
    if paired is None:
        return floor
    return floor | {"auc_minus_rules": paired[0], "auc_minus_rules_se": paired[1]}


def _below_rules(scorer: Mapping[str, Any], n_se: float = 0.0, tolerance: float = 0.0) -> bool:
    """Ranks worse than the rules on the same rows by more than ``tolerance`` plus ``n_se``
    standard errors of the difference. A challenger is refused only when the rows show it
    (a few hundred rows put the AUC difference's standard error near 0.02, and a challenger
    that takes the rule score as an input is the rules unless the data says otherwise); a
    champion below the rules at all is no standard to beat."""
    if "auc_minus_rules" not in scorer:
        return False
    return bool(scorer["auc_minus_rules"] + n_se * scorer["auc_minus_rules_se"] < -tolerance)
