"""The label, computed incrementally in event time, equals an independent computation over the
whole history, whatever the relative order of signals and ticks, and across state restores."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest
from label_world import T0, expected_labels, interleave, scored_record, world

from roostr.contracts import Outcome, PriceTick
from roostr.label_state import LabelerState
from roostr.labels import LabelRules, PartitionLabeler

RULES = LabelRules(
    horizon=timedelta(days=30),
    entry_tolerance=timedelta(hours=4),
    grace=timedelta(hours=2),
    lookback=timedelta(days=100),
)


def run(labeler: PartitionLabeler, records: list) -> list[Outcome]:
    outcomes = []
    for record in records:
        if isinstance(record, PriceTick):
            outcomes += labeler.add_tick(record)
        else:
            outcomes += labeler.add_signal(record)
    return outcomes + labeler.advance(math.inf)


def assert_matches(outcomes: list[Outcome], signals: list[dict], ticks: list[PriceTick]) -> None:
    expected = expected_labels(signals, ticks, RULES.horizon, RULES.entry_tolerance, RULES.grace)
    got = {o.signal_id: o for o in outcomes}
    assert len(got) == len(outcomes) == len(signals)
    for signal_id, answer in expected.items():
        outcome = got[signal_id]
        assert outcome.status == answer.status, signal_id
        assert outcome.hit_at == answer.hit_at, signal_id
        assert outcome.max_multiple == pytest.approx(answer.max_multiple), signal_id
        assert outcome.return_at_horizon == pytest.approx(answer.return_at_horizon), signal_id


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_labels_equal_the_independent_computation_in_any_arrival_order(seed: int) -> None:
    signals, ticks = world(seed)
    outcomes = run(PartitionLabeler(RULES), interleave(signals, ticks, seed))
    assert_matches(outcomes, signals, ticks)
    statuses = {o.status for o in outcomes}
    assert statuses == {"won", "lost", "unresolved"}  # the world exercises every ending


def run_with_restarts(rules: LabelRules, records: list, seed: int) -> list[Outcome]:
    """``run``, restarting now and then from what was persisted (changes or a snapshot)."""
    store: dict = {}
    labeler = PartitionLabeler(rules)
    outcomes = []
    rng = random.Random(seed)
    for i, record in enumerate(records):
        if isinstance(record, PriceTick):
            outcomes += labeler.add_tick(record)
        else:
            outcomes += labeler.add_signal(record)
        if i % 97 == 0:
            outcomes += labeler.advance()
        if rng.random() < 0.03:  # a restart: only what was persisted survives
            if rng.random() < 0.6:
                store.update(labeler.state.changes())
            else:
                store = dict(labeler.state.snapshot())
            labeler = PartitionLabeler(rules, LabelerState.from_entries(store))
    return outcomes + labeler.advance(math.inf)


def test_state_restored_from_its_changes_or_a_snapshot_labels_identically() -> None:
    signals, ticks = world(5)
    assert_matches(run_with_restarts(RULES, interleave(signals, ticks, 5), 5), signals, ticks)


def tick(hours: float, price: float, ticker: str = "AAA") -> PriceTick:
    return PriceTick(ticker=ticker, ts=T0 + timedelta(hours=hours), price_usd=price, source="t")


def test_a_double_exactly_at_the_horizon_wins_and_one_after_it_does_not() -> None:
    labeler = PartitionLabeler(RULES)
    labeler.add_signal(scored_record("at", "AAA", T0, 10.0))
    labeler.add_signal(scored_record("after", "BBB", T0, 10.0))
    at = labeler.add_tick(tick(30 * 24, 20.0))
    assert [(o.signal_id, o.status, o.hit_at) for o in at] == [
        ("at", "won", T0 + timedelta(days=30))
    ]
    assert labeler.add_tick(tick(30 * 24 + 0.5, 25.0, "BBB")) == []
    lost = labeler.add_tick(tick(30 * 24 + 3, 25.0, "BBB"))  # BBB's clock passes horizon + grace
    assert [(o.signal_id, o.status) for o in lost] == [("after", "unresolved")]
    assert lost[0].reason == "no price within the horizon"


def test_outcomes_carry_the_logged_features_and_scores() -> None:
    labeler = PartitionLabeler(RULES)
    record = scored_record("s1", "AAA", T0, 1.0)
    (outcome,) = labeler.add_signal(record) + labeler.add_tick(tick(1, 2.5))
    assert outcome.features == record["features"]
    assert (outcome.rule_score, outcome.ml_probability, outcome.model_version) == (
        6,
        0.42,
        "v-test",
    )
    assert (outcome.label, outcome.entry_price, outcome.max_multiple) == (1, 1.0, 2.5)
    assert outcome.posted_at == T0


def test_a_quiet_ticker_resolves_against_the_watermark() -> None:
    labeler = PartitionLabeler(RULES)
    labeler.add_signal(scored_record("q", "QQQ", T0, 5.0))
    labeler.add_tick(tick(10, 5.5, "QQQ"))
    assert labeler.advance() == []
    (outcome,) = labeler.advance(watermark=(T0 + timedelta(days=31)).timestamp())
    assert (outcome.status, outcome.max_multiple) == ("lost", pytest.approx(1.1))


def test_a_redelivered_signal_is_labelled_once() -> None:
    labeler = PartitionLabeler(RULES)
    record = scored_record("dup", "AAA", T0, 1.0)
    labeler.add_signal(record)
    assert len(labeler.add_tick(tick(2, 3.0))) == 1
    assert labeler.add_signal(record) == []
    assert labeler.duplicates == 1


def test_a_signal_older_than_the_tick_buffer_is_unresolved_not_guessed() -> None:
    rules = LabelRules(horizon=timedelta(days=30), lookback=timedelta(days=2))
    labeler = PartitionLabeler(rules)
    for hour in range(0, 24 * 5, 6):
        labeler.add_tick(tick(hour, 1.0))
    (outcome,) = labeler.add_signal(scored_record("old", "AAA", T0, 1.0))
    assert outcome.status == "unresolved"
    assert "buffer" in (outcome.reason or "")


def test_restores_with_a_short_tick_buffer_label_as_an_uninterrupted_run() -> None:
    """Evicted ticks stay evicted and kept ones stay kept across changes and snapshots."""
    rules = LabelRules(
        horizon=timedelta(days=30), entry_tolerance=timedelta(hours=4),
        grace=timedelta(hours=2), lookback=timedelta(days=9),
    )  # fmt: skip
    signals, ticks = world(7)
    records = interleave(signals, ticks, 7)
    outcomes = run_with_restarts(rules, records, 7)
    uninterrupted = run(PartitionLabeler(rules), records)
    assert sorted(o.model_dump_json() for o in outcomes) == sorted(
        o.model_dump_json() for o in uninterrupted
    )
    assert any(o.reason == "ticks after posted_at left the buffer" for o in outcomes)
