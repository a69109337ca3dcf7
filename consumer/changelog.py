"""A partition's state as a changelog topic: key/value entries closed by an offsets marker.

The state of input partition *p* lives in partition *p* of a compacted topic (co-partitioned
with the inputs). Each batch appends the entries it changed (a None value deletes the key) and
then one marker record holding the input offsets the state now reflects. Restoring reads the
partition to its end and keeps only entries followed by a marker: a batch cut short by a crash
leaves entries without a marker, which are ignored, and its inputs are read again from the
marker's offsets. So the state and the input positions always agree (the store remembers the
offsets it reflects), whatever the group's committed offsets say.

On a real Kafka cluster compaction bounds the partition to the latest value per key, so a
restore reads the live state, not the history; a broker that does not compact (the embedded
one) makes it read the tail of the history too.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import orjson
from confluent_kafka import OFFSET_BEGINNING, KafkaError, KafkaException, TopicPartition

from consumer.delivery import Output
from consumer.side_inputs import private_consumer
from roostr.settings import Settings

__all__ = ["MARKER", "RestoreIncomplete", "changelog_outputs", "restore_partition"]

MARKER = b"__offsets__"


class RestoreIncomplete(RuntimeError):
    """The changelog partition could not be read to its end in time."""


def changelog_outputs(
    topic: str, partition: int, changes: Iterable[tuple[str, Any]], offsets: dict[str, int]
) -> list[Output]:
    """The records that persist one batch's ``changes``, then the marker with ``offsets``."""
    records = [
        Output(topic, key.encode(), None if value is None else orjson.dumps(value), partition)
        for key, value in changes
    ]
    records.append(Output(topic, MARKER, orjson.dumps(offsets), partition))
    return records


def restore_partition(
    settings: Settings, topic: str, partition: int, timeout_s: float = 120.0
) -> tuple[dict[str, Any], dict[str, int] | None]:
    """(latest value per key, input offsets of the last marker) of one changelog partition."""
    reader = private_consumer(settings, "restore", **{"enable.partition.eof": True})
    state: dict[str, Any] = {}
    pending: dict[str, Any] = {}
    offsets: dict[str, int] | None = None
    deadline = time.monotonic() + timeout_s
    try:
        reader.assign([TopicPartition(topic, partition, OFFSET_BEGINNING)])
        while True:
            if time.monotonic() > deadline:
                raise RestoreIncomplete(f"{topic}[{partition}] not read to its end in {timeout_s}s")
            for message in reader.consume(1000, 0.5):
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        return state, offsets
                    if error.fatal():
                        raise KafkaException(error)
                    continue
                key, value = message.key(), message.value()
                if key == MARKER:
                    state.update(pending)
                    pending.clear()
                    offsets = orjson.loads(value)
                elif key is not None:
                    pending[key.decode()] = None if value is None else orjson.loads(value)
    finally:
        reader.close()
