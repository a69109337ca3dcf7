"""Crashes and rebalances lose nothing: every input is in signals.scored after dedupe by id,
and change nothing: every record (duplicates too) is what one clean in-process run scores.

Separate ``roostr consume`` processes, real broker, a producer streaming all the while.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from scoring_service_support import (
    ConsumerProcess,
    SteadyProducer,
    assert_each_input_once_after_dedupe,
    assert_scored_as_one_clean_run,
    good_records,
    read_outputs,
    train_tiny_model,
    wait_until,
)

from roostr.registry import ModelRegistry
from roostr.settings import Settings

pytestmark = pytest.mark.slow


def _scored_count(process: ConsumerProcess) -> int:
    return sum(event["scored"] for event in process.events("batch_scored"))


def _start(settings: Settings, count: int, rate: float) -> tuple[SteadyProducer, set[str]]:
    """A champion model, and a producer streaming ``count`` signals in the background."""
    train_tiny_model(ModelRegistry(settings.registry_dir), seed=2)
    records = good_records(count, prefix="stream")
    stream = SteadyProducer(settings, records, rate)
    stream.start()
    return stream, {f"stream:7:{i}" for i in range(count)}


def _assert_as_one_clean_run(settings: Settings, stream: SteadyProducer, scored) -> None:
    model = ModelRegistry(settings.registry_dir).load()
    assert_scored_as_one_clean_run(scored, stream.records, model, settings.mode)


def test_kill_9_mid_stream_then_restart_loses_nothing(settings: Settings, tmp_path: Path) -> None:
    settings = settings.model_copy(update={"feature_snapshot_every": 40})
    stream, ids = _start(settings, count=1500, rate=150)
    first = ConsumerProcess(settings, tmp_path, "first")
    second = None
    try:
        wait_until(lambda: _scored_count(first) >= 200, 60, "first consumer scoring")
        first.kill()  # SIGKILL: no drain, no commit of the batch in flight, no group leave
        second = ConsumerProcess(settings, tmp_path, "second")
        stream.join(60)
        scored, dead = read_outputs(settings, expected=len(ids), timeout_s=90)
        assert second.terminate() == 0, second.tail()
    finally:
        first.ensure_stopped()
        if second is not None:
            second.ensure_stopped()
    assert not dead
    assert_each_input_once_after_dedupe(scored, ids, allow_duplicates=True)
    _assert_as_one_clean_run(settings, stream, scored)
    (restored,) = second.events("feature_state_restored")
    assert restored["snapshot_entries"] > 0  # state loaded from the partitions' snapshots...
    assert restored["tail_records"] < _scored_count(first)  # ...not replayed from the start


def test_scaling_one_to_three_and_back_loses_nothing(settings: Settings, tmp_path: Path) -> None:
    stream, ids = _start(settings, count=2400, rate=120)
    members = [ConsumerProcess(settings, tmp_path, "member-0")]
    try:
        wait_until(lambda: _scored_count(members[0]) >= 100, 60, "first member scoring")
        members += [ConsumerProcess(settings, tmp_path, f"member-{i}") for i in (1, 2)]
        wait_until(
            lambda: all(m.events("feature_state_restored") for m in members[1:]),
            60,
            "the new members to own partitions",
        )
        for member in members[1:]:
            assert member.terminate() == 0, member.tail()  # back to one: graceful leave
        stream.join(60)
        scored, dead = read_outputs(settings, expected=len(ids), timeout_s=90)
        assert members[0].terminate() == 0, members[0].tail()
    finally:
        for member in members:
            member.ensure_stopped()
    assert not dead
    # A member's last commit can be refused while the group rebalances (its outputs were already
    # delivered): at-least-once allows identical duplicates, never a gap.
    assert_each_input_once_after_dedupe(scored, ids, allow_duplicates=True)
    _assert_as_one_clean_run(settings, stream, scored)
