"""A partition's state as a changelog topic: entries, markers, and snapshots that bound restores.

The state of input partition *p* lives in partition *p* of a compacted topic (co-partitioned
with the inputs). Each batch appends the entries it changed (a None value deletes the key) and
then one marker holding the input offsets the state now reflects. Restoring keeps only entries
followed by a marker: a batch cut short by a crash leaves entries without one, which are ignored,
and its inputs are read again from the marker's offsets. So state and input positions always
agree (the store remembers the offsets it reflects), whatever the group's committed offsets say.

Restores take time proportional to the live state, not to the history, even on a broker that
does not compact (the embedded one): whenever the records written since the last snapshot
outgrow twice the live state, a batch writes a full snapshot (a ``__snapshot__`` record, then
every live entry) instead of its changes. Each marker says how far back that snapshot starts,
so a restore reads the partition's tail to find the last marker, then reads from the snapshot on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)

from consumer.delivery import Output
from consumer.side_inputs import private_consumer
from roostr.settings import Settings

__all__ = ["PartitionLog", "RestoreIncomplete", "Restored", "restore_partition"]

MARKER = b"__offsets__"
SNAPSHOT = b"__snapshot__"
_MIN_BETWEEN_SNAPSHOTS = 1000  # records
_TAIL = 1000  # records read first when looking for the last marker

Entries = list[tuple[str, Any]]


class RestoreIncomplete(RuntimeError):
    """The changelog partition could not be read to its end in time."""


@dataclass(slots=True)
class Restored:
    entries: dict[str, Any]
    offsets: dict[str, int] | None  # the input offsets the entries reflect (None: no marker)
    records_read: int


@dataclass(slots=True)
class PartitionLog:
    """Writes one partition's batches to its changelog partition, snapshotting when due."""

    topic: str
    partition: int
    since_snapshot: int | None = None  # records after the last snapshot record; None: write one

    def batch(
        self, changes: Entries, offsets: dict[str, int], live: Callable[[], Entries], size: int
    ) -> list[Output]:
        """The records for one batch: its ``changes`` (or a snapshot of ``live``), then a marker."""
        due = self.since_snapshot is None or self.since_snapshot > max(
            _MIN_BETWEEN_SNAPSHOTS, 2 * size
        )
        if due:
            entries = live()
            records = [self._record(SNAPSHOT, {"entries": len(entries)})]
            records += self._entries(entries)
            self.since_snapshot = len(records) - 1
        else:
            records = self._entries(changes)
            self.since_snapshot = (self.since_snapshot or 0) + len(records)
        self.since_snapshot += 1
        marker = {"offsets": offsets, "snapshot_distance": self.since_snapshot}
        return [*records, self._record(MARKER, marker)]

    def _entries(self, entries: Iterable[tuple[str, Any]]) -> list[Output]:
        return [self._record(key.encode(), value) for key, value in entries]

    def _record(self, key: bytes, value: Any) -> Output:
        encoded = None if value is None else orjson.dumps(value)
        return Output(self.topic, key, encoded, self.partition)


def restore_partition(
    settings: Settings, topic: str, partition: int, timeout_s: float = 120.0
) -> Restored:
    """The entries of one changelog partition as of its last marker, read from its last snapshot."""
    reader = private_consumer(settings, "restore", **{"enable.partition.eof": True})
    deadline = time.monotonic() + timeout_s
    try:
        start = _last_snapshot(reader, topic, partition, deadline)
        restored = _read(reader, topic, partition, start, deadline)
        if restored is None:  # the snapshot was not where the marker said: read everything
            restored = _read(reader, topic, partition, OFFSET_BEGINNING, deadline)
        assert restored is not None
        return restored
    finally:
        reader.close()


def _last_snapshot(reader: Consumer, topic: str, partition: int, deadline: float) -> int:
    """Offset of the snapshot the partition's last marker points at (or the beginning)."""
    low, high = reader.get_watermark_offsets(TopicPartition(topic, partition), 10, cached=False)
    window = _TAIL
    while True:
        begin = max(low, high - window)
        last: tuple[int, int] | None = None  # (marker offset, snapshot distance)
        for message in _records(reader, topic, partition, begin, deadline):
            if message.key() == MARKER:
                distance = orjson.loads(message.value()).get("snapshot_distance")
                last = (message.offset(), distance) if distance else None
        if last is not None:
            return last[0] - last[1]
        if begin <= low:
            return OFFSET_BEGINNING
        window *= 10


def _read(
    reader: Consumer, topic: str, partition: int, start: int, deadline: float
) -> Restored | None:
    """Apply records from ``start`` to the end; None if ``start`` is not a snapshot record."""
    entries: dict[str, Any] = {}
    pending: dict[str, Any] = {}
    replacing = False  # the pending batch is a snapshot: it replaces the entries
    offsets: dict[str, int] | None = None
    read = 0
    for message in _records(reader, topic, partition, start, deadline):
        key, value = message.key(), message.value()
        if read == 0 and start != OFFSET_BEGINNING and key != SNAPSHOT:
            return None
        read += 1
        if key == MARKER:
            if replacing:
                entries.clear()
            for name, entry in pending.items():
                if entry is None:
                    entries.pop(name, None)
                else:
                    entries[name] = entry
            pending.clear()
            replacing = False
            offsets = orjson.loads(value)["offsets"]
        elif key == SNAPSHOT:
            pending.clear()
            replacing = True
        elif key is not None:
            pending[key.decode()] = None if value is None else orjson.loads(value)
    return Restored(entries, offsets, read)


def _records(
    reader: Consumer, topic: str, partition: int, start: int, deadline: float
) -> Iterator[Message]:
    """Every record of the partition from ``start`` to its end (as fetch responses report it)."""
    reader.assign([TopicPartition(topic, partition, start)])
    try:
        while True:
            if time.monotonic() > deadline:
                raise RestoreIncomplete(f"{topic}[{partition}] not read to its end in time")
            for message in reader.consume(1000, 0.5):
                error = message.error()
                if error is None:
                    yield message
                elif error.code() == KafkaError._PARTITION_EOF:
                    return
                elif error.fatal():
                    raise KafkaException(error)
    finally:
        reader.unassign()
