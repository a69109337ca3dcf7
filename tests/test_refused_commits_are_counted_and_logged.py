"""A commit the broker refuses, whole or for single partitions, is counted and logged, never lost
from view: the scoring service's ``roostr_commit_failures_total`` and the bots' reader."""

from __future__ import annotations

import time
from dataclasses import dataclass

from confluent_kafka import KafkaError, TopicPartition
from scoring_service_support import wait_until
from structlog.testing import capture_logs

from consumer.bot_reader import ScoredSignalReader
from consumer.commit_queue import CommitQueue
from consumer.service import ScoringService
from roostr.kafka import commit_offsets, make_consumer, make_producer
from roostr.settings import Settings


@dataclass
class _Committed:
    """One partition of what ``Consumer.commit`` returns (a real one's ``error`` is read-only)."""

    topic: str
    partition: int
    offset: int
    error: KafkaError | None = None


class _PartlyRefusingConsumer:
    """Commits answer per partition: the broker refused partition 1, without an exception."""

    def commit(self, offsets: list[TopicPartition], asynchronous: bool) -> list[_Committed]:
        assert asynchronous is False
        refused = KafkaError(KafkaError.REBALANCE_IN_PROGRESS)
        return [
            _Committed(tp.topic, tp.partition, tp.offset, refused if tp.partition == 1 else None)
            for tp in offsets
        ]


def _failures(events: list[dict]) -> list[tuple[str, int, int]]:
    return [
        (e["topic"], e["partition"], e["offset"]) for e in events if e["event"] == "commit_failed"
    ]


def _counted(service: ScoringService) -> float | None:
    return service.metrics.registry.get_sample_value("roostr_commit_failures_total")


def test_commit_offsets_commits_and_reports_what_the_broker_refused(settings: Settings) -> None:
    consumer = make_consumer(settings, settings.group_scoring)
    try:
        assert commit_offsets(consumer, [TopicPartition(settings.topic_raw, 0, 3)]) == []
        committed = consumer.committed([TopicPartition(settings.topic_raw, 0)], timeout=10)
        assert committed[0].offset == 3
        missing = f"{settings.topic_raw}-missing"
        with capture_logs() as events:
            failed = commit_offsets(
                consumer, [TopicPartition(missing, 0, 5), TopicPartition(missing, 1, 7)]
            )
        assert [(tp.partition, error.code()) for tp, error in failed] == [
            (0, KafkaError.UNKNOWN_TOPIC_OR_PART), (1, KafkaError.UNKNOWN_TOPIC_OR_PART),
        ]  # fmt: skip
        assert _failures(events) == [(missing, 0, 5), (missing, 1, 7)]
        assert all("Unknown topic" in e["error"] for e in events)
    finally:
        consumer.close()


def test_scoring_service_counts_each_partition_refused(settings: Settings) -> None:
    """Asynchronous commits report through the consumer's ``on_commit`` callback (here after
    the loop stopped: no queue to retry them)."""
    service = ScoringService(settings)
    refused = KafkaError(KafkaError.REBALANCE_IN_PROGRESS)
    partitions = [
        _Committed(settings.topic_raw, p, 10 + p, refused if p == 1 else None) for p in range(3)
    ]
    with capture_logs() as events:
        service._on_commit(None, partitions)  # type: ignore[arg-type]
    assert _counted(service) == 1
    assert _failures(events) == [(settings.topic_raw, 1, 11)]
    assert events[0]["error"] == refused.str()

    whole = KafkaError(KafkaError.UNKNOWN_MEMBER_ID)
    service._on_commit(whole, [TopicPartition(settings.topic_raw, p, 1) for p in range(2)])
    assert _counted(service) == 3  # refused whole: every partition counts


class _RecordingConsumer:
    """Accepts every commit and remembers what was asked (a real one needs a group)."""

    def __init__(self) -> None:
        self.asked: list[list[tuple[int, int]]] = []

    def commit(self, offsets: list[TopicPartition], asynchronous: bool) -> None:
        self.asked.append([(tp.partition, tp.offset) for tp in offsets])


def test_a_refused_commit_is_sent_again_while_the_partition_is_held(settings: Settings) -> None:
    """Refused in a rebalance, a commit is retried: a member at the end of a quiet partition
    commits nothing later that would carry it. A revoked partition is not retried."""
    consumer = _RecordingConsumer()
    queue = CommitQueue(
        consumer,  # type: ignore[arg-type]
        make_producer(settings),
        max_records=10,
        commit_interval_s=0,
    )
    topic = settings.topic_raw
    queue.send([], [TopicPartition(topic, p, 10 + p) for p in range(3)])
    queue.poll()
    assert consumer.asked == [[(0, 10), (1, 11), (2, 12)]]
    generation = KafkaError(KafkaError.ILLEGAL_GENERATION)
    with capture_logs() as events:
        queue.settle(None, [_Committed(topic, p, 10 + p, generation) for p in (1, 2)])  # type: ignore[misc]
    assert _failures(events) == [(topic, 1, 11), (topic, 2, 12)]
    queue.poll()
    assert len(consumer.asked) == 1  # not at once: the rebalance settles first
    queue.release([(topic, 2)])  # partition 2 moves on: what was sent is committed first
    assert consumer.asked[-1] == [(1, 11), (2, 12)]
    queue.settle(None, [_Committed(topic, p, 10 + p, generation) for p in (1, 2)])  # type: ignore[misc]
    queue.send([], [TopicPartition(topic, 1, 15)])
    queue.poll()
    assert len(consumer.asked) == 2
    time.sleep(1.1)
    queue.poll()
    assert consumer.asked[-1] == [(1, 15)]  # the later offset; partition 2 is not this one's


def test_commit_queue_counts_what_a_synchronous_commit_refused(settings: Settings) -> None:
    """``drain`` commits synchronously (before a revocation or a stop): refusals are counted."""
    counted: list[int] = []
    queue = CommitQueue(
        _PartlyRefusingConsumer(),  # type: ignore[arg-type]
        make_producer(settings),
        max_records=10,
        commit_interval_s=60,
        on_refused=counted.append,
    )
    offsets = [TopicPartition(settings.topic_raw, p, 10 + p) for p in range(3)]
    with capture_logs() as events:
        queue.send([], offsets)
        queue.drain()
    assert counted == [1]
    assert _failures(events) == [(settings.topic_raw, 1, 11)]


def test_bot_reader_counts_a_commit_the_broker_refused(settings: Settings) -> None:
    producer = make_producer(settings)
    for _ in range(3):
        producer.produce(settings.topic_scored, key=b"K", value=b"not a scored signal", partition=0)
    assert producer.flush(10) == 0
    # A bot that acts for longer than max.poll.interval.ms is dropped from the group: the broker
    # refuses the commit of what it acted on (UNKNOWN_MEMBER_ID). 6 s: the shortest session
    # Apache Kafka accepts by default (group.min.session.timeout.ms); the poll interval may not
    # be shorter than the session.
    impatient = settings.model_copy(
        update={"session_timeout_ms": 6_000, "heartbeat_interval_ms": 500,
                "max_poll_interval_ms": 6_000}
    )  # fmt: skip
    with ScoredSignalReader(impatient, group_id=settings.group_joiner) as reader:
        wait_until(lambda: reader.read(timeout_s=0.5) == [] and reader.invalid == 3, 60, "reads")
        time.sleep(8)
        with capture_logs() as events:
            reader.read(timeout_s=0.5)
        assert reader.commit_failures == 1
        assert _failures(events) == [(settings.topic_scored, 0, 3)]
        assert "Unknown member" in events[0]["error"]
