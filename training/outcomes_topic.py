"""Read ``signals.outcomes`` (or any topic) from the beginning to its end as of the start of the
read.

The end of each partition is the first high watermark a fetch response reports for it (the
client caches it: ``get_watermark_offsets(cached=True)``), not a ListOffsets answer, which some
brokers serve stale. Records produced after that are left for the next run, so a retrain reads a
fixed snapshot even while the joiner keeps writing. No group is joined and nothing is committed:
retraining reads the whole history every time (``roostr monitor`` reads ``signals.scored`` the
same way).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import TypeVar

import structlog
from confluent_kafka import OFFSET_BEGINNING, KafkaError, KafkaException, TopicPartition
from pydantic import ValidationError

from roostr.contracts import Outcome
from roostr.kafka import make_consumer
from roostr.settings import Settings

__all__ = ["OutcomesUnreadable", "read_outcomes", "read_to_end"]

T = TypeVar("T")

log = structlog.get_logger(__name__)


class OutcomesUnreadable(RuntimeError):
    """The topic is missing or could not be read to its end in time."""


def read_outcomes(settings: Settings, timeout_s: float = 60.0) -> tuple[list[Outcome], int]:
    """Every Outcome on ``settings.topic_outcomes`` up to its end as of now, in partition order,
    and the count of records that are not valid Outcomes (kept out, never fatal)."""
    return read_to_end(settings, settings.topic_outcomes, Outcome.model_validate_json, timeout_s)


def read_to_end(
    settings: Settings, topic: str, parse: Callable[[bytes], T], timeout_s: float = 60.0
) -> tuple[list[T], int]:
    """Every record of ``topic`` up to its end as of now, parsed, in partition order, and the
    count of records ``parse`` refused with a ValidationError (kept out, never fatal)."""
    reader = make_consumer(
        settings,
        f"{settings.group_joiner}-retrain-{uuid.uuid4().hex[:8]}",  # never joined or committed
        **{"fetch.wait.max.ms": 50},
    )
    try:
        metadata = reader.list_topics(topic, timeout=10).topics.get(topic)
        if metadata is None or metadata.error is not None or not metadata.partitions:
            raise OutcomesUnreadable(f"topic {topic} does not exist")
        todo = set(metadata.partitions)
        reader.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in todo])
        ends: dict[int, int] = {}
        records: list[T] = []
        invalid = 0
        deadline = time.monotonic() + timeout_s
        while todo:
            if time.monotonic() > deadline:
                raise OutcomesUnreadable(
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
                partition = message.partition()
                if partition in ends and message.offset() >= ends[partition]:
                    continue  # written after this read began: the next retrain gets it
                try:
                    records.append(parse(message.value()))
                except ValidationError:
                    invalid += 1
            for partition in list(todo):
                tp = TopicPartition(topic, partition)
                low, high = reader.get_watermark_offsets(tp, cached=True)
                if high < 0:
                    continue  # no fetch response for this partition yet
                end = ends.setdefault(partition, high)
                position = reader.position([tp])[0].offset
                if end <= max(low, 0) or position >= end:
                    todo.discard(partition)
        log.info("topic_read", topic=topic, records=len(records), invalid=invalid)
        return records, invalid
    finally:
        reader.close()
