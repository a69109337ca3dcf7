"""``roostr monitor``: read the topics and the registry, evaluate, report; once or periodically.

Reads ``signals.outcomes`` and ``signals.scored`` to their ends as of the start of the run (no
group joined, nothing committed: the monitor never moves anyone's offsets), the champion and its
feature reference from the registry, and the scoring group's lag from the broker.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any, TextIO

from confluent_kafka import KafkaException

from roostr.contracts import ScoredSignal
from roostr.errors import TopicUnreadable
from roostr.group_lag import GroupLagReader
from roostr.logs import get_logger
from roostr.registry import ModelRegistry, RegistryError
from roostr.settings import Settings
from roostr.topic_reader import read_parsed
from training.monitoring.alerts import Alert, check_alerts
from training.monitoring.evaluation import Champion, MonitorReport, evaluate
from training.outcomes_topic import read_outcomes

__all__ = ["EXIT_ALERTS", "EXIT_UNREADABLE", "Monitor", "champion_of", "render_json", "render_text"]

log = get_logger("roostr.monitor")

EXIT_ALERTS = 1
EXIT_UNREADABLE = 2


class Monitor:
    """One evaluation per ``run_once``; ``serve`` repeats it until ``stop``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def run_once(self) -> tuple[MonitorReport, list[Alert]]:
        """Raises TopicUnreadable when a topic is missing or cannot be read to its end."""
        s = self.settings
        outcomes, bad_outcomes = read_outcomes(s)
        scored, bad_scored = read_parsed(
            s, s.topic_scored, ScoredSignal.model_validate_json, purpose="monitor"
        )
        lags = GroupLagReader(s, s.group_scoring, s.topic_raw).read()
        report = evaluate(
            outcomes,
            scored,
            champion_of(ModelRegistry(s.registry_dir)),
            s,
            group_lag=sum(p.lag for p in lags.values()) if lags is not None else None,
        )
        for topic, bad in ((s.topic_outcomes, bad_outcomes), (s.topic_scored, bad_scored)):
            if bad:
                report.notes.append(f"{bad} invalid records on {topic} skipped")
        alerts = check_alerts(report, s)
        log.info(
            "monitor_evaluated",
            outcomes=len(outcomes),
            scored=len(scored),
            alerts=[a.name for a in alerts],
        )
        return report, alerts

    def serve(self, publish: Callable[[MonitorReport, list[Alert]], None]) -> None:
        """Evaluate now and every ``monitor_interval_s``; a failed run is logged and retried."""
        while not self._stopping.is_set():
            try:
                publish(*self.run_once())
            except (TopicUnreadable, RegistryError, KafkaException) as exc:
                log.error("monitor_failed", error=str(exc))  # a broker outage included
            self._stopping.wait(self.settings.monitor_interval_s)


def champion_of(registry: ModelRegistry) -> Champion | None:
    """The champion as the monitor judges it: version, label cutoff, feature reference, shadow."""
    version = registry.champion()
    if version is None:
        return None
    metadata = registry.metadata(version)
    cutoff = metadata.get("training_data", {}).get("label_cutoff")
    return Champion(
        version=version,
        label_cutoff=datetime.fromisoformat(cutoff) if cutoff else None,
        feature_reference=metadata.get("feature_reference"),
        shadow_version=registry.shadow(),
    )


def render_json(report: MonitorReport, alerts: list[Alert], out: TextIO) -> None:
    """The whole report as one JSON object (dates ISO-8601, NaN-free)."""
    payload = asdict(report) | {"alerts": [asdict(a) for a in alerts]}
    out.write(json.dumps(payload, default=_jsonable, sort_keys=True) + "\n")


def render_text(report: MonitorReport, alerts: list[Alert], out: TextIO) -> None:
    """A few lines an operator reads at a glance; the JSON has everything."""
    lines = [f"as of {report.as_of:%Y-%m-%d %H:%M}Z" if report.as_of else "as of: no outcomes"]
    lines.append(f"champion: {report.champion_version or 'none'}" + _age(report))
    lines.append("window              outcomes  win rate  recall  AUC    model prec  model AUC")
    for w in [*report.history, *([report.baseline] if report.baseline else [])]:
        lines.append(
            f"{w.name:<9} {w.end:%Y-%m-%d}  {w.outcomes:>8}  {_pct(w.win_rate):>8}  "
            f"{_pct(w.recall):>6}  {_num(w.auc):>5}  {_pct(w.model_precision):>10}  "
            f"{_num(w.model_auc):>9}"
        )
    if report.current is not None:
        calibration = " ".join(
            f"{b['score']}:{_pct(b['win_rate'])}({b['rows']})"
            for b in report.current.buckets
            if b["rows"]
        )
        lines.append(f"win rate by final score (current): {calibration or '–'}")
    for c in report.comparisons:
        lines.append(
            f"A/B on {c.outcomes} outcomes: champion {c.champion_version or 'mixed'} "
            f"precision {_pct(c.champion['precision'])} AUC {_num(c.champion['auc'])} | "
            f"shadow {c.shadow_version} precision {_pct(c.shadow['precision'])} "
            f"AUC {_num(c.shadow['auc'])}"
        )
    recent = report.recent
    top = ", ".join(f"{d.feature} {d.value:.3f} ({d.kind})" for d in recent.drift[:5])
    lines.append(
        f"recent scored: {recent.signals}, ML score buckets used {recent.score_buckets_used}, "
        f"degraded {_pct(recent.degraded_share)}; top drift: {top or '–'}"
    )
    lines.append(f"scoring group lag: {report.group_lag if report.group_lag is not None else '–'}")
    lines.extend(f"note: {note}" for note in report.notes)
    lines.extend(f"ALERT {a.name}: {a.message}" for a in alerts)
    lines.append(f"{len(alerts)} alerts" if alerts else "ok: no alerts")
    out.write("\n".join(lines) + "\n")


def _age(report: MonitorReport) -> str:
    if report.model_age_days is None:
        return ", age unknown (no label cutoff: a bootstrap prior)"
    return f", {report.model_age_days:.1f} days past its label cutoff"


def _pct(value: float | None) -> str:
    return f"{value:.1%}" if value is not None else "–"


def _num(value: float | None) -> str:
    return f"{value:.3f}" if value is not None else "–"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")
