"""One runtime for roostr's group members: the scoring service and the outcome joiner.

``MemberRuntime`` owns what every member does the same way, so an application is only its
processing step (a ``Member``):

1. **Lifecycle.** The health server (``/healthz``, ``/readyz``, ``/metrics``), ``stop`` /
   ``live`` / ``ready``, and the exit codes below. A member is ready when it is in the group,
   its brokers answer, it is not stopping or stalled, and it holds the state of every partition
   it was assigned.
2. **The group.** One consumer subscribed with the runtime's rebalance callbacks. An assignment
   is only recorded there: restoring runs in the loop, never inside a callback.
3. **Restores**, before each batch (after Quix Streams' recovery, inside the loop with the data
   partitions held back): the partitions newly assigned are restored by the member, then read
   from where their state ends (a seek). Until then their records are not the member's
   (``owned``). A restore that fails keeps nothing of what it loaded, pauses its partitions,
   turns readiness off and is tried again after ``RESTORE_RETRY_S``, for as long as it takes.
4. **Stalls heal themselves.** A member that waits while its group lags (``consumer.stall``) is
   reported stalled (not ready, a gauge, ``member_stalled``). Stalled for another
   ``stall_rejoin_after_s``, it leaves the group and joins with a fresh consumer, which gets a
   new member id and a new assignment. After ``stall_rejoins`` rejoins without recovering it
   exits ``EXIT_STALLED`` for its supervisor (systemd, Kubernetes) to restart it.

A member's commits go through its commit owner (``consumer.commit_queue``); the runtime asks it
to release partitions before they are revoked (``Member.revoked``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Protocol

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition
from prometheus_client import CollectorRegistry

from consumer.metrics import MemberMetrics
from consumer.stall import StallDetector
from roostr.connection import BrokerWatch
from roostr.delivery import DeliveryFailed
from roostr.errors import TopicUnreadable
from roostr.group_lag import GroupLagReader
from roostr.health import HealthServer
from roostr.kafka import coordinates, make_consumer
from roostr.logs import get_logger
from roostr.settings import Settings

__all__ = [
    "EXIT_DELIVERY_FAILED",
    "EXIT_NOT_COPARTITIONED",
    "EXIT_STALLED",
    "GroupSpec",
    "Member",
    "MemberRuntime",
    "Partition",
    "RuntimeControl",
]

EXIT_NOT_COPARTITIONED = 2  # the joiner's inputs differ in partition count (a set-up error)
EXIT_DELIVERY_FAILED = 3  # outputs were not acknowledged: nothing after them was committed
EXIT_STALLED = 4  # stalled through every rejoin: a supervisor should start the member afresh

RESTORE_RETRY_S = 5.0
LIVE_WITHIN_S = 60.0
_STALL_CHECK_EVERY_S = 5.0  # at most; twice per ``stall_after_s`` when that is shorter

Partition = tuple[str, int]


class Member(Protocol):
    """An application the runtime runs: what it does at start, per batch and on rebalances."""

    def start(self, consumer: Consumer) -> int:
        """Once, after the first join began: load what serving needs. Non-zero: exit with it."""
        ...

    def joined(self, consumer: Consumer) -> None:
        """A consumer joined (the first, or a fresh one after a stall): bind to it."""
        ...

    def restore(self, consumer: Consumer, partitions: list[Partition]) -> Mapping[Partition, int]:
        """Load the partitions' state; where each input resumes (the state's end). Raises
        TopicUnreadable or KafkaException: the runtime then ``forget``s them and retries."""
        ...

    def forget(self, partitions: set[Partition]) -> None:
        """Drop the partitions' state (revoked, or a restore that failed)."""
        ...

    def revoked(self, partitions: set[Partition]) -> None:
        """Before the partitions go: finish what was sent for them (commit it), then ``forget``."""
        ...

    def step(self, consumer: Consumer) -> None:
        """One turn of the loop: between-batch work, then at most one batch."""
        ...

    def finish(self) -> None:
        """Before leaving the group on purpose (a stop, a rejoin): deliver and commit what was
        sent."""
        ...

    def delivery_failed(self, error: DeliveryFailed) -> None:
        """Outputs were lost: nothing more may be committed (the runtime exits)."""
        ...

    def close(self) -> None:
        """After the consumer left the group: flush and close the member's own clients."""
        ...


