"""The monitor's Prometheus metrics, set from one MonitorReport at a time (its own registry).

A number computed on too few rows to alert on (see ``monitoring.alerts``), or not computed yet,
is not exported (a labelled series) or reads NaN, so the rules in ``deploy/prometheus/alerts.yml``
need no sample-size guards of their own.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Gauge

from roostr.settings import Settings
from roostr.topic_reader import CONSUMER_ERRORS
from training.monitoring.alerts import ALERTS, Alert
from training.monitoring.evaluation import MonitorReport, WindowStats

__all__ = ["MonitorMetrics"]


class MonitorMetrics:
    """``roostr_monitor_*`` gauges; ``publish`` replaces every series with the report's."""

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        r.register(CONSUMER_ERRORS)  # its snapshots' readers (roostr.topic_reader)

        def gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
            return Gauge(f"roostr_monitor_{name}", doc, labels, registry=r)

        self.outcomes = gauge("outcomes", "Decided outcomes per window", ("window",))
        self.win_rate = gauge("win_rate", "Actionable (final >= 7) signals that won", ("window",))
        self.recall = gauge("recall", "Winners the final score called actionable", ("window",))
        self.auc = gauge("auc", "AUC of the final score", ("window",))
        self.model_precision = gauge(
            "model_precision", "Champion ML score >= 7 that won", ("window",)
        )
        self.model_auc = gauge("model_auc", "AUC of the champion's ML score", ("window",))
        self.bucket_win_rate = gauge(
            "bucket_win_rate", "Win rate per final score, current window", ("score",)
        )
        self.bucket_outcomes = gauge(
            "bucket_outcomes", "Outcomes per final score, current window", ("score",)
        )
        self.ab_outcomes = gauge(
            "ab_outcomes", "Outcomes scored by champion and shadow", ("shadow_version",)
        )
        self.ab_precision = gauge(
            "ab_precision", "Precision on the shared outcomes", ("role", "version")
        )
        self.ab_auc = gauge("ab_auc", "AUC on the shared outcomes", ("role", "version"))
        self.feature_drift = gauge(
            "feature_drift", "PSI (continuous) or JS divergence (categorical)", ("feature", "kind")
        )
        self.drift_threshold = gauge("drift_threshold", "Drift alert threshold", ("kind",))
        self.score_buckets_used = gauge("score_buckets_used", "ML score buckets recently used")
        self.degraded_share = gauge("degraded_share", "Recent signals scored degraded")
        self.group_lag = gauge("group_lag", "Scoring group lag in records")
        self.model_age_days = gauge("model_age_days", "Champion age at the newest signal")
        self.model_max_age_days = gauge("model_max_age_days", "Champion expiry")
        self.alert = gauge("alert", "1 while the alert fires", ("alert",))
        self.as_of = gauge("as_of_timestamp_seconds", "End of the latest outcome window")
        self.last_run = gauge(
            "last_run_timestamp_seconds", "When the monitor last evaluated (else started)"
        )
        # Before the first evaluation nothing is known: NaN, on which no rule fires (an unset
        # gauge reads 0, which pages for undifferentiated scores); the last run counts from the
        # start, so a monitor that never finishes an evaluation still alerts.
        for unknown in (
            self.score_buckets_used, self.degraded_share, self.group_lag, self.model_age_days,
            self.as_of,
        ):  # fmt: skip
            _set(unknown, None)
        self.last_run.set(time.time())

    def publish(self, report: MonitorReport, alerts: list[Alert], settings: Settings) -> None:
        s = settings
        for metric in (
            self.outcomes, self.win_rate, self.recall, self.auc, self.model_precision,
            self.model_auc, self.bucket_win_rate, self.bucket_outcomes, self.ab_outcomes,
            self.ab_precision, self.ab_auc, self.feature_drift,
        ):  # fmt: skip
            metric.clear()
        windows = [*report.history, *([report.baseline] if report.baseline else [])]
        for window in windows:
            self._window(window, s.monitor_min_outcomes)
        if report.current is not None:
            for bucket in report.current.buckets:
                self.bucket_outcomes.labels(str(bucket["score"])).set(bucket["rows"])
                if bucket["win_rate"] is not None:
                    self.bucket_win_rate.labels(str(bucket["score"])).set(bucket["win_rate"])
        if report.comparisons:
            latest = report.comparisons[0]
            self.ab_outcomes.labels(latest.shadow_version).set(latest.outcomes)
            for role, version, quality in (
                ("champion", latest.champion_version or "", latest.champion),
                ("shadow", latest.shadow_version, latest.shadow),
            ):
                _set(self.ab_precision.labels(role, version), quality["precision"])
                _set(self.ab_auc.labels(role, version), quality["auc"])
        recent = report.recent
        enough = recent.signals >= s.monitor_min_scored
        if enough:
            for d in recent.drift:
                self.feature_drift.labels(d.feature, d.kind).set(d.value)
        _set(self.degraded_share, recent.degraded_share if enough else None)
        # Signals scored without the model (mode rules, degraded) have no ML score to spread.
        enough_ml = recent.ml_scored >= s.monitor_min_scored
        _set(self.score_buckets_used, recent.score_buckets_used if enough_ml else None)
        self.drift_threshold.labels("continuous").set(s.monitor_drift_psi)
        self.drift_threshold.labels("categorical").set(s.monitor_drift_js)
        _set(self.group_lag, report.group_lag)
        _set(self.model_age_days, report.model_age_days)
        self.model_max_age_days.set(s.monitor_model_max_age_days)
        firing = {a.name for a in alerts}
        for name in ALERTS:
            self.alert.labels(name).set(int(name in firing))
        _set(self.as_of, report.as_of.timestamp() if report.as_of else None)
        self.last_run.set(time.time())

    def _window(self, w: WindowStats, min_outcomes: int) -> None:
        self.outcomes.labels(w.name).set(w.outcomes)
        if w.outcomes >= min_outcomes:
            for metric, value in ((self.win_rate, w.win_rate), (self.recall, w.recall)):
                _set(metric.labels(w.name), value)
            _set(self.auc.labels(w.name), w.auc)
        if w.model_outcomes >= min_outcomes:
            _set(self.model_precision.labels(w.name), w.model_precision)
            _set(self.model_auc.labels(w.name), w.model_auc)


def _set(gauge: Gauge, value: float | None) -> None:
    """A gauge without a value reads NaN, which no alert rule compares true with."""
    gauge.set(float("nan") if value is None else value)
