"""A partition's state as a changelog topic: entries, markers, and snapshots that bound restores.

The state of input partition *p* lives in partition *p* of a compacted topic (co-partitioned
with the inputs). Each batch appends the entries it changed (a None value deletes the key) and
then one marker holding the input offsets the state now reflects. Restoring keeps only entries
followed by a marker: a batch cut short by a crash leaves entries without one, which are ignored,
and its inputs are read again from the marker's offsets. So state and input positions always
agree (the store remembers the offsets it reflects), whatever the group's committed offsets say.

Restores take time proportional to the live state, not to the history, even on a broker that
does not compact (the embedded one). One rule says when a partition writes a full snapshot (a
``__snapshot__`` record, then every live entry): once the records a restore would read past the
last snapshot reach both ``every`` and the live state's size. For the joiner those records are
the changelog entries written since; for the scoring member, whose changelog holds snapshots
only, they are the input records it would replay (``count``). Each marker says how far back
that snapshot starts, so a restore reads the partition's tail to find the last marker, then
reads from the snapshot on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, TopicPartition

from roostr.delivery import Output
from roostr.kafka import coordinates, watermark_offsets
from roostr.settings import Settings
from roostr.topic_reader import batches, private_consumer

__all__ = ["PartitionLog", "Restored", "restore_partitions"]

MARKER = b"__offsets__"
SNAPSHOT = b"__snapshot__"
_MIN_BETWEEN_SNAPSHOTS = 1000  # records
_TAIL = 1000  # records read first when looking for the last marker

Entries = list[tuple[str, Any]]


@dataclass(slots=True)
class Restored:
    entries: dict[str, Any]
    offsets: dict[str, int] | None  # the input offsets the entries reflect (None: no marker)
    records_read: int


@dataclass(slots=True)
class PartitionLog:
    """Writes one partition's state to its changelog partition and says when a snapshot is due."""

    topic: str
    partition: int
    every: int = _MIN_BETWEEN_SNAPSHOTS  # records a restore may read past a snapshot, at least
    past_snapshot: int | None = None  # records a restore reads past the last snapshot; None: none
    size: int = 0  # live entries at the last snapshot
    since_snapshot: int = 0  # changelog records from the last snapshot record on (for markers)

    def snapshot_due(self, live_size: int | None = None) -> bool:
        """The one snapshot rule: what a restore reads past the last snapshot has reached
        ``every`` and the live state's size (``live_size``, else the last snapshot's)."""
        size = self.size if live_size is None else live_size
        return self.past_snapshot is None or self.past_snapshot >= max(self.every, size)

    def count(self, records: int) -> None:
        """``records`` more for a restore to read past the snapshot (inputs it would replay)."""
        self.past_snapshot = (self.past_snapshot or 0) + records

    def batch(
        self, changes: Entries, offsets: dict[str, int], live: Callable[[], Entries], size: int
    ) -> list[Output]:
        """The records for one batch: its ``changes`` (or a snapshot of ``live``, of ``size``
        entries, when due), then a marker."""
        if self.snapshot_due(size):
            return self.snapshot(live(), offsets)
        records = self._entries(changes)
        self.count(len(records) + 1)
        self.since_snapshot += len(records) + 1
        return [*records, self._marker(offsets)]

    def snapshot(self, entries: Iterable[tuple[str, Any]], offsets: dict[str, int]) -> list[Output]:
        """A full snapshot of the partition's ``entries``, then a marker with ``offsets``."""
        records = self._entries(entries)
        self.since_snapshot, self.past_snapshot, self.size = len(records) + 1, 0, len(records)
        return [self._record(SNAPSHOT, {"entries": len(records)}), *records, self._marker(offsets)]

    def _marker(self, offsets: dict[str, int]) -> Output:
        return self._record(MARKER, {"offsets": offsets, "snapshot_distance": self.since_snapshot})

    def _entries(self, entries: Iterable[tuple[str, Any]]) -> list[Output]:
        return [self._record(key.encode(), value) for key, value in entries]

    def _record(self, key: bytes, value: Any) -> Output:
        encoded = None if value is None else orjson.dumps(value)
        return Output(self.topic, key, encoded, self.partition)


