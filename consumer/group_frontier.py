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
pending there is earlier. Reading it costs a committed-offsets request and a fetch of every such
partition from its start (the first signal of each, or its end); ``consumer.track_records``
looks only while it holds records back, a few times a second at most.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Collection, Mapping
from datetime import UTC, datetime

import orjson
from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, TopicPartition

from roostr.contracts import LabelCutoff, RawSignal
from roostr.decoding import decode_signal
from roostr.kafka import coordinates, make_consumer
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
        # one signal per partition is wanted: small fetches, no read-ahead, a quick answer at
        # the end. The client keeps each partition's end from its last fetch across
        # assignments (an earlier lookup's), so only its end-of-partition event, sent once per
        # assignment, says that this lookup has read a partition to its end.
        self._reader = make_consumer(
            settings,
            f"{settings.group_readers}-frontier",
            **{"max.partition.fetch.bytes": 65_536, "queued.min.messages": 1,
               "queued.max.messages.kbytes": 1_024, "enable.partition.eof": True,
               "fetch.wait.max.ms": 10, "fetch.queue.backoff.ms": 10},
        )  # fmt: skip
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
            starts[(s.topic_raw, tp.partition)] = tp.offset  # negative: none committed yet
        for partition in range(self._count(consumer, s.topic_scored)):
            claim = claims.get(partition)
            starts[(s.topic_scored, partition)] = claim.scored_through if claim else 0
        return self._first_posted(starts)

    def close(self) -> None:
        self._reader.close()

    def _count(self, consumer: Consumer, topic: str) -> int:
        if topic not in self._partitions:
            metadata = consumer.list_topics(topic, timeout=_TIMEOUT_S).topics[topic]
            self._partitions[topic] = len(metadata.partitions)
        return self._partitions[topic]

    def _first_posted(self, starts: dict[tuple[str, int], int]) -> datetime | None:
        """The earliest posted_at of the first signal from each start on; a stretch holding
        none (read to its end: nothing pending, a transaction's marker, records that are no
        signal) bounds nothing. A stretch is read to its end when this assignment's fetch
        says so (its end-of-partition event): a broker's offset listing may lag the end (the
        embedded Tansu answers with its last batch's first offset + 1), and the end the client
        keeps may be an earlier lookup's."""
        posted = {
            self._settings.topic_raw: _raw_posted,
            self._settings.topic_scored: _scored_posted,
        }
        todo = set(starts)
        firsts: dict[tuple[str, int], datetime] = {}
        ends: list[Message] = []  # end-of-partition events: read to the end, nothing pending
        self._reader.assign(
            [
                TopicPartition(t, p, at if at >= 0 else OFFSET_BEGINNING)
                for (t, p), at in starts.items()
            ]
        )
        deadline = time.monotonic() + _READ_WITHIN_S
        try:
            while todo:
                if time.monotonic() >= deadline:
                    log.warning("frontier_unread", partitions=len(todo))
                    return UNKNOWN
                batch = self._reader.consume(500, 0.1)
                for message in usable(batch, "frontier", at_end=ends.append):
                    where = coordinates(message)[:2]
                    if where in todo and (at := posted[where[0]](message)) is not None:
                        firsts[where] = at
                        todo.discard(where)
                todo -= {coordinates(e)[:2] for e in ends}  # after the records they follow
                ends.clear()
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
