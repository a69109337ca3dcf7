"""Prometheus in the tests: its binaries (Debian's ``prometheus`` package) and a server process on
a free loopback port, queried through its HTTP API."""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
from pathlib import Path
from typing import Any

import pytest
import yaml
from scoring_service_support import LoggedProcess, http_get, wait_until

from roostr.embedded_broker import free_port


def prometheus_binary(name: str) -> str:
    """The path of ``prometheus`` or ``promtool``. Without it a developer's run skips, but CI
    (``CI`` set, to anything) fails: .ci/run installs them, and a broken install must not pass
    as skipped tests."""
    if path := shutil.which(name):
        return path
    reason = f"{name} is not installed (apt-get install prometheus)"
    if "CI" in os.environ:
        pytest.fail(f"{reason}; CI runs the Prometheus tests")
    pytest.skip(reason)


class PrometheusServer(LoggedProcess):
    """Prometheus scraping ``targets`` (job name → ``host:port``) and evaluating ``rule_file``
    every second, with its config, storage and log in ``workdir``."""

    def __init__(self, workdir: Path, rule_file: Path, targets: dict[str, str]) -> None:
        self.port = free_port()
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(rule_file)],
            "scrape_configs": [
                {"job_name": job, "static_configs": [{"targets": [target]}]}
                for job, target in targets.items()
            ],
        }
        config_file = workdir / "prometheus.yml"
        config_file.write_text(yaml.safe_dump(config))
        argv = [
            prometheus_binary("prometheus"),
            f"--config.file={config_file}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
        ]
        super().__init__(argv, dict(os.environ), workdir / "prometheus.log")

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        wait_until(lambda: self._ready() or self.process.poll() is not None, timeout_s, "ready")
        assert self.process.poll() is None, f"prometheus exited: {self.tail()}"

    def api(self, path: str) -> Any:
        """The ``data`` of ``GET /api/v1/<path>``."""
        status, body = http_get(self.port, f"/api/v1/{path}")
        assert status == 200, (path, status)
        return json.loads(body)["data"]

    def target_health(self) -> dict[str, str]:
        """Job name → ``up``, ``down`` or ``unknown`` (not scraped yet)."""
        return {t["labels"]["job"]: t["health"] for t in self.api("targets")["activeTargets"]}

    def alerts(self) -> dict[str, dict[str, Any]]:
        """Pending and firing alerts by name (one series each here); inactive ones are absent."""
        return {a["labels"]["alertname"]: a for a in self.api("alerts")["alerts"]}

    def _ready(self) -> bool:
        try:
            return http_get(self.port, "/-/ready")[0] == 200
        except urllib.error.URLError:  # not listening yet
            return False