@dataclass(frozen=True, slots=True)
class GroupSpec:
    """Which group a member joins, on what, and how it is reached."""

    name: str  # the member's name in events: ``<name>_stopped`` (its own: ``<name>_started``)
    state: str  # its state's name in events: ``<state>_restore_failed``, ``_restore_recovered``
    group: str
    topics: list[str]
    lag_topic: str  # the input whose lag tells whether the member stalls
    http_port: int
    consumer_config: Mapping[str, Any]


class MemberRuntime:
    """Runs one ``Member`` in its group until ``stop()`` (see the module doc)."""

    def __init__(
        self,
        settings: Settings,
        member: Member,
        spec: GroupSpec,
        registry: CollectorRegistry,
        metrics: MemberMetrics,
        on_commit: Callable[..., None] | None = None,
    ) -> None:
        self.settings = settings
        self.member = member
        self.spec = spec
        self.registry = registry
        self.metrics = metrics
        self.broker = BrokerWatch(settings)  # the group consumer's and the producer's brokers
        self.health: HealthServer | None = None
        self.assigned: set[Partition] = set()
        self._on_commit = on_commit
        self._stopping = threading.Event()
        self._joined = False
        self._last_beat = time.monotonic()
        self._to_restore: set[Partition] = set()
        self._restore_at = 0.0  # when the partitions to restore are tried (again)
        self._restore_failed = False  # their last try failed: paused, not ready
        self._resume_at: dict[Partition, int] = {}  # where each restored input resumed
        # restored inputs no fetch has answered since they resumed: the end the client keeps
        # for one may be an earlier assignment's (it keeps them across assignments) or none
        self._unanswered: set[Partition] = set()
        self._stall = StallDetector(settings.stall_after_s)
        self._next_stall_check = 0.0
        self._rejoins = 0  # since the member last made progress
        # a logger of its own, made now: a module-level one would keep the processors of the
        # first member that used it (structlog caches on first use), not those of this one
        self._log = get_logger("roostr.runtime").bind(member=spec.name)

    # --- control ---------------------------------------------------------------------------

    def stop(self) -> None:
        """Finish the batch, commit and leave the group (signal-handler safe)."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def heartbeat(self) -> None:
        """The member is working (a long restore or catch-up calls this as it goes)."""
        self._last_beat = time.monotonic()

    def live(self) -> bool:
        return time.monotonic() - self._last_beat < LIVE_WITHIN_S

    def ready(self) -> bool:
        return (
            self._joined
            and not self.broker.down
            and not self._stopping.is_set()
            and not self._stall.stalled
            and not self._restore_failed
        )

    def restore_again(self, partitions: Iterable[Partition]) -> set[Partition]:
        """Drop the state of the held ones of ``partitions`` and restore it before their next
        batch (a transaction aborted after the state had observed its batch); returns them."""
        held = set(partitions) & self.assigned
        self.member.forget(held)
        self._to_restore |= held
        return held

    def _owned(self, message: Message) -> bool:
        topic, partition, offset = coordinates(message)
        key = (topic, partition)
        return (
            key in self.assigned
            and key not in self._to_restore
            and offset >= self._resume_at.get(key, 0)
        )

    def take(self, messages: Iterable[Message]) -> list[Message]:
        """The records of held, restored partitions at or after where their input resumed (a
        fetch has answered for those partitions)."""
        taken = [m for m in messages if self._owned(m)]
        if self._unanswered:  # only just after a restore: no second look at each record
            self._unanswered -= {coordinates(m)[:2] for m in taken}
        return taken

    def at_end(self, event: Message) -> None:
        """An end-of-partition event (``fetch_batch``, ``usable``): a fetch answered for it."""
        self._unanswered.discard(coordinates(event)[:2])

    def left_to_read(
        self, consumer: Consumer, partitions: list[Partition], read_to: Mapping[Partition, int]
    ) -> dict[Partition, int | None]:
        """How many offsets of each held partition lie past ``read_to`` (or where it resumed;
        or the client's position, which also steps over a transaction's commit marker that no
        record reaches) up to the end the client's fetches report; None until a fetch has
        answered since it resumed. No broker round trip (the client fetches ahead in the
        background), and no listed end: it may lag the fetched one (the embedded Tansu lists
        its last batch's first offset + 1)."""
        left: dict[Partition, int | None] = {}
        asked = [TopicPartition(t, p) for t, p in partitions]
        for tp in consumer.position(asked) if asked else []:
            where = (tp.topic, tp.partition)
            low, high = consumer.get_watermark_offsets(tp, cached=True)
            at = max(read_to.get(where, self._resume_at.get(where, low)), tp.offset, low)
            answered = high >= 0 and where not in self._unanswered
            left[where] = max(high - at, 0) if answered else None
        return left

    def unread(self, consumer: Consumer, topic: str) -> set[int]:
        """The held, restored partitions of ``topic`` with records the member has not been
        handed yet, or whose end no fetch has told since they resumed."""
        held = [(t, p) for t, p in sorted(self.assigned - self._to_restore) if t == topic]
        return {p for (_, p), left in self.left_to_read(consumer, held, {}).items() if left != 0}

    # --- lifecycle -------------------------------------------------------------------------

    def run(self) -> int:
        """Serve until stopped: 0 on a clean stop, else one of the ``EXIT_`` codes."""
        s = self.settings
        self.health = HealthServer(
            s.http_host, self.spec.http_port, self.registry, self.live, self.ready
        ).start()
        self._log.info("http_listening", host=s.http_host, port=self.health.port)
        lag = GroupLagReader(s, self.spec.group, self.spec.lag_topic)
        status, consumer = 0, self._join()
        try:
            status = self.member.start(consumer)
            while status == 0 and not self._stopping.is_set():
                self.member.joined(consumer)
                if self._serve(consumer, lag):
                    self.member.finish()
                    break
                self._rejoins += 1
                if self._rejoins > s.stall_rejoins:
                    self._log.error("member_gave_up", rejoins=s.stall_rejoins, exit=EXIT_STALLED)
                    status = EXIT_STALLED
                    break
                self.metrics.rejoins.inc()
                self._log.warning("member_rejoining", rejoin=self._rejoins, of=s.stall_rejoins)
                self.member.finish()
                self._leave(consumer)
                consumer = self._join()
        except DeliveryFailed as exc:
            self._log.error("delivery_failed", error=str(exc), action="exit without committing")
            self.member.delivery_failed(exc)
            status = EXIT_DELIVERY_FAILED
        finally:
            self._stopping.set()
            self._leave(consumer)
            self.member.close()
            lag.close()
            self.health.stop()
            self._log.info(f"{self.spec.name}_stopped", status=status)
        return status

    def _join(self) -> Consumer:
        """A fresh consumer, subscribed: the join runs in the client's background meanwhile."""
        self._joined = False
        self._stall = StallDetector(self.settings.stall_after_s)
        self.metrics.stalled.set(0)
        extra = {"on_commit": self._on_commit} if self._on_commit is not None else {}
        consumer = make_consumer(
            self.settings,
            self.spec.group,
            error_cb=self.broker.on_error,
            **{"enable.partition.eof": True},  # tells ``left_to_read`` a fetch answered
            **extra,
            **self.spec.consumer_config,
        )
        consumer.subscribe(
            self.spec.topics,
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_revoke,
        )
        self._log.info("member_joining", group=self.spec.group, topics=self.spec.topics)
        return consumer

    def _leave(self, consumer: Consumer) -> None:
        """Leave the group now (its partitions move without a session timeout; the revocation
        commits what was sent)."""
        with suppress(RuntimeError):  # closed already
            consumer.close()

    def _serve(self, consumer: Consumer, lag: GroupLagReader) -> bool:
        """The loop; True when stopped, False when stalled long enough to rejoin."""
        while not self._stopping.is_set():
            self.heartbeat()
            self.broker.check(consumer)  # an outage: logged, not ready, retried (never an exit)
            if self._stalled_too_long(consumer, lag):
                return False
            self._prepare(consumer)
            self.member.step(consumer)
        return True

    # --- stalls ----------------------------------------------------------------------------

    def _stalled_too_long(self, consumer: Consumer, lag: GroupLagReader) -> bool:
        """Check for a stall now and then (one admin round trip); whether to rejoin."""
        now = time.monotonic()
        if now < self._next_stall_check or self.broker.down:
            return False  # cut off from the brokers the lag cannot be read (reported already)
        self._next_stall_check = now + min(_STALL_CHECK_EVERY_S, self.settings.stall_after_s / 2)
        group = lag.read()
        if group is None:
            return False  # the broker did not answer: keep the last verdict
        self.metrics.group_lag.set(sum(p.lag for p in group.values()))
        held = [TopicPartition(t, p) for t, p in sorted(self.assigned) if t == lag.topic]
        positions = consumer.position(held) if held else []
        if self._stall.observe(
            group, {tp.partition: tp.offset if tp.offset >= 0 else None for tp in positions}
        ):
            self.metrics.stalled.set(int(self._stall.stalled))
        if not self._stall.waiting:
            self._rejoins = 0
        stalled_for = self._stall.stalled_for()
        return stalled_for is not None and stalled_for >= self.settings.stall_rejoin_after_s

    # --- rebalances and restores -----------------------------------------------------------

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Record the new partitions; their state is restored before their first batch."""
        self._joined = True
        added = {(tp.topic, tp.partition) for tp in partitions}
        if not added:
            return  # cooperative rebalances call this with nothing new for most members
        self.assigned |= added
        self._to_restore |= added
        self._log.info("partitions_assigned", partitions=_names(added))

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """The member finishes and forgets the partitions, then they are no longer held."""
        removed = {(tp.topic, tp.partition) for tp in partitions}
        if not removed:
            return
        self.member.revoked(removed)
        self.assigned -= removed
        self._to_restore -= removed
        for key in removed:
            self._resume_at.pop(key, None)
        self._unanswered -= removed
        if not self._to_restore:
            self._restore_failed = False  # no partition of a failed restore is held any more
        self._log.info("partitions_revoked", partitions=_names(removed))

    def _prepare(self, consumer: Consumer) -> None:
        """Restore the partitions assigned since the last batch before any of their records is
        processed, then read them from where their state ends (see the module doc)."""
        if not self._to_restore or time.monotonic() < self._restore_at:
            return
        pending = sorted(self._to_restore)
        held = [TopicPartition(t, p) for t, p in pending]
        try:
            starts = self.member.restore(consumer, pending)
            for (topic, partition), offset in starts.items():
                consumer.seek(TopicPartition(topic, partition, offset))
        except (TopicUnreadable, KafkaException) as exc:
            self.member.forget(set(pending))
            with suppress(KafkaException):  # paused or not, nothing of them is processed
                consumer.pause(held)
            self._restore_failed = True
            self._restore_at = time.monotonic() + RESTORE_RETRY_S
            self._log.error(
                f"{self.spec.state}_restore_failed",
                partitions=_names(pending),
                error=str(exc),
                retry_in_s=RESTORE_RETRY_S,
            )
            return
        self._resume_at.update(starts)
        self._unanswered |= set(starts)
        self._to_restore = set()
        if self._restore_failed:
            consumer.resume(held)
            self._restore_failed = False
            self._log.info(f"{self.spec.state}_restore_recovered", partitions=_names(pending))


def _names(partitions: Iterable[Partition]) -> list[str]:
    return [f"{topic}/{partition}" for topic, partition in sorted(partitions)]


class RuntimeControl:
    """A member's controls, as signal handlers, probes and tests use them: its runtime's."""

    runtime: MemberRuntime

    def stop(self) -> None:
        """Finish the batch, commit and leave the group (signal-handler safe)."""
        self.runtime.stop()

    def live(self) -> bool:
        return self.runtime.live()

    def ready(self) -> bool:
        """In the group, a broker answering, not stopping, not stalled, holding the state of
        every partition assigned."""
        return self.runtime.ready()

    def run(self) -> int:
        """Serve until stopped: 0 on a clean stop, else one of the ``EXIT_`` codes."""
        return self.runtime.run()
