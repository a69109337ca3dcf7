"""Can the model be trusted this week: the model panel's numbers.

Champion, shadow and model age from the registry; alerts, drift and degraded share from the
monitor's own code (``training.monitoring``: ``evaluate`` and ``check_alerts`` on the outcomes
and scored signals the board holds, the same as ``roostr monitor`` computes them); the
calibration check (win rate by score bucket, champion against shadow) on matured outcomes
only; the scoring group's lag from the broker (``roostr.group_lag``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from board.store import BoardStore
from roostr.contracts import Outcome
from roostr.drift import FeatureDrift
from roostr.group_lag import GroupLagReader
from roostr.labels import matured_at
from roostr.registry import ModelRegistry, RegistryError
from training.monitoring.alerts import Alert, check_alerts
from training.monitoring.evaluation import evaluate
from training.monitoring.job import champion_of
from training.predictive_metrics import ScoreRow, win_rate_by_score

__all__ = ["ModelPanel", "model_panel"]

TOP_DRIFT = 8


@dataclass(frozen=True)
class ModelPanel:
    champion: str | None
    shadow: str | None
    mode: str
    mode_announced: bool  # False: no switch on models.updates, the configured default applies
    model_age_days: float | None
    matured: int
    calibration: dict[str, list[ScoreRow]]  # "champion" / "shadow" → win_rate_by_score
    alerts: list[Alert]
    drift: list[FeatureDrift]
    degraded_share: float | None
    group_lag: int | None
    notes: list[str]


def model_panel(store: BoardStore, lag: GroupLagReader) -> ModelPanel:
    """The panel as of now (reads the registry and asks the broker for the group's lag)."""
    settings = store.settings
    notes: list[str] = []
    try:
        champion = champion_of(ModelRegistry(settings.registry_dir))
    except RegistryError as exc:
        champion = None
        notes.append(f"registry unreadable: {exc}")
    outcomes = [c.outcome for c in store.calls() if c.outcome is not None]
    lags = lag.read()
    report = evaluate(
        outcomes,
        store.scored(),
        champion,
        settings,
        group_lag=sum(p.lag for p in lags.values()) if lags is not None else None,
    )
    cutoff = store.cutoff
    matured = [o for o in outcomes if cutoff is not None and matured_at(o) <= cutoff]
    return ModelPanel(
        champion=champion.version if champion else None,
        shadow=champion.shadow_version if champion else None,
        mode=store.announced_mode or settings.mode,
        mode_announced=store.announced_mode is not None,
        model_age_days=report.model_age_days,
        matured=len(matured),
        calibration=_calibration(matured),
        alerts=check_alerts(report, settings),
        drift=sorted(report.recent.drift, key=lambda d: d.value, reverse=True)[:TOP_DRIFT],
        degraded_share=report.recent.degraded_share,
        group_lag=report.group_lag,
        notes=notes + report.notes,
    )


def _calibration(matured: list[Outcome]) -> dict[str, list[ScoreRow]]:
    """Win rate by ML score bucket: the champion's on every decided matured outcome it scored,
    the shadow's on those it scored beside it."""
    decided = [o for o in matured if o.label is not None]
    champion = [(o.label, o.ml_score) for o in decided if o.ml_score is not None]
    shadow = [(o.label, o.shadow_score) for o in decided if o.shadow_score is not None]
    return {name: _by_score(pairs) for name, pairs in (("champion", champion), ("shadow", shadow))}


def _by_score(pairs: Sequence[tuple[int | None, int | None]]) -> list[ScoreRow]:
    labels = np.array([label for label, _score in pairs], dtype=np.int64)
    scores = np.array([score for _label, score in pairs], dtype=np.int64)
    return win_rate_by_score(labels, scores)
