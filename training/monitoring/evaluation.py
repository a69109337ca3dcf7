"""What ``roostr monitor`` measures, as a pure function of outcomes, scored signals and the model.

Everything is in event time, so a re-run over the same topics gives the same report:

- Outcome windows end at ``as_of``: the newest outcome's decision time (``hit_at`` of a win,
  posting + horizon otherwise) minus the horizon. Every signal posted by then is decided; a later
  window would hold only the early winners (losers resolve at the horizon's end) and overstate
  the win rate. ``history`` is consecutive windows back from ``as_of``, the first being
  "current"; ``baseline`` is the ``monitor_baseline_days`` before the current window.
- Recent scored signals (drift, score spread, degraded share) are those posted within
  ``monitor_drift_window_days`` of the newest scored signal.
- The champion's age is event time: from the label cutoff of its training data (the matured-
  label cutoff the registry records) to the newest scored signal. Never the wall clock, so a
  backfill or a replay ages a model by the data's time. A model without one (the bootstrap
  prior, trained on synthetic data) has no age.

"Win rate" is the deployed decision's: the share of actionable signals (final score >= 7, what
bots trade) that won. A model's precision is the same for its own ML score; recall and AUC as in
``training.predictive_metrics``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from roostr.contracts import Outcome, ScoredSignal
from roostr.drift import FeatureDrift, drift
from roostr.settings import Settings
from training.predictive_metrics import (
    ACTIONABLE_SCORE,
    ScoreRow,
    evaluate_scores,
    win_rate_by_score,
)

__all__ = [
    "Champion",
    "ModelComparison",
    "MonitorReport",
    "RecentScoring",
    "WindowStats",
    "evaluate",
]


@dataclass(frozen=True)
class Champion:
    """What the registry says about the model in use."""

    version: str
    label_cutoff: datetime | None  # event time its training labels were final at
    feature_reference: Mapping[str, Any] | None = None
    shadow_version: str | None = None


@dataclass(frozen=True)
class WindowStats:
    """The deployed decision's quality over one window of posting times, and the champion's."""

    name: str
    start: datetime
    end: datetime
    outcomes: int
    win_rate: float | None
    recall: float | None
    auc: float | None
    model_outcomes: int
    model_precision: float | None
    model_auc: float | None
    buckets: list[ScoreRow]


@dataclass(frozen=True)
class ModelComparison:
    """Champion and shadow judged on the same outcomes (those scored while the shadow ran)."""

    champion_version: str | None
    shadow_version: str
    outcomes: int
    champion: dict[str, Any]
    shadow: dict[str, Any]


@dataclass(frozen=True)
class RecentScoring:
    """The latest scored signals: their spread over ML scores, degraded share and drift."""

    start: datetime | None
    end: datetime | None
    signals: int
    ml_scored: int
    score_buckets_used: int
    degraded_share: float | None
    drift: list[FeatureDrift]


@dataclass(frozen=True)
class MonitorReport:
    as_of: datetime | None
    history: list[WindowStats]
    baseline: WindowStats | None
    comparisons: list[ModelComparison]
    recent: RecentScoring
    champion_version: str | None
    model_age_days: float | None
    group_lag: int | None
    notes: list[str] = field(default_factory=list)

    @property
    def current(self) -> WindowStats | None:
        return self.history[0] if self.history else None


def evaluate(
    outcomes: Sequence[Outcome],
    scored: Sequence[ScoredSignal],
    champion: Champion | None,
    settings: Settings,
    group_lag: int | None = None,
) -> MonitorReport:
    """The monitor's numbers; duplicates (at-least-once delivery) count once per signal_id."""
    decided = [o for o in _unique(outcomes) if o.label is not None]
    notes: list[str] = []
    as_of = _as_of(decided, settings.outcome_horizon_days)
    history: list[WindowStats] = []
    baseline = None
    comparisons: list[ModelComparison] = []
    if as_of is None:
        notes.append("no decided outcomes yet")
    else:
        width = timedelta(days=settings.monitor_window_days)
        for i in range(settings.monitor_history_windows):
            end = as_of - i * width
            history.append(_window(f"w{i}" if i else "current", decided, end - width, end))
        start = as_of - width - timedelta(days=settings.monitor_baseline_days)
        baseline = _window("baseline", decided, start, as_of - width)
        comparisons = _comparisons(decided)
    recent = _recent(_unique(scored), champion, settings, notes)
    age = None
    if champion is not None and champion.label_cutoff is not None and recent.end is not None:
        age = (recent.end - champion.label_cutoff) / timedelta(days=1)
    return MonitorReport(
        as_of=as_of,
        history=history,
        baseline=baseline,
        comparisons=comparisons,
        recent=recent,
        champion_version=champion.version if champion else None,
        model_age_days=age,
        group_lag=group_lag,
        notes=notes,
    )


