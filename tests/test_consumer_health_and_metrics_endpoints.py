"""Operators see the service: liveness, readiness once in the group, Prometheus metrics."""

from __future__ import annotations

from pathlib import Path

import pytest
from scoring_service_support import (
    ConsumerProcess,
    good_records,
    http_get,
    metric,
    produce,
    wait_until,
)

from roostr.settings import Settings

pytestmark = pytest.mark.slow


def test_probes_and_metrics_follow_the_service(settings: Settings, tmp_path: Path) -> None:
    settings = settings.model_copy(update={"mode": "parallel"})  # no model: degraded to rules
    consumer = ConsumerProcess(settings, tmp_path, "scorer")
    try:
        port = consumer.wait_for_event("http_listening")["port"]
        assert port > 0
        assert http_get(port, "/healthz")[0] == 200
        wait_until(lambda: http_get(port, "/readyz")[0] == 200, 60, "readiness")
        produce(settings, [*good_records(10), (b"TAO", b"{broken")])
        wait_until(lambda: metric(port, "roostr_records_in_total") == 11.0, 60, "records counted")
        text = http_get(port, "/metrics")[1]
        assert 'roostr_records_dead_lettered_total{error_kind="invalid_json"} 1.0' in text
        assert "roostr_records_degraded_total 10.0" in text
        info = 'roostr_model_info{error="",mode="parallel",shadow_version="",version=""} 1.0'
        assert info in text
        assert "roostr_end_to_end_seconds_count 11.0" in text
        wait_until(lambda: "roostr_consumer_lag{" in http_get(port, "/metrics")[1], 30, "lag gauge")
        assert metric(port, "roostr_consumer_stalled") == 0.0
        assert http_get(port, "/nowhere")[0] == 404
        assert consumer.terminate() == 0, consumer.tail()
    finally:
        consumer.ensure_stopped()
