"""The scoring consumer: one member of the ``signals.raw`` → ``signals.scored`` group.

``ScoringService`` owns the whole lifecycle (group membership, rebalances, feature-state restore,
model hot reload, delivery, commits, shutdown, health); the batch steps are the plain functions
in ``consumer.pipeline``. Run the process N times to scale out: partitions (keyed by ticker)
spread over the members.
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Protocol

from confluent_kafka import (
    Consumer,
    KafkaError,
    Message,
    Producer,
    TopicPartition,
)
from pydantic import ValidationError

from consumer.commit_queue import CommitQueue
from consumer.feature_state import FeatureState, TickerStore
from consumer.group_frontier import GroupFrontier
from consumer.metrics import ServiceMetrics
from consumer.model_watch import ModelSource, ModelWatcher
from consumer.pipeline import BatchScorer, ScoredBatch, next_offsets, score_batch
from consumer.runtime import GroupSpec, MemberRuntime, Partition, RuntimeControl
from consumer.track_records import OutcomeFeed
from roostr.contracts import LabelCutoff, Mode, ModelUpdate, Outcome
from roostr.delivery import (
    Committed,
    DeliveryFailed,
    Output,
    TransactionAborted,
    deliver_in_transaction,
)
from roostr.kafka import (
    coordinates,
    log_refused_commits,
    make_producer,
    make_transactional_producer,
    max_payload_bytes,
)
from roostr.logs import get_logger
from roostr.settings import Settings
from roostr.topic_reader import TopicTail, fetch_batch

if TYPE_CHECKING:  # kept out of start-up: it imports xgboost
    from roostr.model import ConvictionModel

__all__ = [
    "FeatureStore",
    "ScorerFactory",
    "ScoringService",
    "default_scorer_factory",
]

log = get_logger("roostr.consumer")


class FeatureStore(TickerStore, Protocol):
    """What the service needs of the FeatureExtractor: the feature state's seam, plus the
    outcomes that build the per-source / per-author track records."""

    def record_outcome(self, outcome: Outcome) -> bool: ...


class ScorerFactory(Protocol):
    """(model or None, mode) → (scorer, its feature extractor)."""

    def __call__(
        self, model: ConvictionModel | None, mode: Mode, /
    ) -> tuple[BatchScorer, FeatureStore]: ...


_FLUSH_TIMEOUT_S = 60.0
_LAG_EVERY_S = 5.0


def default_scorer_factory(
    model: ConvictionModel | None, mode: Mode
) -> tuple[BatchScorer, FeatureStore]:
    """The shared Scorer over a fresh FeatureExtractor (imports kept out of CLI start-up)."""
    from roostr.features import FeatureExtractor
    from roostr.scoring import Scorer

    extractor = FeatureExtractor()
    scorer = Scorer(extractor=extractor, model=model, mode=mode, rule_set="green_flags_v1")
    return scorer, extractor


class ScoringService(RuntimeControl):
    """Consume → decode → score → produce → commit, until ``stop()``.

    Feature state is per partition (``consumer.feature_state``): on assignment the new
    partitions' snapshots are loaded and only their tails replayed, so a restarted or rebalanced
    member computes the same per-ticker features as the previous owner; a revocation drops only
    the revoked partitions' tickers. Per-ticker state depends on that ticker's signals only;
    track records (per source / author) are built from every outcome, on every member (see
    consumer/README.md).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        scorer_factory: ScorerFactory = default_scorer_factory,
        registry: ModelSource | None = None,
        model_check_interval_s: float = 3.0,
        transactional: bool = False,
    ) -> None:
        self.settings = settings
        self.transactional = transactional
        self.metrics = ServiceMetrics()
        self.mode: Mode = settings.mode
        self._factory = scorer_factory
        if registry is None:
            from roostr.registry import ModelRegistry

            registry = ModelRegistry(settings.registry_dir)
        self.models = ModelWatcher(
            registry,
            check_interval_s=model_check_interval_s,
            on_failure=lambda _error: self.metrics.model_load_failures.inc(),
        )
        self.state = FeatureState(settings)
        self._next_lag = 0.0
        self.commits: CommitQueue | None = None  # batches produced, not yet committed
        self._carried: list[Message] = []  # fetched, left for the next batch (track records)
        self._producer: Producer | None = None
        self.runtime = MemberRuntime(
            settings,
            self,
            GroupSpec(
                name="consumer",
                state="feature_state",
                group=settings.group_scoring,
                topics=[settings.topic_raw],
                lag_topic=settings.topic_raw,
                http_port=settings.http_port,
                consumer_config={},
            ),
            self.metrics.registry,
            self.metrics.member,
            on_commit=self._on_commit,
        )

    # --- the member's steps (``consumer.runtime.Member``) --------------------------------------

    def start(self, consumer: Consumer) -> int:
        """Load the model and read the control topics while the group join goes on."""
        s = self.settings
        self.models.refresh(force=True)
        self.scorer, self.extractor = self._factory(self.models.model, self.mode)
        self._use_models()
        self._updates: TopicTail = TopicTail(s, s.topic_model_updates)
        self.outcomes: OutcomeFeed = OutcomeFeed(
            s, self.extractor.record_outcome, self._while_held, lambda: self.runtime.stopping
        )
        self._frontier = GroupFrontier(s)
        heartbeat = self.runtime.heartbeat
        self._apply_updates(self._updates.catch_up(heartbeat=heartbeat), replaying=True)
        self.outcomes.catch_up()
        self.metrics.track_records_held.set_function(lambda: self.outcomes.held)
        self._producer = self._make_producer()
        log.info("consumer_started", group=s.group_scoring, topic=s.topic_raw, mode=self.mode)
        _settle_heap()
        return 0

    def joined(self, consumer: Consumer) -> None:
        """Commits go through this consumer from now on."""
        assert self._producer is not None
        s = self.settings
        self.commits = CommitQueue(
            consumer,
            self._producer,
            max_records=s.batch_size,
            commit_interval_s=s.commit_interval_ms / 1000,
            timeout_s=_FLUSH_TIMEOUT_S,
            on_refused=self.metrics.commit_failures.inc,
        )

    def step(self, consumer: Consumer) -> None:
        """Control inputs, then one batch of the partitions whose state is restored."""
        assert self.commits is not None
        s = self.settings
        self._maintain(consumer)
        wait_s = self.commits.fetch_wait(s.batch_wait_ms / 1000)
        # records a batch left for later (their track records were not final) go first
        fetched = fetch_batch(consumer, s.batch_size, wait_s, "scoring", self.runtime.at_end)
        messages = self.runtime.take([*self._carried, *fetched])
        self._carried = []
        if messages:
            self._process(consumer, messages)
        self.commits.poll()

    def finish(self) -> None:
        if self.commits is not None:
            self.commits.drain()

    def delivery_failed(self, error: DeliveryFailed) -> None:
        # Dropped, so leaving the group (close → revocation) commits nothing either: the
        # failed batch would raise again there, and what follows it was never delivered.
        self.metrics.delivery_failures.inc()
        self.commits = None

    def close(self) -> None:
        if self._producer is not None:  # made last in ``start``: everything else is open
            self._producer.flush(10)
            self._updates.close()
            self.outcomes.close()
            self._frontier.close()

    def _make_producer(self) -> Producer:
        on_error = self.runtime.broker.on_error
        if self.transactional:
            return make_transactional_producer(
                self.settings, self.settings.group_scoring, error_cb=on_error
            )
        return make_producer(self.settings, error_cb=on_error)

    # --- one batch -------------------------------------------------------------------------------

    def _process(self, consumer: Consumer, messages: list[Message]) -> None:
        """Score one batch and hand its outputs to the producer; the commit follows its acks.

        1. Score every input record into exactly one output (scored record or DeadLetter), and
           take the feature-state snapshots due after it (they reflect this batch exactly).
        2. Send the outputs and queue the offsets (``consumer.commit_queue``): they are
           committed in read order once every output of this batch and of the batches before it
           was acknowledged, after the snapshots were delivered. The loop goes on fetching and
           scoring meanwhile; the queue is drained before a revocation and before a stop.
        If an output failed, DeliveryFailed is raised: nothing of that batch (nor of any later
        one) is committed, the process exits non-zero, and a restart replays from the last
        commit (at-least-once; replayed outputs are identical apart from ``scored_at``).
        In transactional mode outputs and offsets are one Kafka transaction per batch
        (``deliver_in_transaction``), nothing overlaps; a transaction aborted for a rebalance is
        read again (``_rewind``).
        """
        started = time.perf_counter()
        batch = score_batch(
            messages,
            self.scorer,
            scored_topic=self.settings.topic_scored,
            dlq_topic=self.settings.topic_dlq,
            max_bytes=self.settings.max_message_bytes,
            max_payload_bytes=max_payload_bytes(self.settings),
            now=datetime.now(UTC),
            ready=partial(
                self.outcomes.ready,
                unread=partial(self.runtime.unread, consumer, self.settings.topic_raw),
                elsewhere=partial(self._pending_elsewhere, consumer),
            ),
        )
        self._carried = batch.rest
        if batch.rest:
            left = {id(m) for m in batch.rest}
            messages = [m for m in messages if id(m) not in left]
            if not messages:
                return  # the member's unread partitions come first (``OutcomeFeed.ready``)
        offsets = next_offsets(messages)
        self._record_tickers(messages, batch.outputs)
        snapshots = self.state.snapshots_due(self.extractor, offsets)
        if self.transactional:
            assert self._producer is not None
            try:
                ends = deliver_in_transaction(
                    self._producer, batch.outputs + snapshots, offsets,
                    consumer.consumer_group_metadata(), _FLUSH_TIMEOUT_S,
                )  # fmt: skip
            except TransactionAborted as exc:
                self._rewind(offsets, exc)
                return
            self.outcomes.delivered(batch.signals, Committed(ends))
            self._report(messages, batch, offsets, started)
            return
        assert self.commits is not None
        delivery = self.commits.send(
            batch.outputs,
            offsets,
            after_ack=snapshots,
            on_done=partial(self._report, messages, batch, offsets, started),
        )
        self.outcomes.delivered(batch.signals, delivery)

    def _while_held(self) -> None:
        """A batch held for its track records: the member is alive, and the batches before it
        are acknowledged and committed meanwhile (another member may wait for those commits)."""
        self.runtime.heartbeat()
        if self.commits is not None:
            self.commits.poll()

    def _pending_elsewhere(
        self, consumer: Consumer, claims: Mapping[int, LabelCutoff]
    ) -> datetime | None:
        """The other members' earliest signal the joiner may not have read yet."""
        raw = self.settings.topic_raw
        held = {p for t, p in self.runtime.assigned if t == raw}
        return self._frontier.earliest(consumer, held, claims)

    def _rewind(self, offsets: list[TopicPartition], error: TransactionAborted) -> None:
        """Read an aborted transaction's batch again, on the state it was first scored on.

        Nothing of the batch is visible or committed, but the feature state observed it: its
        partitions' state is dropped and restored (snapshot and tail up to the committed offset)
        before their next fetch, which seeks back to that offset (``consumer.runtime``).
        """
        partitions = self.runtime.restore_again((tp.topic, tp.partition) for tp in offsets)
        self._carried = [m for m in self._carried if (m.topic(), m.partition()) not in partitions]
        log.warning(
            "transaction_aborted",
            partitions=sorted(p for _t, p in partitions),
            error=str(error)[:300],
            action="restore the partitions' state, read the batch again",
        )

    def _on_commit(self, error: KafkaError | None, partitions: list[TopicPartition]) -> None:
        """The consumer's callback for the asynchronous commits (``consumer.commit_queue``)."""
        if self.commits is not None:
            self.commits.settle(error, partitions)
        elif refused := log_refused_commits(error, partitions):  # after the loop stopped
            self.metrics.commit_failures.inc(len(refused))

    def _report(
        self,
        messages: list[Message],
        batch: ScoredBatch,
        offsets: list[TopicPartition],
        started: float,
    ) -> None:
        """Metrics and the ``batch_scored`` event of a batch whose outputs were acknowledged."""
        acked_at_ms = time.time() * 1000
        seconds = time.perf_counter() - started
        degraded = sum(1 for s in batch.scored if s["degraded"])
        dead = Counter(letter.error_kind for letter in batch.dead)
        self.metrics.batch(
            consumed=len(messages),
            tiers=(s["tier"] for s in batch.scored),
            degraded=degraded,
            dead_lettered=dead,
            seconds=seconds,
            ages_s=((acked_at_ms - m.timestamp()[1]) / 1000 for m in messages),
        )
        log.info(
            "batch_scored",
            consumed=len(messages),
            scored=len(batch.scored),
            dead_lettered=len(batch.dead),
            degraded=degraded,
            partitions=len(offsets),
            model_version=self.models.version,
            ms=round(seconds * 1000, 2),
        )

    # --- between batches ---------------------------------------------------------------------

    def _maintain(self, consumer: Consumer) -> None:
        """Control inputs and housekeeping, always between batches (a swap never splits one)."""
        self._apply_updates(self._updates.poll(0))
        if self.models.refresh():
            self._use_models()
        self.outcomes.poll()
        self.metrics.track_records_unsettled.set(self.outcomes.unsettled)
        # Cut off from the brokers the lag cannot be read (the outage is reported already).
        if time.monotonic() >= self._next_lag and not self.runtime.broker.down:
            self._next_lag = time.monotonic() + _LAG_EVERY_S
            self._record_lag(consumer)

    def _apply_updates(self, messages: Sequence[Message], replaying: bool = False) -> None:
        """A ModelUpdate asks for a champion check now; its ``mode``, if set, switches mode.

        At start-up the topic's history is replayed for the latest mode only (the registry,
        already loaded, is the truth about the model).
        """
        for message in messages:
            try:
                update = ModelUpdate.model_validate_json(message.value() or b"")
            except ValidationError as exc:
                log.warning("model_update_ignored", offset=message.offset(), error=str(exc)[:200])
                continue
            if update.mode is not None and update.mode != self.mode:
                self.mode = update.mode
                self.scorer.set_mode(update.mode)
                log.info("mode_switched", mode=update.mode, replayed=replaying)
            if not replaying and self.models.refresh(force=True):
                self._use_models()
            self._publish_model_metrics()

    def _use_models(self) -> None:
        """Hand the watcher's champion and shadow to the scorer (between batches only)."""
        self.scorer.set_model(self.models.model)
        self.scorer.set_shadow(self.models.shadow)
        self._publish_model_metrics()

    def _publish_model_metrics(self) -> None:
        self.metrics.model_in_use(
            self.models.version, self.mode, self.models.error, self.models.shadow_version
        )

    def _record_lag(self, consumer: Consumer) -> None:
        assigned = [TopicPartition(t, p) for t, p in sorted(self.runtime.assigned)]
        if not assigned:
            return
        for tp in consumer.position(assigned):
            _low, high = consumer.get_watermark_offsets(tp, cached=True) or (0, 0)
            if tp.offset >= 0 and high >= 0:
                self.metrics.lag.labels(tp.topic, str(tp.partition)).set(max(high - tp.offset, 0))

    # --- rebalances and feature state (``consumer.runtime``) -----------------------------------

    def restore(self, consumer: Consumer, partitions: list[Partition]) -> dict[Partition, int]:
        """The partitions' feature state (snapshot, then the tail up to the committed offset);
        each resumes at the committed offset, or at the snapshot's when it is ahead."""
        topic = self.settings.topic_raw
        numbers = [p for _t, p in partitions]
        starts = self.state.restore(self.extractor, consumer, numbers, self.runtime.heartbeat)
        _settle_heap()
        return {(topic, partition): offset for partition, offset in starts.items()}

    def forget(self, partitions: set[Partition]) -> None:
        self.state.forget(self.extractor, [p for _t, p in partitions])
        self.outcomes.forget(p for _t, p in partitions)

    def revoked(self, partitions: set[Partition]) -> None:
        """Commit what was sent (``_process``), then drop the partitions and their state."""
        if self.commits is not None:
            self.commits.release(partitions)
        # their next owner (or this member, reassigned) reads them again from the commit
        self._carried = [m for m in self._carried if (m.topic(), m.partition()) not in partitions]
        self.forget(partitions)
        self.metrics.forget_partitions(partitions)

    def _record_tickers(self, messages: list[Message], outputs: list[Output]) -> None:
        """Tell the feature state which tickers each partition's scored records moved."""
        scored = self.settings.topic_scored
        by_partition: dict[int, list[str]] = {}
        for message, output in zip(messages, outputs, strict=True):
            _topic, partition, _offset = coordinates(message)
            tickers = by_partition.setdefault(partition, [])
            if output.topic == scored and output.key is not None:
                tickers.append(output.key.decode())
        for partition, tickers in by_partition.items():
            self.state.scored(partition, tickers, len(tickers))


def _settle_heap() -> None:
    """Move what exists now (libraries, model, restored feature state) out of the collector's view.

    Full collections otherwise re-walk those ~150k long-lived objects again and again: measured
    at ~37 µs per scored signal (25 % of the hot path). Called only after start-up and restores.
    The cost: a frozen object that later dies inside a reference cycle is never reclaimed; what
    dies by reference count (nearly everything, including a replaced model's arrays) still is.
    """
    gc.collect()
    gc.freeze()
