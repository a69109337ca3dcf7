"""The group lookup (``consumer.group_frontier``) finds a signal pending in a partition it last
saw empty. Its reader keeps one client across lookups, and the client keeps the end each
partition's last fetch reported, across assignments: a partition empty at the first lookup
(end 0) still read as empty at the next until a fetch answered again, so the lookup reported
nothing pending while another member's signal was (a member then trusted a cutoff past it).
Each round here publishes one signal to a partition the lookup last saw empty and asks at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from consumer.group_frontier import GroupFrontier
from roostr.contracts import RawSignal
from roostr.delivery import Output, deliver
from roostr.kafka import make_consumer, make_producer
from roostr.settings import Settings

pytestmark = pytest.mark.broker

DAY0 = datetime(2026, 3, 1, tzinfo=UTC)


def _signal(partition: int) -> RawSignal:
    posted = DAY0 - timedelta(days=partition)  # each round's signal is the earliest so far
    assert partition < 4  # the test settings' raw partitions
    return RawSignal(
        signal_id=f"late:{partition}", ticker="TA", source="X", author="x", message="$TA",
        posted_at=posted, observed_at=posted, price_usd=1.0,
    )  # fmt: skip


def test_a_signal_published_after_a_lookup_is_found_by_the_next(settings: Settings) -> None:
    frontier = GroupFrontier(settings)
    group = make_consumer(settings, settings.group_scoring)  # never joins: its commits only
    try:
        assert frontier.earliest(group, held={0}, claims={}) is None  # every partition empty
        for partition in (1, 2, 3):
            signal = _signal(partition)
            record = Output(settings.topic_raw, b"TA", signal.model_dump_json().encode(), partition)
            deliver(make_producer(settings), [record], timeout_s=30)
            assert frontier.earliest(group, held={0}, claims={}) == signal.posted_at, partition
    finally:
        frontier.close()
        group.close()
