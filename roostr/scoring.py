"""The Scorer: RawSignals → features → rule score → ML probability → final score and tier.

This is THE scoring code: the consumer, backtests and training evaluation all call it, so a
signal scores the same everywhere. Work is vectorised per batch (one feature matrix, one
``inplace_predict``, one contributions call); the only per-row Python is building the output
records, as plain dicts (``score_records``) that the consumer encodes without a model in between.

Modes (the seed's rollout):

===========  ===================================  ===========================================
mode         final_score                          ML fields (probability, score, reasons)
===========  ===================================  ===========================================
rules        rule score                           not computed (the model is not touched)
parallel     rule score                           computed and logged, hybrid_score too
hybrid       round(0.3·rule + 0.7·ml), half up    computed
ml           ml score                             computed
===========  ===================================  ===========================================

``degraded`` is True whenever the mode wanted the model (every mode but ``rules``) and none was
usable — no model loaded, or the model raised or returned a non-probability. The batch is then
scored by the rules (final = rule score), ML fields are null, and ``last_model_error`` says why.
A model failure never raises out of ``score_records``: a bad model must not stop the stream.

A shadow model (``set_shadow``, the challenger of a live A/B test) is scored on the same feature
matrix in every mode but ``rules``: one more ``predict_proba`` per batch, only while one is set.
Its probability, score and version are added to each record as ``shadow_*`` and never decide
anything; a shadow that fails leaves them out of that batch and changes nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, get_args

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from roostr.contracts import MODES, Mode, RawSignal, ScoredSignal
from roostr.features import FEATURE_NAMES, FEATURE_SET_VERSION, FeatureExtractor, feature_dicts
from roostr.logs import get_logger
from roostr.model import ConvictionModel
from roostr.rules import DEFAULT_RULE_SET, RULE_SETS, rule_scores
from roostr.scale import hybrid_score, probability_to_score, round_score, tier_for_score

__all__ = ["Scorer", "Unscored", "scored_signals"]

log = get_logger(__name__)

# RawSignal's context blocks (market, trends, onchain): the fields whose value is a model.
_NESTED_FIELDS = tuple(
    name
    for name, info in RawSignal.model_fields.items()
    if any(isinstance(t, type) and issubclass(t, BaseModel) for t in get_args(info.annotation))
)


class Unscored(NamedTuple):
    """Why one signal has no scored record: its features or its record could not be computed."""

    signal_id: str
    error: str


@dataclass(frozen=True)
class BatchScores:
    """One batch's numbers, row-aligned with the input (ML arrays are None without a model)."""

    features: npt.NDArray[np.float32]
    rule_score: npt.NDArray[np.int64]
    ml_probability: npt.NDArray[np.float64] | None
    ml_score: npt.NDArray[np.int64] | None
    hybrid_score: npt.NDArray[np.float64] | None
    final_score: npt.NDArray[np.int64]
    reasons: list[list[dict[str, Any]]] | None  # per row, Reasons as JSON-ready dicts
    degraded: bool


