"""``roostr join`` against a real broker: one Outcome per scored signal, equal to an independent
computation, also when the joiner is killed halfway and restarted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from label_world import expected_labels, scored_json, world
from scoring_service_support import ConsumerProcess, wait_until
from topic_reading import read_topic

from roostr.contracts import Outcome
from roostr.kafka import make_producer
from roostr.settings import Settings

HORIZON_DAYS, TOLERANCE_H, GRACE_H = 30, 4, 2


@pytest.fixture
def join_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "outcome_horizon_days": HORIZON_DAYS,
            "outcome_entry_tolerance_hours": TOLERANCE_H,
            "outcome_grace_hours": GRACE_H,
            "outcome_lookback_days": 100,
            "outcome_idle_partition_s": 2,
        }
    )


def publish_world(
    settings: Settings, seed: int, tick_share: float = 1.0
) -> tuple[list[dict], list, list]:
    """The world's signals, the first ``tick_share`` of its ticks and one bad tick; returns the
    signals, every tick, and the ticks not published yet.

    Ticks go out in time order across tickers, as a live feed publishes them: a ticker whose
    ticks came far behind the others' would be resolved on the watermark, its later ticks late.
    """
    signals, ticks = world(seed, tickers=6, days=80)
    ticks = sorted(ticks, key=lambda t: t.ts)
    cut = int(len(ticks) * tick_share)
    producer = make_producer(settings, **{"linger.ms": 5})
    for signal in signals:
        producer.produce(settings.topic_scored, scored_json(signal), signal["ticker"].encode())
    publish_ticks(settings, ticks[:cut])
    producer.produce(settings.topic_prices, b"{not json", b"AAA")  # bad input: dead-lettered
    assert producer.flush(30) == 0
    return signals, ticks, ticks[cut:]


def publish_ticks(settings: Settings, ticks: list) -> None:
    producer = make_producer(settings, **{"linger.ms": 5})
    for tick in ticks:
        producer.produce(settings.topic_prices, tick.model_dump_json(), tick.ticker.encode())
        producer.poll(0)
    assert producer.flush(30) == 0


def outcomes_by_id(settings: Settings, wanted: int, timeout_s: float = 90.0) -> dict[str, list]:
    found: dict[str, list[Outcome]] = {}

    def complete() -> bool:
        found.clear()
        for message in read_topic(settings, settings.topic_outcomes, 0, 1.0, 0.5):
            outcome = Outcome.model_validate_json(message.value())
            found.setdefault(outcome.signal_id, []).append(outcome)
        return len(found) >= wanted

    wait_until(complete, timeout_s, f"{wanted} outcomes")
    return found


def assert_labels(found: dict[str, list[Outcome]], signals: list[dict], ticks: list) -> None:
    from datetime import timedelta

    expected = expected_labels(
        signals, ticks, timedelta(days=HORIZON_DAYS), timedelta(hours=TOLERANCE_H),
        timedelta(hours=GRACE_H),
    )  # fmt: skip
    assert set(found) == set(expected)
    for signal_id, answer in expected.items():
        first, *again = found[signal_id]
        assert all(o == first for o in again), f"{signal_id} labelled differently twice"
        assert (first.status, first.hit_at) == (answer.status, answer.hit_at), signal_id
        assert first.max_multiple == pytest.approx(answer.max_multiple), signal_id
        assert first.return_at_horizon == pytest.approx(answer.return_at_horizon), signal_id


def test_every_scored_signal_gets_the_outcome_its_prices_define(
    join_settings: Settings, tmp_path: Path
) -> None:
    signals, ticks, _rest = publish_world(join_settings, seed=11)
    joiner = ConsumerProcess(join_settings, tmp_path, "joiner", command="join")
    try:
        found = outcomes_by_id(join_settings, len(signals))
        assert_labels(found, signals, ticks)
        assert {o[0].status for o in found.values()} == {"won", "lost", "unresolved"}
        dead = read_topic(join_settings, join_settings.topic_dlq, 1, timeout_s=10)
        assert [json.loads(m.value())["source_topic"] for m in dead] == [join_settings.topic_prices]
        assert joiner.terminate() == 0
    finally:
        joiner.ensure_stopped()


@pytest.mark.parametrize("mode", ["at-least-once", "transactional"])
def test_a_joiner_killed_halfway_resumes_from_its_state_without_relabelling(
    join_settings: Settings, tmp_path: Path, mode: str, request: pytest.FixtureRequest
) -> None:
    """At-least-once may re-emit identical outcomes; transactional (``join --transactional``)
    shows a read_committed reader each outcome once."""
    args = ["--transactional"] if mode == "transactional" else []
    if args:
        request.getfixturevalue("real_transactions")
    settings = join_settings.model_copy(update={"batch_size": 50})
    signals, ticks, _rest = publish_world(settings, seed=12)
    first = ConsumerProcess(settings, tmp_path, "first", *args, command="join")
    try:
        wait_until(lambda: len(first.events("batch_joined")) >= 5, 60, "a few batches")
        first.kill()
        restarted = ConsumerProcess(settings, tmp_path, "restarted", *args, command="join")
        try:
            found = outcomes_by_id(settings, len(signals), timeout_s=120)
            assert_labels(found, signals, ticks)
            restored = restarted.wait_for_event("joiner_state_restored")
            assert restored["entries"] > 0  # it resumed from the changelog, not from scratch
            if args:
                assert all(len(o) == 1 for o in found.values()), "an outcome read twice"
                assert restarted.terminate() == 0, restarted.tail()
        finally:
            restarted.ensure_stopped()
    finally:
        first.ensure_stopped()


def test_two_joiners_one_killed_while_the_other_takes_over_label_everything_once(
    join_settings: Settings, tmp_path: Path
) -> None:
    """A rebalance moves partitions and their state: the survivor restores what the killed member
    held and every signal still gets exactly the outcome its prices define."""
    # The pause between the two halves of the prices must not look like quiet tickers.
    settings = join_settings.model_copy(update={"batch_size": 40, "outcome_idle_partition_s": 20})
    first = ConsumerProcess(settings, tmp_path, "first", command="join")
    second = ConsumerProcess(settings, tmp_path, "second", command="join")
    try:
        # Both in the group before any data, so that neither labels everything on its own.
        wait_until(lambda: second.events("joiner_state_restored"), 90, "the second member assigned")
        signals, ticks, rest = publish_world(settings, seed=13, tick_share=0.5)
        wait_until(
            lambda: first.events("batch_joined") and second.events("batch_joined"), 90,
            "both members labelling",
        )  # fmt: skip
        held = {e["partition"] for e in second.events("joiner_state_restored")}
        restored_before = len(first.events("joiner_state_restored"))
        second.kill()
        publish_ticks(settings, rest)  # the second half of the prices: only the survivor reads it
        found = outcomes_by_id(settings, len(signals), timeout_s=150)
        assert_labels(found, signals, ticks)
        taken_over = {
            e["partition"] for e in first.events("joiner_state_restored")[restored_before:]
        }
        assert held <= taken_over  # it restored the partitions the killed member held
        assert first.terminate() == 0
    finally:
        first.ensure_stopped()
        second.ensure_stopped()
