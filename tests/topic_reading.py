"""Read a whole topic with an independent consumer (no group), for assertions in tests."""

from __future__ import annotations

import time
import uuid

from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, TopicPartition

from roostr.settings import Settings


def read_topic(
    settings: Settings,
    topic: str,
    expected: int,
    timeout_s: float = 30.0,
    settle_s: float = 1.5,
    isolation_level: str = "read_committed",
) -> list[Message]:
    """Every record of ``topic``: waits for ``expected`` records, then ``settle_s`` for extras.

    Reads by assignment from the beginning, without a group, so it does not depend on group
    joins or on watermarks (which some brokers under-report). ``read_committed`` (librdkafka's
    default, stated) never returns an aborted transaction's records; ``read_uncommitted`` does.
    """
    consumer = Consumer(
        {
            **settings.kafka_common(),
            "group.id": f"test-reader-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "isolation.level": isolation_level,
        }
    )
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    records: list[Message] = []
    deadline = time.monotonic() + timeout_s
    settle_until = None
    try:
        while time.monotonic() < (settle_until or deadline):
            for message in consumer.consume(500, 0.2):
                assert message.error() is None, message.error()
                records.append(message)
            if len(records) >= expected and settle_until is None:
                settle_until = time.monotonic() + settle_s
    finally:
        consumer.close()
    return records
