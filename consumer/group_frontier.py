"""The earliest signal the joiner may not have read that the *other* scoring members hold.

A member's track records may count only outcomes the joiner vouches for, and the joiner vouches
only for the signals it has read from ``signals.scored`` (``consumer.track_records``). What this
member holds, delivers or has not fetched it knows itself; what the rest of the group has in hand
it learns from the brokers, with no message between members:

- each input partition this member does not hold, from the group's committed offset on: not yet
  delivered (a member holds it, has it in flight, or nobody has fetched it);
- each partition of ``signals.scored`` from the joiner's ``scored_through`` on: delivered, not yet
  read by the joiner.

The earliest posted_at among the first signal of each such stretch bounds the cutoff a member may
trust: records of a partition come in posted_at order (the joiner assumes the same), so nothing
pending there is earlier. Reading it costs a committed-offsets request, the partitions' ends and
one record per pending partition; ``consumer.track_records`` looks only while it holds records
back, a few times a second at most.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Collection, Mapping
from datetime import UTC, datetime

import orjson
from confluent_kafka import Consumer, Message, TopicPartition

from roostr.contracts import LabelCutoff, RawSignal
from roostr.decoding import decode_signal
from roostr.kafka import make_consumer
from roostr.logs import get_logger
from roostr.settings import Settings
from roostr.topic_reader import usable

__all__ = ["UNKNOWN", "GroupFrontier"]

log = get_logger("roostr.group_frontier")

UNKNOWN = datetime.min.replace(tzinfo=UTC)  # a pending record not read in time: hold everything
_TIMEOUT_S = 10.0
_READ_WITHIN_S = 2.0


class GroupFrontier:
    """Looks up the earliest posted_at pending outside this member (``earliest``)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._reader = make_consumer(settings, f"{settings.group_readers}-frontier")
        self._partitions: dict[str, int] = {}

    def earliest(
        self, consumer: Consumer, held: Collection[int], claims: Mapping[int, LabelCutoff]
    ) -> datetime | None:
        """The earliest posted_at pending elsewhere (None: nothing is; ``UNKNOWN``: a pending
        record could not be read). ``consumer`` is the member's group consumer (the group's
        committed offsets), ``held`` its input partitions, ``claims`` the joiner's latest per
        ``signals.scored`` partition. A member holding every input partition delivers every
        signal itself (``OutcomeFeed`` tracks those): nothing to look up."""
        s = self._settings
        others = [p for p in range(self._count(consumer, s.topic_raw)) if p not in held]
        if not others:
            return None
        starts: dict[tuple[str, int], int] = {}
        committed = consumer.committed(
            [TopicPartition(s.topic_raw, p) for p in others], timeout=_TIMEOUT_S
        )
        for tp in committed:
            starts[(s.topic_raw, tp.partition)] = tp.offset
        for partition in range(self._count(consumer, s.topic_scored)):
            claim = claims.get(partition)
            starts[(s.topic_scored, partition)] = claim.scored_through if claim else 0
        pending = []
        for (topic, partition), start in starts.items():
            low, high = consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=_TIMEOUT_S
            )
            at = max(start, low)
            if at < high:
                pending.append((TopicPartition(topic, partition, at), high))
        if not pending:
            return None
        return self._first_posted(pending)

    def close(self) -> None:
        self._reader.close()

    def _count(self, consumer: Consumer, topic: str) -> int:
        if topic not in self._partitions:
            metadata = consumer.list_topics(topic, timeout=_TIMEOUT_S).topics[topic]
            self._partitions[topic] = len(metadata.partitions)
        return self._partitions[topic]

    def _first_posted(self, pending: list[tuple[TopicPartition, int]]) -> datetime | None:
        """The earliest posted_at of each stretch's first signal; a stretch holding none (a
        transaction's marker, records that are no signal) bounds nothing."""
        posted = {
            self._settings.topic_raw: _raw_posted,
            self._settings.topic_scored: _scored_posted,
        }
        ends = {(tp.topic, tp.partition): high for tp, high in pending}
        firsts: dict[tuple[str, int], datetime] = {}
        self._reader.assign([tp for tp, _high in pending])
        deadline = time.monotonic() + _READ_WITHIN_S
        try:
            while ends.keys() - firsts.keys():
                if time.monotonic() >= deadline:
                    log.warning("frontier_unread", partitions=len(ends.keys() - firsts.keys()))
                    return UNKNOWN
                for message in usable(self._reader.consume(500, 0.1), "frontier"):
                    where = (message.topic() or "", message.partition() or 0)
                    if where not in firsts and (at := posted[where[0]](message)) is not None:
                        firsts[where] = at
                for tp in self._reader.position(
                    [TopicPartition(t, p) for t, p in ends.keys() - firsts.keys()]
                ):
                    if tp.offset >= ends[(tp.topic, tp.partition)]:
                        ends.pop((tp.topic, tp.partition))  # read past its end: no signal
        finally:
            self._reader.unassign()
        return min(firsts.values(), default=None)


def _raw_posted(message: Message) -> datetime | None:
    signal = decode_signal(message.value(), sys.maxsize)  # the size limit is the owner's
    return signal.posted_at if isinstance(signal, RawSignal) else None


def _scored_posted(message: Message) -> datetime | None:
    try:
        return datetime.fromisoformat(orjson.loads(message.value() or b"{}")["posted_at"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
