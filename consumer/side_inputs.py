"""Non-group readers: replaying a partition's history, and tailing small control topics.

Neither joins the scoring group nor commits offsets: what they read is state, not work.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)

from consumer.pipeline import fetch_batch
from roostr.kafka import coordinates, make_consumer
from roostr.settings import Settings

__all__ = ["TopicTail", "private_consumer", "replay_until"]


def private_consumer(settings: Settings, purpose: str, **overrides: object) -> Consumer:
    # A unique group id that is never joined (assign(), no subscribe) and never committed to.
    # Short fetch waits: these readers stop at a known end, and some brokers hold an empty
    # fetch for the whole wait even when data arrives meanwhile.
    overrides = {"fetch.wait.max.ms": 20, **overrides}
    return make_consumer(
        settings, f"{settings.group_scoring}-{purpose}-{uuid.uuid4().hex[:8]}", **overrides
    )


def replay_until(
    settings: Settings,
    ends: Sequence[TopicPartition],
    handle: Callable[[list[Message]], None],
    timeout_s: float = 60.0,
    starts: Mapping[tuple[str, int], int] | None = None,
) -> tuple[int, list[TopicPartition]]:
    """Read each partition from its beginning (or its offset in ``starts``) up to (not
    including) its offset in ``ends``.

    ``handle`` gets the records in offset order per partition. Returns the number read and the
    partitions not finished by the deadline. The end is the known target offset, not the high
    watermark (which some brokers under-report); the reader's position, which moves past
    transaction markers and deleted records, tells when a partition is done.
    """
    starts = starts or {}
    todo = {
        (tp.topic, tp.partition): tp.offset
        for tp in ends
        if tp.offset > starts.get((tp.topic, tp.partition), 0)
    }
    if not todo:
        return 0, []
    reader = private_consumer(settings, "replay")
    try:
        reader.assign([TopicPartition(t, p, starts.get((t, p), OFFSET_BEGINNING)) for t, p in todo])
        read = 0
        deadline = time.monotonic() + timeout_s
        while todo and time.monotonic() < deadline:
            batch = []
            for message in fetch_batch(reader, 1000, 0.2):
                topic, partition, offset = coordinates(message)
                if offset < todo.get((topic, partition), 0):
                    batch.append(message)
            if batch:
                handle(batch)
                read += len(batch)
            for tp in reader.position([TopicPartition(t, p) for t, p in todo]):
                if tp.offset >= todo[(tp.topic, tp.partition)]:
                    del todo[(tp.topic, tp.partition)]
        return read, [TopicPartition(t, p, end) for (t, p), end in todo.items()]
    finally:
        reader.close()


# A tail follows a control topic (model updates, outcomes) that seconds of delay do not hurt,
# beside a scoring loop that must not: every empty fetch costs the broker CPU (~0.5 ms each on
# the embedded broker, where a 20 ms wait per tail took 5 % of a core), so it waits longer.
_TAIL_FETCH_WAIT_MS = 250


class TopicTail:
    """Every partition of one or more topics from the beginning, read without blocking between
    batches."""

    def __init__(self, settings: Settings, *topics: str) -> None:
        self._reader = private_consumer(
            settings,
            "tail",
            **{"enable.partition.eof": True, "fetch.wait.max.ms": _TAIL_FETCH_WAIT_MS},
        )
        self._partitions = {
            (topic, p)
            for topic in topics
            for p in self._reader.list_topics(topic, timeout=10).topics[topic].partitions
        }
        self._reader.assign([TopicPartition(t, p, OFFSET_BEGINNING) for t, p in self._partitions])

    def catch_up(
        self, timeout_s: float = 300.0, heartbeat: Callable[[], None] | None = None
    ) -> list[Message]:
        """Everything up to each partition's end as the fetch responses report it.

        Not bounded by ListOffsets high watermarks, which some brokers under-report; an empty
        topic costs one fetch round trip. What arrives later, ``poll`` reads. ``heartbeat`` is
        called as reading goes on (a long topic must not look like a hung service).
        """
        pending, read = set(self._partitions), []
        deadline = time.monotonic() + timeout_s
        while pending and time.monotonic() < deadline:
            if heartbeat is not None:
                heartbeat()
            for message in self._reader.consume(500, 0.2):
                error = message.error()
                if error is None:
                    read.append(message)
                elif error.code() == KafkaError._PARTITION_EOF:
                    pending.discard((message.topic(), message.partition()))
                elif error.fatal():
                    raise KafkaException(error)
        return read

    def poll(self, timeout_s: float = 0.0) -> list[Message]:
        return fetch_batch(self._reader, 500, timeout_s)

    def close(self) -> None:
        self._reader.close()
