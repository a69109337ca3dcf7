"""deploy/prometheus/ passes promtool: the config and the rules load, and every alert rule fires
on its crafted series and stays silent on healthy ones (``alerts_test.yml``), so a new alert
without both cases fails here."""

from __future__ import annotations

import subprocess
from collections import defaultdict

import yaml
from deploy_files import DEPLOY
from prometheus_support import prometheus_binary

PROMETHEUS = DEPLOY / "prometheus"


def _promtool(*args: str) -> None:
    """Runs in deploy/prometheus/, where the files' relative paths resolve."""
    done = subprocess.run(
        [prometheus_binary("promtool"), *args], cwd=PROMETHEUS, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_config_and_rules_pass_promtool_checks() -> None:
    _promtool("check", "config", "prometheus.yml")
    _promtool("check", "rules", "alerts.yml")


def test_alert_rules_pass_their_unit_tests() -> None:
    _promtool("test", "rules", "alerts_test.yml")


def test_every_alert_has_a_firing_and_a_silent_case() -> None:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    alerts = {rule["alert"] for group in groups for rule in group["rules"] if "alert" in rule}
    unit_tests = yaml.safe_load((PROMETHEUS / "alerts_test.yml").read_text())
    assert unit_tests["rule_files"] == ["alerts.yml"]
    cases: dict[str, set[str]] = defaultdict(set)
    for test in unit_tests["tests"]:
        for case in test.get("alert_rule_test", []):
            cases[case["alertname"]].add("firing" if case.get("exp_alerts") else "silent")
    both = {"firing", "silent"}
    lacking = {name: both - cases[name] for name in sorted(alerts) if cases[name] != both}
    assert not lacking, f"alerts_test.yml lacks these cases: {lacking}"
    assert set(cases) <= alerts, f"cases of unknown alerts: {set(cases) - alerts}"
