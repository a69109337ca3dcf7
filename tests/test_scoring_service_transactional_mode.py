"""``roostr consume --transactional``: outputs and offsets commit together, once per batch.

The happy path runs on any broker. Exactly-once across a crash or an aborted transaction needs
a broker that hides aborted records from read_committed readers, which the embedded Tansu broker
does not (``real_transactions``). The kill -9 storm is
``test_exactly_once_survives_a_kill_storm.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from scoring_service_support import (
    ConsumerProcess,
    RunningService,
    SteadyProducer,
    assert_each_input_once_after_dedupe,
    assert_scored_as_one_clean_run,
    good_records,
    half_scored_by_a_member_that_left,
    produce,
    read_outputs,
    wait_until,
)
from structlog.testing import capture_logs

import consumer.service
from roostr.contracts import ScoredSignal
from roostr.delivery import Output, TransactionAborted
from roostr.settings import Settings

pytestmark = pytest.mark.slow


def _signal_id(signal: ScoredSignal) -> str:
    return signal.signal_id


def test_transactional_member_scores_everything_once(settings: Settings, tmp_path: Path) -> None:
    settings = settings.model_copy(update={"mode": "rules"})
    records = good_records(300, prefix="txn")
    produce(settings, records)
    consumer = ConsumerProcess(settings, tmp_path, "scorer", "--transactional")
    try:
        scored, dead = read_outputs(settings, expected=len(records))
        assert consumer.terminate() == 0, consumer.tail()
    finally:
        consumer.ensure_stopped()
    assert not dead
    ids = {f"txn:7:{i}" for i in range(len(records))}
    assert_each_input_once_after_dedupe(scored, ids, allow_duplicates=False)
    restarted = ConsumerProcess(settings, tmp_path, "restarted", "--transactional")
    try:  # offsets were committed inside the transactions: nothing is scored again
        restarted.wait_for_event("feature_state_restored")
        again = read_outputs(settings, expected=len(records) + 1, timeout_s=5)[0]
        # Reads interleave partitions in fetch order, so compare per signal, not by position.
        assert sorted(again, key=_signal_id) == sorted(scored, key=_signal_id)
        assert restarted.terminate() == 0, restarted.tail()
    finally:
        restarted.ensure_stopped()


@pytest.mark.usefixtures("real_transactions")
def test_kill_9_in_transactional_mode_leaves_no_duplicates(
    settings: Settings, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"mode": "rules"})
    records = good_records(1200, prefix="txk")
    stream = SteadyProducer(settings, records, rate=150)
    stream.start()
    first = ConsumerProcess(settings, tmp_path, "first", "--transactional")
    second = None
    try:
        wait_until(lambda: len(first.events("batch_scored")) >= 5, 60, "first member scoring")
        first.kill()
        second = ConsumerProcess(settings, tmp_path, "second", "--transactional")
        stream.join(60)
        scored, _dead = read_outputs(settings, expected=len(records), timeout_s=90)
        assert second.terminate() == 0, second.tail()
    finally:
        first.ensure_stopped()
        if second is not None:
            second.ensure_stopped()
    ids = {f"txk:7:{i}" for i in range(len(records))}
    assert_each_input_once_after_dedupe(scored, ids, allow_duplicates=False)


def _aborted_once(original: Callable[..., int]) -> Callable[..., int]:
    """The first transaction is aborted after its outputs were written, as a rebalance that
    moved the group's generation on aborts it (ILLEGAL_GENERATION on its offsets)."""
    calls: list[int] = []

    def deliver(producer: Any, outputs: list[Output], *args: Any) -> int:
        if calls:
            return original(producer, outputs, *args)
        calls.append(len(outputs))
        producer.begin_transaction()
        for topic, key, value, partition in outputs:
            producer.produce(topic, value, key, partition)
        producer.flush(30)
        producer.abort_transaction(30)
        raise TransactionAborted("injected: ILLEGAL_GENERATION")

    return deliver


@pytest.mark.usefixtures("real_transactions")
def test_a_transaction_aborted_by_a_rebalance_is_read_again_on_restored_state(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings.model_copy(update={"mode": "rules", "feature_snapshot_every": 20})
    records = good_records(240, prefix="abt")
    half_scored_by_a_member_that_left(settings, records, transactional=True)
    monkeypatch.setattr(
        consumer.service,
        "deliver_in_transaction",
        _aborted_once(consumer.service.deliver_in_transaction),
    )
    with capture_logs() as events:
        second = RunningService(settings, transactional=True)
        try:
            scored, dead = read_outputs(settings, expected=len(records), timeout_s=90)
        finally:
            second.stop()
    assert "transaction_aborted" in [e["event"] for e in events]
    assert not dead
    ids = {f"abt:7:{i}" for i in range(len(records))}
    assert_each_input_once_after_dedupe(scored, ids, allow_duplicates=False)
    # The aborted batch was observed by the feature state once already: scored again on the
    # state restored to the last commit, it equals a run that never aborted.
    assert_scored_as_one_clean_run(scored, records, None, "rules")