class Scorer:
    """Scores batches of RawSignals; owns the feature state through its extractor.

    ``set_model`` / ``set_mode`` take effect from the next batch (hot reload, rollback to rules).
    """

    def __init__(
        self,
        extractor: FeatureExtractor,
        model: ConvictionModel | None = None,
        mode: Mode = "parallel",
        rule_set: str = DEFAULT_RULE_SET,
        top_k_reasons: int = 3,
    ) -> None:
        if rule_set not in RULE_SETS:
            raise ValueError(f"unknown rule set {rule_set!r}; known: {sorted(RULE_SETS)}")
        self.extractor = extractor
        self.rule_set = rule_set
        self.top_k_reasons = top_k_reasons
        self.last_model_error: str | None = None
        self._model: ConvictionModel | None = None
        self._shadow: ConvictionModel | None = None
        self._shadow_error: str | None = None
        self._mode: Mode = "parallel"
        self.set_mode(mode)
        self.set_model(model)

    @property
    def model(self) -> ConvictionModel | None:
        return self._model

    @property
    def model_version(self) -> str | None:
        return self._model.version if self._model is not None else None

    @property
    def mode(self) -> Mode:
        return self._mode

    def set_model(self, model: ConvictionModel | None) -> None:
        """Swap the model (None = no model); a model for another feature set counts as no model."""
        if model is not None and (
            model.feature_names != FEATURE_NAMES or model.feature_set_version != FEATURE_SET_VERSION
        ):
            self.last_model_error = (
                f"model {model.version} expects feature set {model.feature_set_version}, "
                f"extractor computes {FEATURE_SET_VERSION}"
            )
            log.error("model_rejected", model_version=model.version, error=self.last_model_error)
            model = None
        else:
            self.last_model_error = None
        self._model = model

    def set_shadow(self, model: ConvictionModel | None) -> None:
        """Score ``model`` beside the champion from the next batch (None stops it)."""
        self._shadow, self._shadow_error = model, None

    def set_mode(self, mode: Mode) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; known: {MODES}")
        self._mode = mode

    def score_records(
        self, signals: Sequence[RawSignal], scored_at: datetime
    ) -> list[dict[str, Any] | Unscored]:
        """Per input, in input order, a JSON-ready record in ScoredSignal's layout or ``Unscored``.

        THE definition of a scored record: plain dicts of Python values (no numpy scalars, no
        models) that ``orjson`` encodes directly, because building a model per signal cost
        several times more than scoring it. Every value is computed here within the contract's
        bounds (scores clipped 1..10, probabilities checked in ``_predict``) and the RawSignal
        part was validated on the way in.

        The feature state is read and advanced exactly once per signal, by ``featurise``, which
        isolates a failing row itself. Everything after the matrix (rules, model, records) is a
        function of (signals, matrix): if it fails for the batch it is redone per signal on that
        signal's row, so one failing signal becomes ``Unscored`` and every other record is the
        one a clean batch gives.
        """
        rows = self.extractor.featurise(signals)
        if not rows.errors:
            return self._records_or_isolate(signals, rows.matrix, scored_at)
        ok = [i for i in range(len(signals)) if i not in rows.errors]
        records = iter(
            self._records_or_isolate([signals[i] for i in ok], rows.matrix[ok], scored_at)
        )
        return [
            Unscored(signal.signal_id, f"features failed: {rows.errors[i]}")
            if i in rows.errors
            else next(records)
            for i, signal in enumerate(signals)
        ]

    def _records_or_isolate(
        self, signals: Sequence[RawSignal], X: npt.NDArray[np.float32], scored_at: datetime
    ) -> list[dict[str, Any] | Unscored]:
        """``_records`` for the batch, or per signal when the batch fails (state is not touched)."""
        try:
            return list(self._records(signals, X, scored_at))
        except Exception as exc:  # noqa: BLE001 - find the failing signal instead of failing all
            log.error("batch_records_failed", error=repr(exc), signals=len(signals))
        results: list[dict[str, Any] | Unscored] = []
        for i, signal in enumerate(signals):
            try:
                results.extend(self._records([signal], X[i : i + 1], scored_at))
            except Exception as exc:  # noqa: BLE001 - see score_records
                results.append(Unscored(signal.signal_id, f"{type(exc).__name__}: {exc}"))
        return results

    def _numbers(self, signals: Sequence[RawSignal], X: npt.NDArray[np.float32]) -> BatchScores:
        """Rules, model and final scores of a feature matrix: a function of (signals, X, model)."""
        rule = np.asarray(rule_scores(self.rule_set, signals, X), dtype=np.int64)
        mode = self._mode
        prob = ml = blended = None
        reasons: list[list[dict[str, Any]]] | None = None
        if mode != "rules" and self._model is not None and len(signals):
            prob, reasons = self._predict(self._model, X)
        if prob is not None:
            ml = probability_to_score(prob)
            blended = hybrid_score(rule, ml)
            final = {"parallel": rule, "hybrid": round_score(blended), "ml": ml}[mode]
        else:
            final = rule
        degraded = mode != "rules" and prob is None and len(signals) > 0
        return BatchScores(X, rule, prob, ml, blended, final, reasons, degraded)

    def _records(
        self, signals: Sequence[RawSignal], X: npt.NDArray[np.float32], scored_at: datetime
    ) -> list[dict[str, Any]]:
        """The scored records of a feature matrix (see ``score_records``)."""
        batch = self._numbers(signals, X)
        n = len(signals)
        features = feature_dicts(batch.features)
        tiers = tier_for_score(batch.final_score).tolist() if n else []
        rule = batch.rule_score.tolist()
        final = batch.final_score.tolist()
        prob, ml, blended, reasons = _columns(batch, n)
        model_version = self.model_version if batch.ml_probability is not None else None
        mode, degraded = self._mode, batch.degraded
        records = []
        for i, signal in enumerate(signals):
            record = _signal_record(signal)
            record.update(
                scored_at=scored_at,
                features=features[i],
                feature_set_version=FEATURE_SET_VERSION,
                rule_score=rule[i],
                ml_probability=prob[i],
                ml_score=ml[i],
                hybrid_score=blended[i],
                final_score=final[i],
                tier=tiers[i],
                mode=mode,
                model_version=model_version,
                reasons=reasons[i],
                degraded=degraded,
            )
            records.append(record)
        if (shadow := self._shadow) is not None and self._mode != "rules" and n:
            self._add_shadow(shadow, records, X)
        return records

    def _add_shadow(
        self, shadow: ConvictionModel, records: list[dict[str, Any]], X: npt.NDArray[np.float32]
    ) -> None:
        """The shadow's ``shadow_*`` fields on each record; nothing at all when it fails."""
        try:
            prob = _win_probabilities(shadow, X)
        except Exception as exc:  # noqa: BLE001 - a challenger must never cost the champion
            error = f"{type(exc).__name__}: {exc}"
            if error != self._shadow_error:
                log.error("shadow_failed", model_version=shadow.version, error=error)
            self._shadow_error = error
            return
        self._shadow_error = None
        for record, p, score in zip(
            records, prob.tolist(), probability_to_score(prob).tolist(), strict=True
        ):
            record.update(
                shadow_model_version=shadow.version, shadow_probability=p, shadow_score=score
            )

    def _predict(
        self, model: ConvictionModel, X: npt.NDArray[np.float32]
    ) -> tuple[npt.NDArray[np.float64] | None, list[list[dict[str, Any]]] | None]:
        """Probabilities and reasons, or (None, None) with ``last_model_error`` set."""
        try:
            prob = _win_probabilities(model, X)
            reasons = model.reason_rows(X, top_k=self.top_k_reasons)
        except Exception as exc:  # noqa: BLE001 - any model failure degrades to rules, by design
            error = f"{type(exc).__name__}: {exc}"
            if error != self.last_model_error:
                log.error("model_failed", model_version=model.version, error=error)
            self.last_model_error = error
            return None, None
        self.last_model_error = None
        return prob, reasons


