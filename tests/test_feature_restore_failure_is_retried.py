"""A feature-state restore that fails is retried, its partitions paused meanwhile: no record is
scored on partial state, none is skipped, and the member reports itself not ready until it
holds every partition's state (``ScoringService._prepare_state``)."""

from __future__ import annotations

import pytest
from scoring_service_support import (
    RunningService,
    assert_each_input_once_after_dedupe,
    assert_scored_as_one_clean_run,
    failing_once,
    good_records,
    half_scored_by_a_member_that_left,
    read_outputs,
    wait_until,
)
from structlog.testing import capture_logs

import consumer.feature_state
from roostr.settings import Settings


def test_a_failed_restore_is_retried_and_nothing_is_scored_on_partial_state(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings.model_copy(update={"feature_snapshot_every": 20})
    records = good_records(240, prefix="restore")
    ids = {f"restore:7:{i}" for i in range(240)}

    half_scored_by_a_member_that_left(settings, records)
    monkeypatch.setattr(
        consumer.feature_state,
        "restore_partitions",
        failing_once(consumer.feature_state.restore_partitions),
    )
    with capture_logs() as events:
        second = RunningService(settings)
        try:
            wait_until(
                lambda: any(e["event"] == "feature_state_restore_failed" for e in events),
                60,
                "the injected restore failure",
            )
            assert not second.service.ready()
            scored, dead = read_outputs(settings, expected=240, timeout_s=90)
            wait_until(second.service.ready, 30, "the member ready after the retry")
        finally:
            second.stop()

    names = [e["event"] for e in events]
    failed = names.index("feature_state_restore_failed")
    assert "feature_state_restore_recovered" in names[failed:]
    (restored,) = [e for e in events if e["event"] == "feature_state_restored"]
    assert restored["snapshot_entries"] > 0  # the retry loaded the first member's snapshots
    assert not dead
    assert_each_input_once_after_dedupe(scored, ids, allow_duplicates=True)
    assert_scored_as_one_clean_run(scored, records, None, settings.mode)
