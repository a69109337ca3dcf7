"""Read a whole topic with roostr's own reader outside any group, for assertions in tests."""

from __future__ import annotations

import time

from confluent_kafka import Message

from roostr.settings import Settings
from roostr.topic_reader import TopicTail


def read_topic(
    settings: Settings,
    topic: str,
    expected: int,
    timeout_s: float = 30.0,
    settle_s: float = 1.5,
    isolation_level: str = "read_committed",
) -> list[Message]:
    """Every record of ``topic``: waits for ``expected`` records, then ``settle_s`` for extras.

    Reads by assignment from the beginning (``roostr.topic_reader.TopicTail``), so it does not
    depend on group joins. ``read_committed`` (librdkafka's default, stated) never returns an
    aborted transaction's records; ``read_uncommitted`` does.
    """
    tail = TopicTail(
        settings,
        topic,
        purpose="test",
        **{"isolation.level": isolation_level, "fetch.wait.max.ms": 20},
    )
    records: list[Message] = []
    deadline = time.monotonic() + timeout_s
    settle_until = None
    try:
        while time.monotonic() < (settle_until or deadline):
            records += tail.poll(0.2)
            if len(records) >= expected and settle_until is None:
                settle_until = time.monotonic() + settle_s
    finally:
        tail.close()
    return records
