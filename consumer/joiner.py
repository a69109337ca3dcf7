"""The outcome joiner: scored signals + prices → one Outcome per signal, in event time.

One member of the ``roostr-outcome-joiner`` group reads ``signals.scored`` and ``prices``, which
are keyed by ticker and co-partitioned: partition *p* of both is assigned to the same member
(the range assignor), and partition *p* of a compacted changelog topic holds that pair's label
state (``roostr.labels.PartitionLabeler``). Every label is decided by event time only (see
``roostr.labels``), so live, replayed and restarted runs emit the same outcomes.

Reading both inputs in event time: a replay may offer one topic far ahead of the other. The
labeler buffers a lookback of ticks, and the member pauses whichever input of a pair runs more
than half that lookback ahead of the other (unless the other has nothing more to read), so a
signal always finds the ticks it needs.

After each batch's outcomes are acknowledged, the member publishes how far its partitions'
labels are final (``LabelCutoff`` on ``signals.outcomes.cutoffs``, see ``_cutoff``): what
retraining and the scoring consumer's track records wait for instead of the wall clock.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition
from pydantic import BaseModel, ValidationError

from consumer.changelog import PartitionLog, restore_partitions
from consumer.commit_queue import CommitQueue
from consumer.dead_letters import dead_letter
from consumer.metrics import JoinerMetrics
from consumer.runtime import (
    EXIT_NOT_COPARTITIONED,
    GroupSpec,
    MemberRuntime,
    Partition,
    RuntimeControl,
)
from roostr.contracts import (
    LabelCutoff,
    Outcome,
    PriceTick,
    ScoredSignal,
    describe_validation_error,
)
from roostr.decoding import Rejection
from roostr.delivery import DeliveryFailed, Output, deliver_in_transaction
from roostr.kafka import (
    coordinates,
    make_producer,
    make_transactional_producer,
    max_payload_bytes,
)
from roostr.label_state import LabelerState
from roostr.labels import PartitionLabeler
from roostr.logs import get_logger
from roostr.settings import Settings
from roostr.topic_reader import fetched_ends, usable

__all__ = ["OutcomeJoiner"]

log = get_logger("roostr.joiner")

C = TypeVar("C", bound=BaseModel)
_FLUSH_TIMEOUT_S = 60.0


class OutcomeJoiner(RuntimeControl):
    """Consume → label → produce outcomes and state → commit, until ``stop()``."""

    def __init__(self, settings: Settings, transactional: bool = False) -> None:
        self.settings = settings
        self.transactional = transactional
        self.rules = settings.label_rules()
        self.metrics = JoinerMetrics()
        self.commits: CommitQueue | None = None
        self._producer: Producer | None = None
        self._labelers: dict[int, PartitionLabeler] = {}
        self._logs: dict[int, PartitionLog] = {}
        self._positions: dict[tuple[str, int], int] = {}  # next offset to read, per input
        self._at_end: dict[tuple[str, int], bool] = {}
        self._signal_time: dict[int, float] = {}  # newest posted_at read, per partition
        self._paused: set[tuple[str, int]] = set()
        self._watermark = -math.inf
        self._counted = (0, 0)  # late ticks, duplicates already reported to the metrics
        # monotonic time of each pair's last tick, or of its assignment before the first tick
        self._last_tick_read: dict[int, float] = {}
        # the cutoff and signals.scored position last published, per partition
        self._published: dict[int, tuple[float, int]] = {}
        self._partition_count = 0
        # per signals.outcomes partition, the offset after the last outcome known acknowledged
        self._outcome_ends: dict[int, int] = {}
        self.runtime = MemberRuntime(
            settings,
            self,
            GroupSpec(
                name="joiner",
                state="joiner_state",
                group=settings.group_joiner,
                topics=[settings.topic_scored, settings.topic_prices],
                lag_topic=settings.topic_scored,
                http_port=settings.joiner_http_port,
                # Partition p of both inputs to one member: the range assignor co-assigns equal
                # partition counts (cooperative-sticky does not).
                consumer_config={"partition.assignment.strategy": "range", "fetch.wait.max.ms": 50},
            ),
            self.metrics.registry,
            self.metrics.member,
            on_commit=self._on_commit,
        )

    # --- the member's steps (``consumer.runtime.Member``) ----------------------------------

    def start(self, consumer: Consumer) -> int:
        s = self.settings
        if problem := self._copartitioning_problem(consumer):
            log.error("topics_not_copartitioned", problem=problem)
            return EXIT_NOT_COPARTITIONED
        on_error = self.runtime.broker.on_error
        self._producer = (
            make_transactional_producer(s, s.group_joiner, error_cb=on_error)
            if self.transactional
            else make_producer(s, error_cb=on_error)
        )
        log.info("joiner_started", group=s.group_joiner)
        return 0

    def joined(self, consumer: Consumer) -> None:
        """Commits go through this consumer from now on (synchronously: ``_deliver``)."""
        assert self._producer is not None
        self.commits = CommitQueue(
            consumer,
            self._producer,
            max_records=self.settings.batch_size,
            commit_interval_s=0.0,
            timeout_s=_FLUSH_TIMEOUT_S,
            on_refused=self.metrics.commit_failures.inc,
        )

    def step(self, consumer: Consumer) -> None:
        """One batch, then the cutoffs it raised and the inputs' alignment."""
        assert self.commits is not None
        messages = self._fetch(consumer)
        if messages or self._member_watermark() != self._watermark:
            self._process(consumer, messages)
        # Between batches nothing is in flight: every outcome so far is acknowledged.
        if cutoffs := self._cutoff_outputs():
            self._deliver(consumer, cutoffs, [])
        self._align(consumer)
        self.commits.poll()  # a commit refused in a rebalance is sent again (consumer.commit_queue)

    def finish(self) -> None:
        if self.commits is not None:
            self.commits.drain()

    def delivery_failed(self, error: DeliveryFailed) -> None:
        self.commits = None  # leaving the group commits nothing past the loss

    def close(self) -> None:
        if self._producer is not None:
            self._producer.flush(10)

    def _on_commit(self, error: KafkaError | None, partitions: list[TopicPartition]) -> None:
        if self.commits is not None:
            self.commits.settle(error, partitions)

    def _copartitioning_problem(self, consumer: Consumer) -> str | None:
        s = self.settings
        topics = (s.topic_scored, s.topic_prices, s.topic_joiner_state)
        metadata = consumer.list_topics(timeout=30).topics
        counts = {t: len(metadata[t].partitions) if t in metadata else 0 for t in topics}
        if len(set(counts.values())) == 1 and 0 not in counts.values():
            self._partition_count = counts[s.topic_scored]
            return None
        return (
            f"partition counts differ or topics are missing: {counts} (run `roostr topics create`)"
        )

    # --- one batch -------------------------------------------------------------------------

    def _fetch(self, consumer: Consumer) -> list[Message]:
        """Records of a batch of the restored pairs, and which of their inputs are caught up.

        An input is caught up when what this member has read of it (or the client's position,
        past a trailing transaction marker) reaches the end a fetch reported since the pair was
        restored (``MemberRuntime.left_to_read``: the restore's seek starts the fetches again,
        so a pair restored at its input's end gets an end-of-partition event too).
        """
        s = self.settings
        fetched = consumer.consume(s.batch_size, s.batch_wait_ms / 1000)
        messages = self.runtime.take(usable(fetched, "joiner", self.runtime.at_end))
        read_to = dict(self._positions)
        now = time.monotonic()
        for message in messages:
            topic, partition, offset = coordinates(message)
            read_to[(topic, partition)] = offset + 1
            if topic == s.topic_prices:
                self._last_tick_read[partition] = now
        pairs = [(t, p) for p in self._labelers for t in (s.topic_scored, s.topic_prices)]
        for where, left in self.runtime.left_to_read(consumer, pairs, read_to).items():
            self._at_end[where] = left == 0
        return messages

    def _process(self, consumer: Consumer, messages: list[Message]) -> None:
        """Label one batch and commit it. The commit protocol, in this order:

        1. Fold every record into its partition's labeler (bad records become dead letters).
        2. Resolve what the clocks passed: each ticker's own, and the member's watermark, so a
           quiet ticker still resolves (``_member_watermark``).
        3. Produce outcomes and dead letters; once the broker acknowledged them, per partition
           the changed state and a marker with the input offsets it reflects, and wait for those.
           The state goes second because a restore trusts it: had it gone with the outcomes, a
           crash could land a marker whose outcomes were never acknowledged (the broker is sent
           each partition's records on its own), and no restart would emit them again.
        4. Only then commit the input offsets (the marker, not the commit, is what a restore
           trusts; the commit keeps the group's lag meaningful).
        5. After the batch (``run``), the label cutoffs that rose are published: they vouch
           for outcomes already acknowledged.
        A crash before 3 completes re-reads the batch: outcomes are re-emitted identically
        (at-least-once; readers dedupe by signal_id). In transactional mode 3 and 4 are one
        Kafka transaction (``_deliver``), and so is each step 5: read_committed readers see each
        outcome once; an aborted transaction exits the member (DeliveryFailed) and its restart
        resumes from the last committed marker.
        """
        s = self.settings
        now = datetime.now(UTC)  # dead letters' failed_at only: labels never read the clock
        outcomes: list[Outcome] = []
        outputs: list[Output] = []
        touched: set[int] = set()
        counts: dict[str, int] = defaultdict(int)
        for message in messages:
            topic, partition, offset = coordinates(message)
            labeler = self._labelers.get(partition)
            if labeler is None:
                continue  # revoked while the batch was fetched: its next owner reads it
            touched.add(partition)
            self._positions[(topic, partition)] = offset + 1
            counts[topic] += 1
            if topic == s.topic_scored:
                outcomes += self._add_signal(labeler, message, outputs, now)
            else:
                outcomes += self._add_tick(labeler, message, outputs, now)
        # Recomputed, never carried over: a partition just taken over may be behind the rest.
        self._watermark = self._member_watermark()
        for partition, labeler in self._labelers.items():
            resolved = labeler.advance(self._watermark)
            if resolved:
                touched.add(partition)
                outcomes += resolved
        outputs[:0] = [
            Output(s.topic_outcomes, o.signal_id.encode(), o.model_dump_json().encode())
            for o in outcomes
        ]
        state: list[Output] = []
        for partition in sorted(touched):
            labeler = self._labelers[partition]
            state += self._logs[partition].batch(
                labeler.state.changes(),
                self._offsets(partition),
                labeler.state.snapshot,
                labeler.state.size(),
            )
        self._note_outcome_ends(self._deliver(consumer, outputs, self._inputs(touched), state))
        self._report(counts, outcomes)

    def _add_signal(
        self, labeler: PartitionLabeler, message: Message, outputs: list[Output], now: datetime
    ) -> list[Outcome]:
        signal = self._decode(ScoredSignal, message, outputs, now)
        if signal is None:
            return []
        _topic, partition, _offset = coordinates(message)
        posted = signal.posted_at.timestamp()
        self._signal_time[partition] = max(self._signal_time.get(partition, -math.inf), posted)
        return labeler.add_signal(vars(signal))  # its fields, in ScoredSignal's layout

    def _add_tick(
        self, labeler: PartitionLabeler, message: Message, outputs: list[Output], now: datetime
    ) -> list[Outcome]:
        tick = self._decode(PriceTick, message, outputs, now)
        return [] if tick is None else labeler.add_tick(tick)

    def _decode(
        self, contract: type[C], message: Message, outputs: list[Output], now: datetime
    ) -> C | None:
        """The record as ``contract``, or None after dead-lettering it with the reason."""
        try:
            return contract.model_validate_json(message.value() or b"")
        except ValidationError as exc:
            self._dead_letter(message, describe_validation_error(exc), outputs, now)
            return None

    def _dead_letter(
        self, message: Message, error: str, outputs: list[Output], now: datetime
    ) -> None:
        rejection = Rejection("schema_violation", error)
        record = dead_letter(message, rejection, now, max_payload_bytes(self.settings))
        outputs.append(Output(self.settings.topic_dlq, record.key, record.value))
        self.metrics.dead_lettered.inc()
        log.warning("dead_lettered", topic=message.topic(), partition=message.partition(),
                    offset=message.offset(), error=error[:200])  # fmt: skip

    def _cutoff(self, partition: int) -> float:
        """The event time up to which partition ``partition``'s matured labels are all out.

        A signal posted at p loses once the clock passes p + horizon + grace, so with the
        member's watermark W every signal read with p + horizon <= W - grace is decided. Signals
        not read yet bound it too: while ``signals.scored`` has more to read, they may be
        posted as early as the newest read so far (S), so the cutoff stays at or below
        S + horizon. Read to its end, the topic bounds nothing: what comes later is posted later
        (the scoring consumer holds a signal until the cutoff reaches it; see
        ``consumer.track_records``) or is a signal arriving over a horizon late.
        """
        rules = self.rules
        cutoff = self._watermark - rules.grace.total_seconds()
        if not self._at_end.get((self.settings.topic_scored, partition), False):
            newest = self._signal_time.get(partition, -math.inf)
            cutoff = min(cutoff, newest + rules.horizon.total_seconds())
        return cutoff

    def _note_outcome_ends(self, ends: dict[tuple[str, int], int]) -> None:
        for (topic, partition), end in ends.items():
            if topic == self.settings.topic_outcomes:
                self._outcome_ends[partition] = max(self._outcome_ends.get(partition, 0), end)

    def _seed_outcome_ends(self) -> None:
        """Start from the outcomes topic's ends: a previous owner of a partition just taken over
        may have written outcomes this member's cutoffs now vouch for (acknowledged before its
        state, which this member restored). The ends a fetch reports: a listed one may lag."""
        topic = self.settings.topic_outcomes
        ends = fetched_ends(self.settings, topic)
        self._note_outcome_ends({(topic, partition): end for partition, end in ends.items()})

    def _cutoff_outputs(self) -> list[Output]:
        """LabelCutoff records for the partitions whose cutoff or read position rose since last
        published (a scoring member waits for the position to pass what it delivered)."""
        outputs = []
        horizon_days = self.rules.horizon / timedelta(days=1)
        for partition in sorted(self._labelers):
            # Floored at the epoch: a partition without ticks yet still announces that a joiner
            # labels it, so scoring members know to wait for it (consumer.track_records).
            cutoff = max(self._cutoff(partition), 0.0)
            read_to = self._positions.get((self.settings.topic_scored, partition), 0)
            published_cutoff, published_read = self._published.get(partition, (-math.inf, -1))
            if cutoff <= published_cutoff and read_to <= published_read:
                continue  # a claim as it stands: nothing new to vouch for
            self._published[partition] = (cutoff, read_to)
            ends = self._outcome_ends
            record = LabelCutoff(
                partition=partition,
                partitions=self._partition_count,
                cutoff=datetime.fromtimestamp(cutoff, UTC),
                horizon_days=horizon_days,
                scored_through=read_to,
                outcomes_through=[ends.get(q, 0) for q in range(max(ends, default=-1) + 1)],
            )
            outputs.append(
                Output(
                    self.settings.topic_label_cutoffs,
                    str(partition).encode(),
                    record.model_dump_json().encode(),
                )
            )
        return outputs

    def _offsets(self, partition: int) -> dict[str, int]:
        s = self.settings
        return {
            topic: self._positions[(topic, partition)]
            for topic in (s.topic_scored, s.topic_prices)
            if (topic, partition) in self._positions
        }

    def _inputs(self, partitions: set[int]) -> list[TopicPartition]:
        """The input offsets to commit for ``partitions`` (those their state reflects)."""
        return [
            TopicPartition(topic, partition, offset)
            for partition in partitions
            for topic, offset in self._offsets(partition).items()
        ]

    def _deliver(
        self,
        consumer: Consumer,
        outputs: list[Output],
        offsets: list[TopicPartition],
        state: Sequence[Output] = (),
    ) -> dict[tuple[str, int], int]:
        """Outputs acknowledged, then ``state`` (changelog records), then the input offsets
        committed: one Kafka transaction in transactional mode (all visible to read_committed
        readers, or none), else through the commit queue, drained at once (produce, wait,
        produce the state, wait, commit). Returns the offset after the last output
        acknowledged, per partition of the outputs."""
        assert self._producer is not None and self.commits is not None
        if self.transactional:
            metadata = consumer.consumer_group_metadata()
            return deliver_in_transaction(
                self._producer, [*outputs, *state], offsets, metadata, _FLUSH_TIMEOUT_S
            )
        delivery = self.commits.send(outputs, offsets, after_ack=state)
        self.commits.drain()
        return delivery.ends

    def _report(self, counts: dict[str, int], outcomes: list[Outcome]) -> None:
        for topic, count in counts.items():
            self.metrics.records_in.labels(topic).inc(count)
        for outcome in outcomes:
            self.metrics.outcomes.labels(outcome.status).inc()
        late = sum(lab.late_ticks for lab in self._labelers.values())
        duplicates = sum(lab.duplicates for lab in self._labelers.values())
        self.metrics.late_ticks.inc(max(late - self._counted[0], 0))
        self.metrics.duplicates.inc(max(duplicates - self._counted[1], 0))
        self._counted = (late, duplicates)
        self.metrics.open_signals.set(sum(lab.open_signals for lab in self._labelers.values()))
        if counts or outcomes:
            log.info("batch_joined", signals=counts.get(self.settings.topic_scored, 0),
                     ticks=counts.get(self.settings.topic_prices, 0), outcomes=len(outcomes),
                     watermark=_iso(self._watermark))  # fmt: skip

    # --- event-time alignment of the two inputs -------------------------------------------

    def _member_watermark(self) -> float:
        """The event time every price partition this member reads has reached.

        The lowest stream time over its prices partitions, so a partition read ahead of another
        (a replay, a backlog, a feed publishing partitions unevenly) never resolves the other's
        signals early. A partition read to its end with no tick for
        ``ROOSTR_OUTCOME_IDLE_PARTITION_S`` (since its assignment, if it never had one) is idle and
        does not hold the watermark back (the one use of the clock: it decides when to stop
        waiting, never what a label says); with every partition idle, all was read and the newest
        stream time is the watermark.
        """
        idle_after = self.settings.outcome_idle_partition_s
        now = time.monotonic()
        active, every = [], []
        for partition, labeler in self._labelers.items():
            every.append(labeler.stream_time)
            idle = self._at_end.get((self.settings.topic_prices, partition), False) and (
                now - self._last_tick_read[partition] >= idle_after
            )
            if not idle:
                active.append(labeler.stream_time)
        if active:
            return min(active)
        return max(every, default=-math.inf)

    def _align(self, consumer: Consumer) -> None:
        """Pause the input of a pair that runs over half the lookback ahead of the other."""
        s = self.settings
        ahead_limit = self.rules.lookback.total_seconds() / 2
        to_pause, to_resume = [], []
        for partition, labeler in self._labelers.items():
            scored, prices = (s.topic_scored, partition), (s.topic_prices, partition)
            signal_time = self._signal_time.get(partition, -math.inf)
            wanted = set()
            if labeler.stream_time > signal_time + ahead_limit and not self._at_end.get(scored):
                wanted.add(prices)
            elif signal_time > labeler.stream_time + ahead_limit and not self._at_end.get(prices):
                wanted.add(scored)
            for where in (scored, prices):
                if where in wanted and where not in self._paused:
                    to_pause.append(where)
                elif where not in wanted and where in self._paused:
                    to_resume.append(where)
        if to_pause:
            consumer.pause([TopicPartition(t, p) for t, p in to_pause])
            self._paused.update(to_pause)
        if to_resume:
            consumer.resume([TopicPartition(t, p) for t, p in to_resume])
            self._paused.difference_update(to_resume)

    # --- rebalances and state --------------------------------------------------------------

    def restore(self, consumer: Consumer, partitions: list[Partition]) -> dict[Partition, int]:
        """Each new pair's state, and where its inputs resume (the offsets that state reflects)."""
        s = self.settings
        started = time.perf_counter()
        restored = restore_partitions(s, s.topic_joiner_state, {p for _t, p in partitions})
        starts: dict[Partition, int] = {}
        for partition, state in sorted(restored.items()):
            self._last_tick_read[partition] = time.monotonic()
            self._labelers[partition] = PartitionLabeler(
                self.rules, LabelerState.from_entries(state.entries)
            )
            self._logs[partition] = PartitionLog(s.topic_joiner_state, partition)
            for topic, offset in (state.offsets or {}).items():
                if (topic, partition) in partitions:
                    starts[(topic, partition)] = self._positions[(topic, partition)] = offset
            log.info("joiner_state_restored", partition=partition, entries=len(state.entries),
                     records_read=state.records_read,
                     open_signals=self._labelers[partition].open_signals,
                     ms=round((time.perf_counter() - started) * 1000, 1))  # fmt: skip
        self._seed_outcome_ends()
        return starts

    def forget(self, partitions: set[Partition]) -> None:
        """Drop the pairs' state (their changelog has it)."""
        for topic, partition in partitions:
            self._labelers.pop(partition, None)
            self._logs.pop(partition, None)
            self._signal_time.pop(partition, None)
            self._published.pop(partition, None)
            self._last_tick_read.pop(partition, None)
            self._positions.pop((topic, partition), None)
            self._at_end.pop((topic, partition), None)
            self._paused.discard((topic, partition))

    def revoked(self, partitions: set[Partition]) -> None:
        """Nothing is in flight between batches: the pairs' state goes."""
        if self.commits is not None:
            self.commits.release(partitions)
        self.forget(partitions)


def _iso(seconds: float) -> str | None:
    return datetime.fromtimestamp(seconds, UTC).isoformat() if math.isfinite(seconds) else None
