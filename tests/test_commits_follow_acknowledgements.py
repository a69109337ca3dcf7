"""A batch's offsets are committed only after its outputs, and every earlier batch's, were
acknowledged; commits are coalesced in time; a failed output stops every later commit
(``consumer.commit_queue``, the protocol of the scoring service and of the benchmark's relay)."""

from __future__ import annotations

import time

import pytest
from confluent_kafka import Consumer, TopicPartition
from topic_reading import read_topic

from consumer.commit_queue import CommitQueue
from roostr.delivery import DeliveryFailed, Output
from roostr.kafka import make_consumer, make_producer
from roostr.settings import Settings


def _committed(consumer: Consumer, topic: str) -> int:
    (tp,) = consumer.committed([TopicPartition(topic, 0)], timeout=10)
    return tp.offset


def _batches(settings: Settings, count: int, size: int) -> list[tuple[list[Output], int]]:
    """``count`` batches of ``size`` outputs, each with the raw offset its commit would store."""
    return [
        (
            [Output(settings.topic_scored, b"k", f"{i}-{j}".encode()) for j in range(size)],
            size * (i + 1),
        )
        for i in range(count)
    ]


def _queue(settings: Settings, consumer: Consumer, interval_s: float) -> CommitQueue:
    return CommitQueue(
        consumer, make_producer(settings), max_records=10_000, commit_interval_s=interval_s
    )


def test_offsets_are_committed_once_acknowledged_coalesced_and_in_order(settings: Settings) -> None:
    consumer = make_consumer(settings, settings.group_scoring)
    try:
        queue = _queue(settings, consumer, interval_s=3600.0)
        for outputs, offset in _batches(settings, 5, 40):
            queue.send(outputs, [TopicPartition(settings.topic_raw, 0, offset)])
        deadline = time.monotonic() + 10
        while queue.fetch_wait(1.0) < 1.0 and time.monotonic() < deadline:
            queue.poll()  # every batch acknowledged; the commit waits for its interval
        assert queue.fetch_wait(1.0) == 1.0
        assert _committed(consumer, settings.topic_raw) < 0  # nothing committed yet
        queue.drain()
        assert _committed(consumer, settings.topic_raw) == 200
        assert len(read_topic(settings, settings.topic_scored, 200)) == 200

        quick = _queue(settings, consumer, interval_s=0.0)
        quick.send(_batches(settings, 1, 3)[0][0], [TopicPartition(settings.topic_raw, 0, 203)])
        deadline = time.monotonic() + 10
        while _committed(consumer, settings.topic_raw) != 203 and time.monotonic() < deadline:
            quick.poll()
            consumer.poll(0.05)  # serves the asynchronous commit's callback
        assert _committed(consumer, settings.topic_raw) == 203
    finally:
        consumer.close()


def test_a_failed_output_stops_the_commit_of_its_batch_and_every_later_one(
    settings: Settings,
) -> None:
    consumer = make_consumer(settings, settings.group_scoring)
    try:
        queue = _queue(settings, consumer, interval_s=0.0)
        good = _batches(settings, 2, 20)
        missing_partition = Output(settings.topic_scored, b"k", b"lost", partition=99)
        with pytest.raises(DeliveryFailed):
            queue.send(good[0][0], [TopicPartition(settings.topic_raw, 0, 20)])
            queue.send([missing_partition], [TopicPartition(settings.topic_raw, 0, 21)])
            queue.send(good[1][0], [TopicPartition(settings.topic_raw, 0, 41)])
            queue.drain()
        assert _committed(consumer, settings.topic_raw) in (-1001, 20)  # never past the failure
    finally:
        consumer.close()
