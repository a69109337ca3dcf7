"""``roostr monitor``: a one-shot check (exit status = alerts) or a Prometheus exporter."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any

from roostr.settings import Settings

if TYPE_CHECKING:
    from training.monitoring.alerts import Alert
    from training.monitoring.evaluation import MonitorReport
    from training.monitoring.job import Monitor

__all__ = ["register"]


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    monitor = subparsers.add_parser(
        "monitor", parents=[common],
        help="win rate, calibration, A/B, drift and model age from the topics; the seed's alerts",
        description="Evaluate signals.outcomes and recent signals.scored against the champion "
        "(windows in event time, see ROOSTR_MONITOR_*). Exit 0 when healthy, 1 when an alert "
        "fires, 2 when a topic or the registry cannot be read. --serve instead exposes the "
        "numbers as Prometheus metrics and re-evaluates every ROOSTR_MONITOR_INTERVAL_S.",
    )  # fmt: skip
    monitor.add_argument("--json", action="store_true", help="one JSON object on stdout")
    monitor.add_argument("--serve", action="store_true", help="serve /metrics, re-evaluate")
    monitor.add_argument("--http-port", type=int, default=None, help="0 picks a free port")
    monitor.set_defaults(handler=run_monitor)


def run_monitor(args: argparse.Namespace, settings: Settings) -> int:
    from roostr.errors import TopicUnreadable
    from roostr.kafka import require_broker
    from roostr.registry import RegistryError
    from training.monitoring.job import (
        EXIT_ALERTS,
        EXIT_UNREADABLE,
        Monitor,
        render_json,
        render_text,
    )

    if args.http_port is not None:
        settings = settings.model_copy(update={"monitor_http_port": args.http_port})
    require_broker(settings)
    monitor = Monitor(settings)
    if args.serve:
        return _serve(monitor, settings)
    try:
        report, alerts = monitor.run_once()
    except (TopicUnreadable, RegistryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    (render_json if args.json else render_text)(report, alerts, sys.stdout)
    return EXIT_ALERTS if alerts else 0


def _serve(monitor: Monitor, settings: Settings) -> int:
    """/metrics (ready after the first evaluation) until SIGTERM/SIGINT."""
    from roostr.health import HealthServer
    from roostr.logs import get_logger
    from training.monitoring.exporter import MonitorMetrics

    metrics = MonitorMetrics()
    evaluated = threading.Event()

    def publish(report: MonitorReport, alerts: list[Alert]) -> None:
        metrics.publish(report, alerts, settings)
        evaluated.set()

    server = HealthServer(
        settings.http_host, settings.monitor_http_port, metrics.registry,
        live=lambda: True, ready=evaluated.is_set,
    ).start()  # fmt: skip
    get_logger("roostr.monitor").info("http_listening", port=server.port)
    signal.signal(signal.SIGTERM, lambda _s, _f: monitor.stop())
    signal.signal(signal.SIGINT, lambda _s, _f: monitor.stop())
    try:
        monitor.serve(publish)
    finally:
        server.stop()
    return 0
