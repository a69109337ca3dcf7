"""A real Prometheus, loading the shipped alert rules, scrapes a running ``roostr consume`` and
``roostr monitor --serve`` and fires the degraded alerts on their metrics.

Prometheus scrapes and evaluates every second. Its rules are deploy/prometheus/alerts.yml with
one change, in the test's copy only: every ``for:`` is shortened to 1 s, so an alert fires
seconds after its condition holds instead of minutes. The consumer runs mode ``parallel`` without
a model, so it scores every signal with the rules alone (degraded): no degraded alert is active
before the first signal, and both the consumers' rate-based one and the monitor's share-based one
fire once signals are scored, and nothing else does (no ML scores: no spread alert).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from deploy_files import DEPLOY
from prometheus_support import PrometheusServer
from scoring_service_support import ConsumerProcess, good_records, produce, wait_until

from roostr.settings import Settings

pytestmark = pytest.mark.slow

DEGRADED_ALERTS = {"RoostrConsumerDegraded", "RoostrMonitorDegradedShare"}


def _rules_firing_after_1s(workdir: Path) -> Path:
    """The shipped rules with every ``for:`` shortened to 1 s, written to ``workdir``."""
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = "1s"
    path = workdir / "alerts.yml"
    path.write_text(yaml.safe_dump(rules))
    return path


def test_degraded_alerts_go_from_inactive_to_firing(settings: Settings, tmp_path: Path) -> None:
    settings = settings.model_copy(update={"mode": "parallel", "monitor_interval_s": 1.0})
    consumer = ConsumerProcess(settings, tmp_path, "scorer")
    monitor = ConsumerProcess(
        settings, tmp_path, "monitor", "--serve", "--http-port", "0", command="monitor"
    )
    processes = [consumer, monitor]
    try:
        targets = {
            "roostr-scoring": f"127.0.0.1:{consumer.wait_for_event('http_listening')['port']}",
            "roostr-monitor": f"127.0.0.1:{monitor.wait_for_event('http_listening')['port']}",
        }
        prometheus = PrometheusServer(tmp_path, _rules_firing_after_1s(tmp_path), targets)
        processes.append(prometheus)
        prometheus.wait_ready()
        up = dict.fromkeys(targets, "up")
        wait_until(lambda: prometheus.target_health() == up, 60, "both targets scraped")

        # The rules run on the scraped series: a member without a model in a mode that wants
        # one fires at once; nothing else may, before any signal is scored.
        wait_until(
            lambda: _state(prometheus, "RoostrModelNotLoaded") == "firing", 60, "model alert"
        )
        assert set(prometheus.alerts()) == {"RoostrModelNotLoaded"}, prometheus.alerts()

        produce(settings, good_records(150))
        wait_until(
            lambda: all(_state(prometheus, name) == "firing" for name in DEGRADED_ALERTS),
            120,
            "degraded alerts firing",
        )
        alerts = prometheus.alerts()
        assert set(alerts) == {"RoostrModelNotLoaded", *DEGRADED_ALERTS}, alerts
        assert alerts["RoostrMonitorDegradedShare"]["labels"] == {
            "alertname": "RoostrMonitorDegradedShare", "job": "roostr-monitor",
            "instance": targets["roostr-monitor"], "severity": "page",
            "roostr_alert": "consumer_degraded",
        }  # fmt: skip
        assert float(alerts["RoostrMonitorDegradedShare"]["value"]) == 1.0
        assert alerts["RoostrConsumerDegraded"]["labels"]["roostr_alert"] == "consumer_degraded"
        assert float(alerts["RoostrConsumerDegraded"]["value"]) == 1.0
    finally:
        for process in processes:
            process.ensure_stopped()


def _state(prometheus: PrometheusServer, alert: str) -> str:
    """``pending`` or ``firing``; ``inactive`` when Prometheus lists no such alert."""
    return prometheus.alerts().get(alert, {}).get("state", "inactive")