def restore_partitions(
    settings: Settings, topic: str, partitions: Iterable[int]
) -> dict[int, Restored]:
    """Per partition, its entries as of its last marker, read from its last snapshot on.

    All partitions are read together (one reader, two passes: the tails for the last markers,
    then each from its snapshot), so restoring many costs about as much as restoring one.
    Raises TopicUnreadable.
    """
    wanted = sorted(set(partitions))
    if not wanted:
        return {}
    reader = _Reader(private_consumer(settings, "restore"), topic, settings.read_stall_timeout_s)
    try:
        starts = _last_snapshots(reader, wanted)
        restored = _read(reader, starts)
        misplaced = {p: OFFSET_BEGINNING for p, r in restored.items() if r is None}
        if misplaced:  # a snapshot was not where its marker said: read those from the start
            restored |= _read(reader, misplaced)
        return {p: r for p, r in restored.items() if r is not None}
    finally:
        reader.consumer.close()


@dataclass(slots=True)
class _Reader:
    """One changelog partition set's reader, read in passes from chosen offsets to the end."""

    consumer: Consumer
    topic: str
    stall_timeout_s: float

    def read(self, starts: dict[int, int]) -> Iterator[Message]:
        begin = {(self.topic, p): offset for p, offset in starts.items()}
        self.consumer.assign([TopicPartition(self.topic, p, o) for p, o in starts.items()])
        try:
            for batch in batches(
                self.consumer,
                begin,
                dict.fromkeys(begin, None),
                purpose="restore",
                stall_timeout_s=self.stall_timeout_s,
            ):
                yield from batch
        finally:
            self.consumer.unassign()


def _last_snapshots(reader: _Reader, partitions: list[int]) -> dict[int, int]:
    """Per partition, the offset of the snapshot its last marker points at (or the beginning)."""
    bounds = {
        p: watermark_offsets(reader.consumer, TopicPartition(reader.topic, p), 10)
        for p in partitions
    }
    starts: dict[int, int] = {}
    window = _TAIL
    while len(starts) < len(partitions):
        todo = {p: max(low, high - window) for p, (low, high) in bounds.items() if p not in starts}
        last: dict[int, int] = {}
        for message in reader.read(todo):
            if message.key() == MARKER:
                distance = orjson.loads(message.value() or b"").get("snapshot_distance")
                if distance:
                    _topic, partition, offset = coordinates(message)
                    last[partition] = offset - distance
        for partition, begin in todo.items():
            if partition in last:
                starts[partition] = last[partition]
            elif begin <= bounds[partition][0]:
                starts[partition] = OFFSET_BEGINNING
        window *= 10
    return starts


def _read(reader: _Reader, starts: dict[int, int]) -> dict[int, Restored | None]:
    """Apply each partition's records from its start on; None where the start is no snapshot."""
    states = {p: _Replay(expect_snapshot=start != OFFSET_BEGINNING) for p, start in starts.items()}
    for message in reader.read(starts):
        _topic, partition, _offset = coordinates(message)
        states[partition].apply(message)
    return {p: state.result() for p, state in states.items()}


class _Replay:
    """One partition's records applied in order: entries count once their marker follows."""

    def __init__(self, expect_snapshot: bool) -> None:
        self.expect_snapshot = expect_snapshot
        self.misplaced = False
        self.entries: dict[str, Any] = {}
        self.pending: dict[str, Any] = {}
        self.replacing = False  # the pending batch is a snapshot: it replaces the entries
        self.offsets: dict[str, int] | None = None
        self.read = 0

    def apply(self, message: Message) -> None:
        key, value = message.key(), message.value()
        if self.read == 0 and self.expect_snapshot and key != SNAPSHOT:
            self.misplaced = True
        self.read += 1
        if self.misplaced:
            return
        if key == MARKER:
            if self.replacing:
                self.entries.clear()
            for name, entry in self.pending.items():
                if entry is None:
                    self.entries.pop(name, None)
                else:
                    self.entries[name] = entry
            self.pending.clear()
            self.replacing = False
            self.offsets = orjson.loads(value or b"")["offsets"]
        elif key == SNAPSHOT:
            self.pending.clear()
            self.replacing = True
        elif key is not None:
            self.pending[key.decode()] = None if value is None else orjson.loads(value)

    def result(self) -> Restored | None:
        return None if self.misplaced else Restored(self.entries, self.offsets, self.read)
