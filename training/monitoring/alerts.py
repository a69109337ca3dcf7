"""The seed's alerts over a MonitorReport: the job's exit status and the ``roostr_monitor_alert``
gauges. ``deploy/prometheus/alerts.yml`` states the same conditions over the exported metrics.

A window or sample below its minimum size (``monitor_min_outcomes``, ``monitor_min_scored``)
never fires an alert: too few rows say nothing either way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from roostr.settings import Settings
from training.monitoring.evaluation import MonitorReport

__all__ = ["ALERTS", "Alert", "check_alerts"]

ALERTS = (
    "win_rate_down",
    "precision_low",
    "feature_drift",
    "scores_undifferentiated",
    "model_expired",
    "consumer_degraded",
    "consumer_lagging",
)


@dataclass(frozen=True)
class Alert:
    """One firing alert: which, and a sentence with the numbers behind it."""

    name: str
    message: str


def check_alerts(report: MonitorReport, settings: Settings) -> list[Alert]:
    """Every alert that fires, in ``ALERTS`` order."""
    return list(_fired(report, settings))


def _fired(report: MonitorReport, s: Settings) -> Iterator[Alert]:
    current, baseline = report.current, report.baseline
    if (
        current is not None
        and baseline is not None
        and min(current.outcomes, baseline.outcomes) >= s.monitor_min_outcomes
        and current.win_rate is not None
        and baseline.win_rate is not None
        and baseline.win_rate - current.win_rate > s.monitor_win_rate_drop
    ):
        yield Alert(
            "win_rate_down",
            f"win rate {current.win_rate:.1%} in the window to {current.end:%Y-%m-%d}, "
            f"{baseline.win_rate:.1%} before: down more than {s.monitor_win_rate_drop:.0%} "
            "points; retrain",
        )

    windows = report.history[: s.monitor_precision_windows]
    if len(windows) == s.monitor_precision_windows and all(
        w.model_outcomes >= s.monitor_min_outcomes
        and w.model_precision is not None
        and w.model_precision < s.monitor_min_precision
        for w in windows
    ):
        shown = ", ".join(f"{w.model_precision:.1%}" for w in windows)
        yield Alert(
            "precision_low",
            f"champion precision {shown} in the last {len(windows)} windows, below "
            f"{s.monitor_min_precision:.0%}: model failure, investigate",
        )

    recent = report.recent
    enough = recent.signals >= s.monitor_min_scored
    drifting = [
        d
        for d in recent.drift
        if d.value > (s.monitor_drift_psi if d.kind == "continuous" else s.monitor_drift_js)
    ]
    if enough and drifting:
        top = ", ".join(f"{d.feature} {d.value:.3f}" for d in drifting[: s.monitor_top_features])
        yield Alert(
            "feature_drift",
            f"{len(drifting)} features drifted (PSI > {s.monitor_drift_psi}, JS > "
            f"{s.monitor_drift_js}): {top}; collect more data",
        )

    if recent.ml_scored >= s.monitor_min_scored and (
        recent.score_buckets_used < s.monitor_min_score_buckets
    ):
        yield Alert(
            "scores_undifferentiated",
            f"recent ML scores use {recent.score_buckets_used} of 10 buckets (fewer than "
            f"{s.monitor_min_score_buckets}): no differentiation; roll back",
        )

    if report.model_age_days is not None and report.model_age_days > s.monitor_model_max_age_days:
        yield Alert(
            "model_expired",
            f"champion {report.champion_version} is {report.model_age_days:.0f} days old "
            f"(expiry {s.monitor_model_max_age_days:g}); retrain",
        )

    if (
        enough
        and recent.degraded_share is not None
        and recent.degraded_share > s.monitor_max_degraded_share
    ):
        yield Alert(
            "consumer_degraded",
            f"{recent.degraded_share:.1%} of recent signals were scored degraded (rules "
            "because the model failed); check the consumers' model_load_failed logs",
        )

    if report.group_lag is not None and report.group_lag > s.monitor_max_group_lag:
        yield Alert(
            "consumer_lagging",
            f"the scoring group lags {report.group_lag} records (limit "
            f"{s.monitor_max_group_lag}); scale out the consumers",
        )
