"""The commit protocol of a consume → produce loop, without the loop waiting for the broker.

A batch's outputs are handed to the producer as soon as they exist; its input offsets are
committed once every one of those outputs (and of every batch read before it) was acknowledged.
The loop meanwhile fetches and scores the next batches: it waits for acknowledgements only when
more than ``max_records`` outputs are unacknowledged, and before a revocation or a stop
(``drain``). The scoring service and the benchmark's relay both run it, so the relay measures the
same protocol without the scoring.

Per batch, in this order (``CommitQueue``):

1. ``send``: produce the batch's outputs (the idempotent producer keeps them in order behind
   earlier batches' outputs, per partition).
2. ``poll``: serve delivery reports; each batch at the head of the queue whose outputs are all
   acknowledged is finished in read order:
   a. its ``after_ack`` records (feature-state snapshots) are delivered, waiting for them: a
      snapshot tells a restore that every record before its offset was delivered;
   b. its offsets join the pending commit (the highest per partition);
   c. its ``on_done`` runs (metrics, the ``batch_scored`` event).
   An output that failed raises ``DeliveryFailed``: nothing of that batch nor of any later one
   is committed, and the caller exits; a restart replays from the last commit.
3. The pending offsets are committed asynchronously at most every ``commit_interval_s`` (one
   request per interval instead of one per batch); ``drain`` commits them synchronously.
   A refused commit is logged and counted (an asynchronous one when the consumer's
   ``on_commit`` callback hands its result to ``settle``) and, while this member still holds
   the partition, tried again after ``_RETRY_S`` unless a later offset supersedes it. A commit
   refused during a rebalance (ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS) is common under kill
   storms; without the retry a member that had already read to the end of a quiet partition
   never committed it again, and the group's lag stood still for good although everything was
   scored (consumer/README.md "Kill storms and the stalled group"). A revoked partition
   (``release``) is not retried: its next owner replays from the last commit (duplicates, never
   a gap).

Committing later than the acknowledgements only widens what a crash replays: delivered outputs
may be produced again (at-least-once), and nothing is committed before it was delivered.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

from roostr.delivery import Output, PendingDelivery, deliver, send
from roostr.kafka import commit_offsets, log_refused_commits

__all__ = ["CommitQueue"]

# While outputs are unacknowledged the loop looks for delivery reports this often between
# fetches (a fetch returns at once when records arrive, so this bounds only the commit's delay).
_ACK_POLL_S = 0.001
# A refused commit is sent again no sooner than this: a rebalance settles within about a
# heartbeat, and a commit refused for good (a missing grant) is logged once a second, no more.
_RETRY_S = 1.0


class _Sent(NamedTuple):
    offsets: list[TopicPartition]
    delivery: PendingDelivery
    after_ack: list[Output]
    on_done: Callable[[], None] | None


class CommitQueue:
    """Batches sent and not yet committed, committed in read order once acknowledged."""

    def __init__(
        self,
        consumer: Consumer,
        producer: Producer,
        *,
        max_records: int,
        commit_interval_s: float,
        timeout_s: float = 60.0,
        on_refused: Callable[[int], None] = lambda _count: None,
    ) -> None:
        self.consumer = consumer
        self.producer = producer
        self.max_records = max_records
        self.commit_interval_s = commit_interval_s
        self.timeout_s = timeout_s
        self._on_refused = on_refused
        self._sent: deque[_Sent] = deque()
        self._unacknowledged = 0
        self._pending: dict[tuple[str, int], int] = {}
        self._held: set[tuple[str, int]] = set()  # partitions acknowledged since last forgotten
        self._next_commit = time.monotonic() + commit_interval_s

    def send(
        self,
        outputs: Sequence[Output],
        offsets: list[TopicPartition],
        *,
        after_ack: Sequence[Output] = (),
        on_done: Callable[[], None] | None = None,
    ) -> PendingDelivery:
        """Produce ``outputs`` now; commit ``offsets`` once they and every earlier batch are in
        (the caller's next ``poll`` or ``drain``). Returns the outputs' delivery."""
        delivery = send(self.producer, outputs)
        self._sent.append(_Sent(offsets, delivery, list(after_ack), on_done))
        self._unacknowledged += len(outputs)
        while self._unacknowledged > self.max_records and len(self._sent) > 1:
            self._finish_head(wait=True)
        return delivery

    def poll(self) -> None:
        """Finish the acknowledged batches at the head, commit if due; never waits for the broker
        (except for a due snapshot, step 2a)."""
        self.producer.poll(0)
        while self._sent and self._sent[0].delivery.settled():
            self._finish_head(wait=False)
        if self._pending and time.monotonic() >= self._next_commit:
            self._commit(asynchronous=True)

    def drain(self) -> None:
        """Wait for every batch sent, then commit synchronously (before a revocation or a stop)."""
        while self._sent:
            self._finish_head(wait=True)
        if self._pending:
            self._commit(asynchronous=False)

    def settle(self, error: KafkaError | None, partitions: list[TopicPartition]) -> None:
        """A commit's result (the consumer's ``on_commit``): the refused offsets are logged,
        counted, and pending again for the partitions still held."""
        refused = log_refused_commits(error, partitions)
        if refused:
            self._retry([tp for tp, _why in refused])

    def release(self, partitions: Iterable[tuple[str, int]]) -> None:
        """Before a revocation: commit everything sent, then nothing more of these partitions
        (their next owner commits them)."""
        self.drain()
        for key in partitions:
            self._held.discard(key)
            self._pending.pop(key, None)

    def fetch_wait(self, idle_s: float) -> float:
        """How long the loop's next fetch may wait: ``idle_s`` unless this queue needs a turn."""
        if self._sent:
            return min(idle_s, _ACK_POLL_S)
        if self._pending:
            return min(idle_s, max(self._next_commit - time.monotonic(), 0.0))
        return idle_s

    def _finish_head(self, *, wait: bool) -> None:
        head = self._sent[0]
        if wait:
            head.delivery.wait(self.timeout_s)
        self._sent.popleft()
        self._unacknowledged -= head.delivery.sent
        if head.after_ack:
            deliver(self.producer, head.after_ack, self.timeout_s)
        for tp in head.offsets:
            key = (tp.topic, tp.partition)
            self._held.add(key)
            self._pending[key] = max(self._pending.get(key, -1), tp.offset)
        if head.on_done is not None:
            head.on_done()

    def _commit(self, *, asynchronous: bool) -> None:
        offsets = [TopicPartition(t, p, offset) for (t, p), offset in self._pending.items()]
        self._pending.clear()
        self._next_commit = time.monotonic() + self.commit_interval_s
        if not asynchronous:
            refused = commit_offsets(self.consumer, offsets)
        else:
            try:
                self.consumer.commit(offsets=offsets, asynchronous=True)
                return  # its result arrives in ``on_commit``
            except KafkaException as exc:  # refused before it was sent (e.g. the client closed)
                refused = log_refused_commits(exc.args[0], offsets)
        if refused:
            self._retry([tp for tp, _why in refused])

    def _retry(self, refused: list[TopicPartition]) -> None:
        self._on_refused(len(refused))
        for tp in refused:
            key = (tp.topic, tp.partition)
            if key in self._held:
                self._pending[key] = max(self._pending.get(key, -1), tp.offset)
        if self._pending:
            self._next_commit = max(self._next_commit, time.monotonic() + _RETRY_S)
