"""deploy/'s Prometheus rules and Grafana dashboard speak of metrics the services export, cover
every alert of ``roostr monitor``, and use the thresholds the settings default to."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from prometheus_client import CollectorRegistry

from consumer.metrics import ServiceMetrics
from roostr.settings import Settings
from training.monitoring.alerts import ALERTS
from training.monitoring.exporter import MonitorMetrics

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
METRIC = re.compile(r"\b(roostr_[a-z0-9_]+)\b")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "info": ("_info",)}


def _exported(registry: CollectorRegistry) -> set[str]:
    names = set()
    for family in registry.collect():
        names.update(family.name + s for s in SUFFIXES.get(family.type, ("",)))
    return names


EXPORTED = _exported(ServiceMetrics().registry) | _exported(MonitorMetrics().registry)


def _rules() -> list[dict]:
    groups = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def _dashboard_exprs() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana" / "roostr.json").read_text())
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def test_every_monitor_alert_has_a_rule() -> None:
    covered = {rule["labels"].get("roostr_alert") for rule in _rules()}
    assert set(ALERTS) <= covered


def test_rules_and_panels_use_exported_metrics_only() -> None:
    for expr in [rule["expr"] for rule in _rules()] + _dashboard_exprs():
        unknown = set(METRIC.findall(expr)) - EXPORTED
        assert not unknown, f"{expr}: {unknown}"


def test_every_monitor_metric_is_on_the_dashboard() -> None:
    shown = {name for expr in _dashboard_exprs() for name in METRIC.findall(expr)}
    assert _exported(MonitorMetrics().registry) <= shown


def test_rule_thresholds_are_the_settings_defaults() -> None:
    defaults = Settings()
    checked = 0
    for rule in _rules():
        setting = rule["annotations"].get("setting")
        if setting is None:
            continue
        value = getattr(defaults, setting)
        assert re.search(rf"(?<![\d.]){re.escape(f'{value:g}')}(?![\d.])", rule["expr"]), (
            rule["alert"], setting, value,
        )  # fmt: skip
        checked += 1
    assert checked >= 6