def scored_signals(records: Sequence[dict[str, Any] | Unscored]) -> list[ScoredSignal]:
    """``Scorer.score_records``'s output as ScoredSignals, for backtests and tests: validating
    each record also checks that the record layout is the contract's. Raises on an Unscored."""
    scored = []
    for record in records:
        if isinstance(record, Unscored):
            raise ValueError(f"signal {record.signal_id!r} not scored: {record.error}")
        scored.append(ScoredSignal.model_validate(record))
    return scored


def _win_probabilities(
    model: ConvictionModel, X: npt.NDArray[np.float32]
) -> npt.NDArray[np.float64]:
    """Column 1 of ``predict_proba``, checked: a model that returns anything but probabilities
    of shape (n, 2) raises, and the caller degrades as for any model failure."""
    proba = np.asarray(model.predict_proba(X), dtype=np.float64)
    if proba.shape != (X.shape[0], 2) or not np.all((proba >= 0) & (proba <= 1)):
        raise ValueError("model returned values that are not probabilities")
    return proba[:, 1]


def _signal_record(signal: RawSignal) -> dict[str, Any]:
    """``signal.model_dump()`` (extra fields included) at a third of its cost.

    The contract's nested blocks are flat models without extra fields, so their ``__dict__`` is
    their dump. ``reactions`` and extra values are shared with the signal, not copied: records
    are read-only. No extra field is named like a scored field: the contract refuses those.
    """
    record = signal.__dict__.copy()
    for name in _NESTED_FIELDS:
        block = record[name]
        if block is not None:
            record[name] = block.__dict__.copy()
    extra = signal.__pydantic_extra__
    if extra:
        record.update(extra)
    return record


def _columns(
    batch: BatchScores, n: int
) -> tuple[list[float | None], list[int | None], list[float | None], list[list[dict[str, Any]]]]:
    """The ML columns as Python lists, or all-None / empty lists when there was no ML."""
    if batch.ml_probability is None or batch.ml_score is None or batch.hybrid_score is None:
        return [None] * n, [None] * n, [None] * n, [[] for _ in range(n)]
    reasons = batch.reasons if batch.reasons is not None else [[] for _ in range(n)]
    return (
        batch.ml_probability.tolist(),
        batch.ml_score.tolist(),
        batch.hybrid_score.tolist(),
        reasons,
    )
