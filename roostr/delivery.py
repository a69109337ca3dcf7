"""Produce a batch's outputs and know, for certain, whether the broker acknowledged all of them."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from confluent_kafka import KafkaError, KafkaException, Message, Producer, TopicPartition

from roostr.errors import RoostrError

__all__ = [
    "Committed",
    "Delivered",
    "DeliveryFailed",
    "Output",
    "PendingDelivery",
    "TransactionAborted",
    "deliver",
    "deliver_in_transaction",
    "send",
]


class Output(NamedTuple):
    """One record to produce."""

    topic: str
    key: bytes | None
    value: bytes | None  # None: a tombstone (deletes the key from a compacted topic)
    partition: int = -1  # -1: the producer's partitioner, by key


class DeliveryFailed(RoostrError):
    """Some output was not acknowledged: the batch's input offsets must not be committed."""


class TransactionAborted(DeliveryFailed):
    """A transaction was aborted although every output was acknowledged: the broker refused the
    offsets or the commit for a reason of the group (a rebalance moved its generation on). The
    producer can begin another transaction, and the batch's inputs can be read again."""


class _Acks:
    """Delivery-report sink: counts acknowledgements, keeps the first error and, per topic
    partition, the offset after the last record acknowledged."""

    __slots__ = ("acked", "ends", "error")

    def __init__(self) -> None:
        self.acked = 0
        self.error: KafkaError | None = None
        self.ends: dict[tuple[str, int], int] = {}

    def __call__(self, error: KafkaError | None, message: Message) -> None:
        if error is None:
            self.acked += 1
            where, end = (message.topic() or "", message.partition() or 0), message.offset()
            if end is not None and end + 1 > self.ends.get(where, 0):
                self.ends[where] = end + 1
        elif self.error is None:
            self.error = error


def _produce_all(producer: Producer, outputs: Iterable[Output], acks: _Acks) -> int:
    """Hand every output to the client; a record it refuses outright raises KafkaException."""
    sent = 0
    for topic, key, value, partition in outputs:
        while True:
            try:
                producer.produce(topic, value, key, partition, on_delivery=acks)
                break
            except BufferError:
                producer.poll(0.05)  # local queue full: serve delivery reports, then retry
        sent += 1
    return sent


class Delivered(Protocol):
    """Outputs handed over: whether all were acknowledged, and where they ended."""

    @property
    def acknowledged(self) -> bool: ...

    @property
    def ends(self) -> dict[tuple[str, int], int]: ...


@dataclass(frozen=True, slots=True)
class Committed:
    """Outputs of a committed transaction (``deliver_in_transaction``): all acknowledged."""

    ends: dict[tuple[str, int], int]
    acknowledged: bool = True


class PendingDelivery:
    """Outputs handed to the producer whose acknowledgements have not been checked yet.

    ``send`` returns at once (the client delivers them from its own threads), so the caller can
    work on the next batch meanwhile; ``wait`` is the moment of truth before any commit.
    """

    def __init__(self, producer: Producer, outputs: Iterable[Output]) -> None:
        self.producer = producer
        self._acks = _Acks()
        try:
            self._sent = _produce_all(producer, outputs, self._acks)
        except KafkaException as exc:
            raise DeliveryFailed(f"produce failed: {exc}") from exc

    @property
    def sent(self) -> int:
        return self._sent

    @property
    def acknowledged(self) -> bool:
        """Every output acknowledged (False while any is in flight or one failed)."""
        return self._acks.error is None and self._acks.acked == self._sent

    @property
    def ends(self) -> dict[tuple[str, int], int]:
        """(topic, partition) → the offset after the last of these outputs acknowledged there."""
        return self._acks.ends

    def settled(self) -> bool:
        """Has every output been acknowledged? (delivery reports are served by the producer's
        ``poll``); DeliveryFailed as soon as one failed."""
        if self._acks.error is not None:
            raise DeliveryFailed(f"delivery failed: {self._acks.error}")
        return self._acks.acked == self._sent

    def wait(self, timeout_s: float) -> int:
        """Wait for every delivery report; the number acknowledged, or DeliveryFailed.

        Only these outputs are waited for: records produced after them may still be in flight.
        """
        deadline = time.monotonic() + timeout_s
        try:
            while not self.settled():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    missing = self._sent - self._acks.acked
                    raise DeliveryFailed(
                        f"{missing} of {self._sent} outputs unacknowledged after {timeout_s}s"
                    )
                self.producer.poll(min(remaining, 0.1))
        except KafkaException as exc:
            raise DeliveryFailed(f"produce failed: {exc}") from exc
        return self._sent


def send(producer: Producer, outputs: Iterable[Output]) -> PendingDelivery:
    """Hand every output to the producer now; check their delivery later (``wait``)."""
    return PendingDelivery(producer, outputs)


def deliver(producer: Producer, outputs: Iterable[Output], timeout_s: float) -> int:
    """Produce every output, wait for every delivery report, raise unless all were acknowledged.

    Returns the number of records acknowledged. The producer is idempotent (acks=all, retries
    inside librdkafka), so an error reported here is final for this attempt. A record the client
    refuses when it is handed over (``produce`` raising, e.g. MSG_SIZE_TOO_LARGE) fails the
    delivery the same way: DeliveryFailed, never an unhandled KafkaException.
    """
    return send(producer, outputs).wait(timeout_s)


def deliver_in_transaction(
    producer: Producer,
    outputs: Iterable[Output],
    offsets: list[TopicPartition],
    group_metadata: object,
    timeout_s: float,
) -> dict[tuple[str, int], int]:
    """Outputs and the input offsets in one Kafka transaction: both become visible, or neither.

    1. ``begin_transaction``.
    2. Produce every output.
    3. ``send_offsets_to_transaction``: the input offsets commit inside the same transaction
       (the group metadata fences a member that was rebalanced away meanwhile); none, none sent.
    4. ``commit_transaction``: flushes, and fails if any output failed.
    Returns, per (topic, partition), the offset after the last output written there.
    On any failure the transaction is aborted (read_committed readers never see its records).
    When every output had been acknowledged and the error only asks for an abort (e.g.
    ILLEGAL_GENERATION: the group rebalanced while the batch was scored, routine while members
    come and go), TransactionAborted is raised: the caller reads the batch again. Otherwise
    DeliveryFailed: an output failed or the producer is fenced, so the service exits and a
    restart resumes from the last committed transaction.
    """
    acks = _Acks()
    producer.begin_transaction()
    try:
        _produce_all(producer, outputs, acks)
        if offsets:
            producer.send_offsets_to_transaction(offsets, group_metadata, timeout_s)
        producer.commit_transaction(timeout_s)
    except KafkaException as exc:
        try:
            producer.abort_transaction(timeout_s)
        except KafkaException as abort_error:
            raise DeliveryFailed(f"transaction failed ({exc}); abort failed too") from abort_error
        if exc.args[0].txn_requires_abort() and acks.error is None:
            raise TransactionAborted(f"transaction aborted: {exc}") from exc
        raise DeliveryFailed(f"transaction aborted: {exc}") from exc
    return acks.ends
