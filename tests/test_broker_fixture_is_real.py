"""The suite's broker is a real Kafka-protocol broker: topics, produce, group consume."""

from __future__ import annotations

from roostr.kafka import ensure_topics, make_consumer, make_producer
from roostr.settings import Settings


def test_topics_are_created_once_and_then_reported_existing(settings: Settings) -> None:
    again = ensure_topics(settings)
    assert set(again.values()) == {"exists"}
    assert set(again) == set(settings.topic_partitions())


def test_a_group_member_reads_what_was_produced(settings: Settings) -> None:
    producer = make_producer(settings)
    for i in range(20):
        producer.produce(settings.topic_raw, key=b"TAO", value=f"v{i}".encode())
    assert producer.flush(10) == 0
    consumer = make_consumer(settings, settings.group_scoring)
    consumer.subscribe([settings.topic_raw])
    seen: list[bytes] = []
    for _ in range(60):
        for message in consumer.consume(100, 0.5):
            assert message.error() is None
            seen.append(message.value())
        if len(seen) >= 20:
            break
    consumer.close()
    assert sorted(seen) == sorted(f"v{i}".encode() for i in range(20))