def _unique(records: Sequence[Any]) -> list[Any]:
    seen: set[str] = set()
    unique = []
    for record in records:
        if record.signal_id not in seen:
            seen.add(record.signal_id)
            unique.append(record)
    return unique


def _as_of(decided: Sequence[Outcome], horizon_days: float) -> datetime | None:
    horizon = timedelta(days=horizon_days)
    decisions = [o.hit_at if o.hit_at is not None else o.posted_at + horizon for o in decided]
    return max(decisions) - horizon if decisions else None


def _window(name: str, decided: Sequence[Outcome], start: datetime, end: datetime) -> WindowStats:
    rows = [o for o in decided if start < o.posted_at <= end and o.final_score is not None]
    y = np.array([o.label for o in rows], dtype=np.int64)
    final = np.array([o.final_score for o in rows], dtype=np.int64)
    deployed = evaluate_scores(y, final) if rows else None
    ml_rows = [o for o in rows if o.ml_score is not None]
    model = _score_quality([o.label for o in ml_rows], [o.ml_score for o in ml_rows])
    return WindowStats(
        name=name,
        start=start,
        end=end,
        outcomes=len(rows),
        win_rate=_win_rate(y, final),
        recall=deployed["recall"] if deployed else None,
        auc=deployed["auc"] if deployed else None,
        model_outcomes=len(ml_rows),
        model_precision=model["precision"],
        model_auc=model["auc"],
        buckets=win_rate_by_score(y, final),
    )


def _win_rate(y: npt.NDArray[np.int64], scores: npt.NDArray[np.int64]) -> float | None:
    """Share of actionable rows that won; None when nothing was actionable (not 0)."""
    actionable = scores >= ACTIONABLE_SCORE
    return float(y[actionable].mean()) if actionable.any() else None


def _score_quality(labels: Sequence[Any], scores: Sequence[Any]) -> dict[str, Any]:
    """Precision (as a win rate), recall and AUC of 1-10 scores; Nones without rows."""
    if not labels:
        return {"rows": 0, "precision": None, "recall": None, "auc": None, "buckets_used": 0}
    y = np.asarray(labels, dtype=np.int64)
    s = np.asarray(scores, dtype=np.int64)
    quality = evaluate_scores(y, s)
    return {
        "rows": quality["rows"],
        "precision": _win_rate(y, s),
        "recall": quality["recall"],
        "auc": quality["auc"],
        "buckets_used": int(np.unique(s).size),
    }


def _comparisons(decided: Sequence[Outcome]) -> list[ModelComparison]:
    """Per shadow version seen, champion and shadow on exactly the same outcomes, newest first."""
    groups: dict[str, list[Outcome]] = {}
    for o in decided:
        if o.shadow_model_version is not None and o.ml_score is not None:
            groups.setdefault(o.shadow_model_version, []).append(o)
    comparisons = []
    for version, rows in groups.items():
        labels = [o.label for o in rows]
        champions = {o.model_version for o in rows}
        comparisons.append(
            ModelComparison(
                champion_version=champions.pop() if len(champions) == 1 else None,
                shadow_version=version,
                outcomes=len(rows),
                champion=_score_quality(labels, [o.ml_score for o in rows]),
                shadow=_score_quality(labels, [o.shadow_score for o in rows]),
            )
        )
    newest = {v: max(o.posted_at for o in rows) for v, rows in groups.items()}
    return sorted(comparisons, key=lambda c: newest[c.shadow_version], reverse=True)


def _recent(
    scored: Sequence[ScoredSignal], champion: Champion | None, settings: Settings, notes: list[str]
) -> RecentScoring:
    if not scored:
        notes.append("no scored signals to measure drift on")
        return RecentScoring(None, None, 0, 0, 0, None, [])
    end = max(s.posted_at for s in scored)
    start = end - timedelta(days=settings.monitor_drift_window_days)
    rows = [s for s in scored if s.posted_at > start]
    ml_scores = [s.ml_score for s in rows if s.ml_score is not None]
    found: list[FeatureDrift] = []
    reference = champion.feature_reference if champion else None
    if reference is None:
        notes.append("the champion has no feature reference: drift not measured")
    else:
        names = list(reference["features"])
        X = np.array(
            [[_number(s.features.get(name)) for name in names] for s in rows], dtype=np.float64
        )
        found = drift(reference, X, names)
    return RecentScoring(
        start=start,
        end=end,
        signals=len(rows),
        ml_scored=len(ml_scores),
        score_buckets_used=len(set(ml_scores)),
        degraded_share=sum(s.degraded for s in rows) / len(rows),
        drift=found,
    )


def _number(value: float | None) -> float:
    return np.nan if value is None else value
