"""The trading-bot side of ``signals.scored``: typed, deduplicated, filtered ScoredSignals.

Delivery is at-least-once, so a scored signal can arrive twice (a consumer restarted before its
commit); the reader passes each ``signal_id`` on once, remembering the last ``dedupe_capacity``
ids (bounded memory: a duplicate older than that window would pass again).
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Collection, Iterator
from types import TracebackType

from confluent_kafka import OFFSET_BEGINNING, TopicPartition
from pydantic import ValidationError

from consumer.pipeline import next_offsets
from roostr.contracts import ScoredSignal, Tier
from roostr.kafka import commit_offsets, make_consumer
from roostr.logs import get_logger
from roostr.settings import Settings
from roostr.topic_reader import usable

__all__ = ["RecentIds", "ScoredSignalReader"]

log = get_logger("roostr.bot_reader")


class RecentIds:
    """The last ``capacity`` ids seen, oldest evicted first."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def first_time(self, signal_id: str) -> bool:
        """True the first time an id is seen (within the window); remembers it."""
        if signal_id in self._ids:
            self._ids.move_to_end(signal_id)
            return False
        self._ids[signal_id] = None
        if len(self._ids) > self.capacity:
            self._ids.popitem(last=False)
        return True


class ScoredSignalReader:
    """Read scored signals, once each, optionally only some tiers or scores at or above a minimum.

    ``group_id=None`` reads every partition from the beginning without a group (a dashboard, a
    backtest); with a ``group_id`` the bots share the partitions, and the offsets of what one
    ``read`` returned are committed at the start of the next ``read`` (or on ``close``), i.e.
    after the bot has acted on them.
    """

    def __init__(
        self,
        settings: Settings,
        group_id: str | None = None,
        *,
        tiers: Collection[Tier] | None = None,
        min_score: int | None = None,
        dedupe_capacity: int = 100_000,
    ) -> None:
        self.topic = settings.topic_scored
        self.tiers = frozenset(tiers) if tiers is not None else None
        self.min_score = min_score
        self.invalid = 0
        self.commit_failures = 0
        self._seen = RecentIds(dedupe_capacity)
        self._grouped = group_id is not None
        self._pending_commit: list[TopicPartition] = []
        self._consumer = make_consumer(
            settings, group_id or f"roostr-bot-reader-{uuid.uuid4().hex[:8]}"
        )
        if self._grouped:
            self._consumer.subscribe([self.topic])
        else:
            partitions = self._consumer.list_topics(self.topic, timeout=10).topics[self.topic]
            self._consumer.assign(
                [TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in partitions.partitions]
            )

    def read(self, timeout_s: float = 1.0, max_records: int = 500) -> list[ScoredSignal]:
        """What arrived within ``timeout_s`` that passes the filters, each signal_id once."""
        self._commit_previous()
        wanted: list[ScoredSignal] = []
        messages = usable(self._consumer.consume(max_records, timeout_s), "bot-reader")
        for message in messages:
            try:
                signal = ScoredSignal.model_validate_json(message.value() or b"")
            except ValidationError as exc:
                self.invalid += 1
                log.warning(
                    "scored_signal_invalid",
                    partition=message.partition(),
                    offset=message.offset(),
                    error=str(exc)[:200],
                )
                continue
            if self._seen.first_time(signal.signal_id) and self._wanted(signal):
                wanted.append(signal)
        if self._grouped:
            self._pending_commit = next_offsets([m for m in messages if m.error() is None])
        return wanted

    def __iter__(self) -> Iterator[ScoredSignal]:
        """Forever: every wanted signal as it arrives."""
        while True:
            yield from self.read()

    def _wanted(self, signal: ScoredSignal) -> bool:
        if self.tiers is not None and signal.tier not in self.tiers:
            return False
        return self.min_score is None or signal.final_score >= self.min_score

    def _commit_previous(self) -> None:
        """A refused partition is logged and counted in ``commit_failures``, not raised: its next
        commit carries a later offset; until then a restart re-reads from the previous commit
        (at-least-once, as after a crash)."""
        if self._pending_commit:
            self.commit_failures += len(commit_offsets(self._consumer, self._pending_commit))
            self._pending_commit = []

    def close(self) -> None:
        self._commit_previous()
        self._consumer.close()

    def __enter__(self) -> ScoredSignalReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
