"""SIGTERM mid-stream: the member finishes its batch, commits, leaves the group, exits 0.

Everything it emitted was committed, so its successor re-emits nothing: no duplicates at all.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from scoring_service_support import (
    ConsumerProcess,
    SteadyProducer,
    assert_each_input_once_after_dedupe,
    good_records,
    read_outputs,
    wait_until,
)

from roostr.settings import Settings

pytestmark = pytest.mark.slow


def test_sigterm_drains_commits_and_a_restart_does_not_re_emit(
    settings: Settings, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"mode": "rules"})
    records = good_records(1200, prefix="drain")
    ids = {f"drain:7:{i}" for i in range(len(records))}
    stream = SteadyProducer(settings, records, rate=150)
    stream.start()
    first = ConsumerProcess(settings, tmp_path, "first")
    second = None
    try:
        wait_until(lambda: len(first.events("batch_scored")) >= 5, 60, "first member scoring")
        asked = time.monotonic()
        assert first.terminate(timeout_s=30) == 0, first.tail()
        assert time.monotonic() - asked < 30
        assert first.events("consumer_stopped")
        second = ConsumerProcess(settings, tmp_path, "second")
        stream.join(60)
        scored, dead = read_outputs(settings, expected=len(ids), timeout_s=90)
        # Under load the first member may have scored everything: still, SIGTERM the second only
        # once it runs (its handler is installed before ``consumer_started``).
        second.wait_for_event("consumer_started")
        assert second.terminate() == 0, second.tail()
    finally:
        first.ensure_stopped()
        if second is not None:
            second.ensure_stopped()
    assert not dead
    assert_each_input_once_after_dedupe(scored, ids, allow_duplicates=False)
    assert all(s.mode == "rules" and not s.degraded for s in scored)
