"""Reading topics outside any group: to their end, over a range, or following them.

Every roostr reader that does not consume as a group member (state restores and replays, the
snapshots that retrain, the monitor and backtests read, the tails of control topics, the board,
the tests) reads through this module, so three things mean one thing everywhere:

- **The end** of a partition is the end offset the caller names or, if none, the first high
  watermark a fetch response reports for it (the client caches it); a ListOffsets answer is not
  used, because some brokers serve it stale. A partition is read to its end when the reader's
  position reaches that offset: positions move past transaction markers and deleted records,
  which never arrive as records. Records written after the end are left for the next read.
- **Consumer errors**: a fatal one raises; any other is logged with its reader and counted in
  ``roostr_consumer_errors_total``, never dropped silently. End-of-partition events are not errors.
- **Giving up**: a read raises ``TopicUnreadable`` once it has made no progress (no record, no
  position moved) for ``settings.read_stall_timeout_s``, however long the topic is.

The readers are assigned partitions, never join a group and never commit, so no group's offsets
move. Their group ids start with ``settings.group_readers`` and name their purpose; the ACLs grant
that prefix Describe only.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TypeVar

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)
from prometheus_client import Counter
from pydantic import ValidationError

from roostr.errors import TopicUnreadable
from roostr.kafka import coordinates, make_consumer, watermark_offsets
from roostr.logs import get_logger
from roostr.settings import Settings

__all__ = [
    "CONSUMER_ERRORS",
    "Progress",
    "TopicTail",
    "TopicUnreadable",
    "batches",
    "fetch_batch",
    "private_consumer",
    "read_parsed",
    "read_range",
    "read_to_end",
    "topic_partitions",
    "usable",
]

log = get_logger(__name__)

T = TypeVar("T")

Partition = tuple[str, int]

Progress = Callable[[int, int], None]
"""Called after each fetch with (records read so far, records known to lie before the ends)."""

CONSUMER_ERRORS = Counter(
    "roostr_consumer_errors_total",
    "Non-fatal consumer errors, logged and skipped, by reader.",
    ["reader"],
    registry=None,  # each service registers it in its own registry
)

# These readers stop at a known end, and some brokers hold an empty fetch for the whole wait even
# when data arrives meanwhile: a short wait. A tail follows control topics (model updates,
# outcomes) that seconds of delay do not hurt, beside a scoring loop that must not: every empty
# fetch costs the broker CPU (~0.5 ms each on the embedded broker, where a 20 ms wait per tail
# took 5 % of a core), so it waits longer.
_READ_FETCH_WAIT_MS = 20
_TAIL_FETCH_WAIT_MS = 250
_NO_END = 1 << 63  # beyond any offset: a partition whose end is not known yet


def private_consumer(settings: Settings, purpose: str, **overrides: object) -> Consumer:
    """A consumer for reading by assignment: a group id of its own, never joined or committed."""
    overrides = {"fetch.wait.max.ms": _READ_FETCH_WAIT_MS, **overrides}
    return make_consumer(
        settings, f"{settings.group_readers}-{purpose}-{uuid.uuid4().hex[:8]}", **overrides
    )


def usable(
    messages: Iterable[Message], reader: str, at_end: Callable[[Message], object] | None = None
) -> list[Message]:
    """The records among ``messages``; a fatal error raises, others are logged and counted.
    End-of-partition events (``enable.partition.eof``) are no errors: they go to ``at_end``."""
    good = []
    for message in messages:
        error = message.error()
        if error is None:
            good.append(message)
        elif error.code() == KafkaError._PARTITION_EOF:
            if at_end is not None:
                at_end(message)
        elif error.fatal():
            raise KafkaException(error)
        else:
            CONSUMER_ERRORS.labels(reader).inc()
            log.warning("consumer_error", reader=reader, error=str(error))
    return good


def fetch_batch(
    consumer: Consumer,
    batch_size: int,
    wait_s: float,
    reader: str,
    at_end: Callable[[Message], object] | None = None,
) -> list[Message]:
    """Wait up to ``wait_s`` for the first record, then take what the client already fetched
    (end-of-partition events go to ``at_end``, as in ``usable``).

    Under load the client's queue holds a full batch; when idle a lone record is handled at once
    instead of waiting for company, which keeps latency low at low rates.
    """
    first = consumer.poll(wait_s)
    if first is None:
        return []
    rest = consumer.consume(batch_size - 1, 0) if batch_size > 1 else []
    return usable([first, *rest], reader, at_end)


def batches(
    reader: Consumer,
    starts: Mapping[Partition, int],
    ends: Mapping[Partition, int | None],
    *,
    purpose: str,
    stall_timeout_s: float,
    progress: Progress | None = None,
    keep_later: bool = False,
) -> Iterator[list[Message]]:
    """The records of partitions ``reader`` is assigned at ``starts``, up to ``ends`` (None: the
    end as fetched; see the module doc), a fetched batch at a time, in offset order per
    partition (one Python step per batch, not per record: a backtest reads millions).

    ``keep_later`` also yields records past the ends that arrive meanwhile (a tail that goes on
    reading must not lose them). Raises TopicUnreadable when no progress is made in time.
    """
    known = {tp: end for tp, end in ends.items() if end is not None}
    lows = {tp: max(start, 0) for tp, start in starts.items()}
    todo = {tp for tp in ends if known.get(tp, lows[tp] + 1) > lows[tp]}
    positions = dict.fromkeys(todo, -1)
    read = 0
    last_progress = time.monotonic()
    while todo:
        batch = usable(reader.consume(1000, 0.2), purpose)
        if not keep_later and known:
            batch = _before_ends(batch, known)
        if batch:
            read += len(batch)
            yield batch
        moved = bool(batch)
        for tp in todo - known.keys():
            low, high = reader.get_watermark_offsets(TopicPartition(*tp), cached=True)
            if high >= 0:  # else no fetch response for this partition yet
                known[tp], lows[tp], moved = high, max(lows[tp], low), True
        for at in reader.position([TopicPartition(t, p) for t, p in todo]):
            where = (at.topic, at.partition)
            if at.offset >= 0 and at.offset != positions[where]:
                positions[where], moved = at.offset, True
        todo = {tp for tp in todo if tp not in known or lows[tp] < known[tp] > positions[tp]}
        if progress is not None:
            progress(read, max(read, sum(known[tp] - lows[tp] for tp in known)))
        if moved:
            last_progress = time.monotonic()
        elif time.monotonic() - last_progress > stall_timeout_s:
            raise TopicUnreadable(
                f"{sorted(todo)} not read to the end: no progress in {stall_timeout_s:.0f}s"
            )


def _before_ends(batch: list[Message], ends: Mapping[Partition, int]) -> list[Message]:
    """The records of ``batch`` before their partition's end (all of a partition without one).

    librdkafka sets topic, partition and offset on every consumed record (``coordinates``); they
    are read inline here, as this runs for every record of every bulk read.
    """
    return [
        message
        for message in batch
        if message.offset() < ends.get((message.topic(), message.partition()), _NO_END)  # type: ignore[operator, arg-type]
    ]


def read_range(
    settings: Settings,
    ends: Mapping[Partition, int | None],
    handle: Callable[[list[Message]], None],
    *,
    purpose: str,
    starts: Mapping[Partition, int] | None = None,
    progress: Progress | None = None,
    **overrides: object,
) -> int:
    """Pass each partition's records from ``starts`` (default: its beginning) up to ``ends``
    (None: the end as fetched) to ``handle`` in batches, in offset order per partition; returns
    how many were read. Raises TopicUnreadable."""
    begin = {tp: (starts or {}).get(tp, OFFSET_BEGINNING) for tp in ends}
    reader = private_consumer(settings, purpose, **overrides)
    read = 0
    try:
        reader.assign([TopicPartition(t, p, offset) for (t, p), offset in begin.items()])
        for batch in batches(
            reader,
            begin,
            ends,
            purpose=purpose,
            stall_timeout_s=settings.read_stall_timeout_s,
            progress=progress,
        ):
            handle(batch)
            read += len(batch)
        return read
    finally:
        reader.close()


def read_to_end(
    settings: Settings,
    topic: str,
    handle: Callable[[list[Message]], None],
    *,
    purpose: str,
    progress: Progress | None = None,
    start: Mapping[int, int] | None = None,
) -> int:
    """Pass every record of ``topic`` up to its end to ``handle`` in batches, in offset order per
    partition, from each partition's ``start`` offset (default: its beginning); returns how many
    were read. Raises TopicUnreadable, also when the topic does not exist."""
    partitions = topic_partitions(settings, topic)

    read = read_range(
        settings,
        dict.fromkeys(((topic, p) for p in partitions), None),
        handle,
        purpose=purpose,
        starts={(topic, p): offset for p, offset in (start or {}).items()},
        progress=progress,
    )
    log.info("topic_read", topic=topic, records=read, reader=purpose)
    return read


def topic_partitions(settings: Settings, topic: str) -> list[int]:
    """The partition numbers of ``topic``. Raises TopicUnreadable when it does not exist."""
    probe = private_consumer(settings, "metadata")
    try:
        metadata = probe.list_topics(topic, timeout=settings.connect_timeout_s).topics.get(topic)
    finally:
        probe.close()
    if metadata is None or metadata.error is not None or not metadata.partitions:
        raise TopicUnreadable(f"topic {topic} does not exist")
    return sorted(metadata.partitions)


def fetched_ends(settings: Settings, topic: str, timeout_s: float = 30.0) -> dict[int, int]:
    """Each partition's end as a fetch reports it (its end-of-partition event, at the last
    stable offset when a transaction is open). A broker's offset listing may lag it (the
    embedded Tansu lists its last batch's first offset + 1), so the fetch starts there and
    reads at most that batch. Raises TopicUnreadable."""
    partitions = topic_partitions(settings, topic)
    reader = private_consumer(settings, "ends", **{"enable.partition.eof": True})
    ends: dict[int, int] = {}
    try:
        listed = {p: watermark_offsets(reader, TopicPartition(topic, p), timeout_s)[1]
                  for p in partitions}  # fmt: skip
        reader.assign([TopicPartition(topic, p, at) for p, at in listed.items()])

        def reached(event: Message) -> None:
            _topic, partition, offset = coordinates(event)
            ends[partition] = offset

        deadline = time.monotonic() + timeout_s
        while len(ends) < len(partitions):
            if time.monotonic() > deadline:
                raise TopicUnreadable(f"{topic}: no fetch reached the end in {timeout_s:.0f}s")
            usable(reader.consume(1000, 0.1), "ends", at_end=reached)
    finally:
        reader.close()
    return ends


def read_parsed(
    settings: Settings,
    topic: str,
    parse: Callable[[bytes], T],
    *,
    purpose: str,
    progress: Progress | None = None,
) -> tuple[list[T], int]:
    """Every record of ``topic`` that ``parse`` accepts (in offset order per partition), and how
    many it refused with a ValidationError (kept out, never fatal). Raises TopicUnreadable."""
    parsed: list[T] = []
    invalid = 0

    def keep(batch: list[Message]) -> None:
        nonlocal invalid
        for message in batch:
            try:
                parsed.append(parse(message.value() or b""))
            except ValidationError:
                invalid += 1

    read_to_end(settings, topic, keep, purpose=purpose, progress=progress)
    log.info("topic_parsed", topic=topic, records=len(parsed), invalid=invalid)
    return parsed, invalid


class TopicTail:
    """Every partition of one or more topics from the beginning: caught up to the end, then
    followed without blocking between batches."""

    def __init__(
        self, settings: Settings, *topics: str, purpose: str = "tail", **overrides: object
    ) -> None:
        self._settings = settings
        self._purpose = purpose
        self._reader = private_consumer(
            settings, purpose, **{"fetch.wait.max.ms": _TAIL_FETCH_WAIT_MS, **overrides}
        )
        self._starts = {(t, p): OFFSET_BEGINNING for t in topics for p in self._partitions(t)}
        self._reader.assign([TopicPartition(t, p, o) for (t, p), o in self._starts.items()])

    def _partitions(self, topic: str) -> list[int]:
        timeout = self._settings.connect_timeout_s
        return list(self._reader.list_topics(topic, timeout=timeout).topics[topic].partitions)

    def catch_up(self, heartbeat: Callable[[], None] | None = None) -> list[Message]:
        """Everything up to each partition's end as fetched (see the module doc); what arrives
        later, ``poll`` reads. ``heartbeat`` is called as reading goes on, so a long topic does
        not look like a hung service. Raises TopicUnreadable."""

        def beat(_read: int, _total: int) -> None:
            if heartbeat is not None:
                heartbeat()

        read = batches(
            self._reader,
            self._starts,
            dict.fromkeys(self._starts, None),
            purpose=self._purpose,
            stall_timeout_s=self._settings.read_stall_timeout_s,
            progress=beat,
            keep_later=True,
        )
        return [message for batch in read for message in batch]

    def poll(self, timeout_s: float = 0.0, max_records: int = 500) -> list[Message]:
        """What has arrived since, waiting up to ``timeout_s`` for the first record."""
        return fetch_batch(self._reader, max_records, timeout_s, self._purpose)

    def close(self) -> None:
        self._reader.close()
