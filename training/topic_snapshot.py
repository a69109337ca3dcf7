"""Read a whole topic from its beginning to its end as of the start of the read.

The end of each partition is the first high watermark a fetch response reports for it (the
client caches it: ``get_watermark_offsets(cached=True)``), not a ListOffsets answer, which some
brokers serve stale. Records produced after that are left for the next run, so a retrain or a
backtest reads a fixed snapshot even while producers keep writing. The reader is a
``private_consumer``: assigned, never joined to a group, never committing, so no group's offsets
move. Offset-by-time lookups are not used (some brokers answer them approximately): callers pick
records by their event time on the client.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TypeVar

import structlog
from confluent_kafka import OFFSET_BEGINNING, KafkaError, KafkaException, Message, TopicPartition
from pydantic import ValidationError

from consumer.side_inputs import private_consumer
from roostr.kafka import coordinates
from roostr.settings import Settings

__all__ = ["Progress", "TopicUnreadable", "read_parsed", "read_to_end"]

log = structlog.get_logger(__name__)

T = TypeVar("T")

Progress = Callable[[int, int], None]
"""Called after each batch with (records read so far, records known to be in the snapshot)."""


class TopicUnreadable(RuntimeError):
    """The topic is missing or could not be read to its end in time."""


def read_to_end(
    settings: Settings,
    topic: str,
    handle: Callable[[Message], None],
    *,
    purpose: str,
    timeout_s: float = 60.0,
    progress: Progress | None = None,
    start: Mapping[int, int] | None = None,
) -> int:
    """Pass every record of ``topic`` up to its end as of now to ``handle``, in offset order per
    partition, from each partition's ``start`` offset (default: its beginning); returns how many
    were read. Raises TopicUnreadable."""
    reader = private_consumer(settings, purpose, **{"fetch.wait.max.ms": 50})
    try:
        metadata = reader.list_topics(topic, timeout=10).topics.get(topic)
        if metadata is None or metadata.error is not None or not metadata.partitions:
            raise TopicUnreadable(f"topic {topic} does not exist")
        todo = set(metadata.partitions)
        begin = start or {}
        reader.assign([TopicPartition(topic, p, begin.get(p, OFFSET_BEGINNING)) for p in todo])
        ends: dict[int, int] = {}
        lows: dict[int, int] = {}
        read = 0
        deadline = time.monotonic() + timeout_s
        while todo:
            if time.monotonic() > deadline:
                raise TopicUnreadable(
                    f"{topic}: partitions {sorted(todo)} not read to their end in {timeout_s:.0f}s"
                )
            for message in reader.consume(1000, 0.2):
                error = message.error()
                if error is not None:
                    if error.fatal():
                        raise KafkaException(error)
                    if error.code() != KafkaError._PARTITION_EOF:
                        log.warning("consumer_error", error=str(error))
                    continue
                _topic, partition, offset = coordinates(message)
                if partition in ends and offset >= ends[partition]:
                    continue  # written after this read began: the next read gets it
                handle(message)
                read += 1
            for partition in list(todo):
                tp = TopicPartition(topic, partition)
                low, high = reader.get_watermark_offsets(tp, cached=True)
                if high < 0:
                    continue  # no fetch response for this partition yet
                end = ends.setdefault(partition, high)
                lows.setdefault(partition, max(low, 0))
                position = reader.position([tp])[0].offset
                if end <= max(low, 0) or position >= end:
                    todo.discard(partition)
            if progress is not None:
                progress(read, max(read, sum(ends[p] - lows[p] for p in ends)))
        log.info("topic_read", topic=topic, records=read)
        return read
    finally:
        reader.close()


def read_parsed(
    settings: Settings,
    topic: str,
    parse: Callable[[bytes], T],
    *,
    purpose: str,
    timeout_s: float = 60.0,
    progress: Progress | None = None,
) -> tuple[list[T], int]:
    """Every record of ``topic`` that ``parse`` accepts (in offset order per partition), and how
    many it refused with a ValidationError (kept out, never fatal). Raises TopicUnreadable."""
    parsed: list[T] = []
    invalid = 0

    def keep(message: Message) -> None:
        nonlocal invalid
        try:
            parsed.append(parse(message.value() or b""))
        except ValidationError:
            invalid += 1

    read_to_end(settings, topic, keep, purpose=purpose, timeout_s=timeout_s, progress=progress)
    log.info("topic_read", topic=topic, records=len(parsed), invalid=invalid)
    return parsed, invalid
