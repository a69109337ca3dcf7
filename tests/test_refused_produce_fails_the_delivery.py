"""A record the producer refuses outright fails the batch's delivery as DeliveryFailed.

``produce`` raises KafkaException synchronously for, e.g., a record above ``message.max.bytes``;
the service turns DeliveryFailed into its documented exit status (3) instead of a traceback.
"""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition

from roostr.delivery import DeliveryFailed, Output, deliver, deliver_in_transaction
from roostr.kafka import make_consumer, make_producer
from roostr.settings import Settings


def _too_large(settings: Settings) -> list[Output]:
    fits = Output(settings.topic_scored, b"TAO", b"{}")
    return [fits, Output(settings.topic_scored, b"TAO", b"x" * (settings.max_record_bytes + 1))]


def test_a_record_above_the_producer_limit_is_delivery_failed(settings: Settings) -> None:
    producer = make_producer(settings)
    with pytest.raises(DeliveryFailed, match="MSG_SIZE_TOO_LARGE") as failure:
        deliver(producer, _too_large(settings), timeout_s=30)
    cause = failure.value.__cause__
    assert isinstance(cause, KafkaException)
    assert cause.args[0].code() == KafkaError.MSG_SIZE_TOO_LARGE


def test_in_a_transaction_it_aborts_and_is_delivery_failed(settings: Settings) -> None:
    producer = make_producer(settings, **{"transactional.id": f"{settings.group_scoring}-test"})
    producer.init_transactions(30)
    consumer = make_consumer(settings, settings.group_scoring)
    try:
        group = consumer.consumer_group_metadata()
        offsets = [TopicPartition(settings.topic_raw, 0, 1)]
        with pytest.raises(DeliveryFailed, match=r"aborted.*MSG_SIZE_TOO_LARGE"):
            deliver_in_transaction(producer, _too_large(settings), offsets, group, timeout_s=30)
        # Nothing was left open: the next batch's transaction goes through.
        fits = _too_large(settings)[:1]
        written = deliver_in_transaction(producer, fits, offsets, group, timeout_s=30)
        assert [topic for topic, _partition in written] == [fits[0].topic]
    finally:
        consumer.close()
