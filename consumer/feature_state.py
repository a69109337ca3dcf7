"""The scoring consumer's feature state per partition: snapshots in a changelog topic plus a
bounded tail replay of ``signals.raw``.

Keys are tickers, so a partition's tickers are its own, and their mention windows are a function
of that partition's records alone (``roostr.features.state``). Every so often (when the records
since a partition's last snapshot outnumber ``feature_snapshot_every`` and its live state) the
member writes a snapshot of the partition's tickers to partition *p* of the feature-state topic,
after the batch's outputs were acknowledged and before its offsets are committed, with the raw
offset it reflects. A member that is assigned a partition loads its last snapshot and replays
only the records between the snapshot and the committed offset: restore time follows the live
state and the snapshot interval, not the retained history. A snapshot ahead of the committed
offset (a crash between the two) means those records' outputs were delivered: the member starts
at the snapshot. Revoking a partition drops its tickers and nothing else.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from confluent_kafka import Consumer, Message, TopicPartition

from consumer.changelog import PartitionLog, restore_partitions
from roostr.contracts import RawSignal
from roostr.decoding import decode_signal
from roostr.delivery import Output
from roostr.kafka import coordinates
from roostr.logs import get_logger
from roostr.settings import Settings
from roostr.topic_reader import read_range

__all__ = ["FeatureState", "TickerStore"]

log = get_logger("roostr.consumer")


class TickerStore(Protocol):
    """What the state needs of the FeatureExtractor."""

    def observe(self, signals: Iterable[RawSignal]) -> None: ...
    def export_tickers(self, tickers: Iterable[str]) -> Iterable[tuple[str, Any]]: ...
    def load_tickers(self, entries: dict[str, Any]) -> list[str]: ...
    def forget_tickers(self, tickers: Iterable[str]) -> None: ...


class FeatureState:
    """Which tickers each held partition owns, when each is due a snapshot, and restores."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._tickers: dict[int, set[str]] = {}
        self._logs: dict[int, PartitionLog] = {}

    def restore(
        self, store: TickerStore, consumer: Consumer, partitions: Sequence[int],
        heartbeat: Callable[[], None],
    ) -> dict[int, int]:  # fmt: skip
        """Load the partitions' snapshots and replay their tails up to the committed offsets.

        Returns, per partition, the offset its scoring resumes at: the committed offset, or the
        snapshot's when it is ahead (its records before that were scored and delivered already).
        Raises TopicUnreadable when the changelog or a tail could not be read to its end, and
        KafkaException when the committed offsets could not be read: the caller then ``forget``s
        the partitions (part of their state may be loaded) and tries again later.
        """
        s = self.settings
        started = time.perf_counter()
        committed = {
            tp.partition: max(tp.offset, 0)
            for tp in consumer.committed([TopicPartition(s.topic_raw, p) for p in partitions], 30)
        }
        restored = restore_partitions(s, s.topic_feature_state, partitions)
        tails, starts = [], {}
        for partition in partitions:
            state = restored.get(partition)
            entries = state.entries if state is not None else {}
            self._tickers[partition] = set(store.load_tickers(entries))
            snapshot_at = (state.offsets or {}).get(s.topic_raw, 0) if state else 0
            tail = max(committed[partition] - snapshot_at, 0)
            # the replayed tail stays past the snapshot: the next restore would replay it again
            self._logs[partition] = PartitionLog(
                s.topic_feature_state, partition, s.feature_snapshot_every, tail, len(entries)
            )
            if tail:
                tails.append((partition, snapshot_at, committed[partition]))
            starts[partition] = max(snapshot_at, committed[partition])
        replayed = self._replay(store, tails, heartbeat)
        log.info(
            "feature_state_restored",
            partitions=list(partitions),
            tickers=sum(len(self._tickers[p]) for p in partitions),
            snapshot_entries=sum(self._logs[p].size for p in partitions),
            tail_records=replayed,
            ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return starts

    def _replay(
        self, store: TickerStore, tails: list[tuple[int, int, int]], heartbeat: Callable[[], None]
    ) -> int:
        """Observe the raw records between each snapshot and its committed offset."""
        topic, max_bytes = self.settings.topic_raw, self.settings.max_message_bytes

        def observe(messages: list[Message]) -> None:
            heartbeat()
            for message in messages:
                signal = decode_signal(message.value(), max_bytes)
                if isinstance(signal, RawSignal):
                    store.observe([signal])
                    _topic, partition, _offset = coordinates(message)
                    self._tickers[partition].add(signal.ticker)

        return read_range(
            self.settings,
            {(topic, p): end for p, _start, end in tails},
            observe,
            purpose="replay",
            starts={(topic, p): start for p, start, _end in tails},
        )

    def scored(self, partition: int, tickers: Iterable[str], count: int) -> None:
        """A batch's records of ``partition`` were scored (their tickers' state moved)."""
        self._tickers[partition].update(tickers)
        self._logs[partition].count(count)

    def snapshots_due(self, store: TickerStore, offsets: Iterable[TopicPartition]) -> list[Output]:
        """Snapshot records of the partitions due one, at the batch's next offsets."""
        outputs: list[Output] = []
        for tp in offsets:
            log = self._logs[tp.partition]
            if log.snapshot_due():
                entries = store.export_tickers(sorted(self._tickers[tp.partition]))
                outputs += log.snapshot(entries, {tp.topic: tp.offset})
        return outputs

    def forget(self, store: TickerStore, partitions: Iterable[int]) -> None:
        """Drop revoked partitions' tickers (their next owner restores them)."""
        for partition in partitions:
            store.forget_tickers(self._tickers.pop(partition, set()))
            self._logs.pop(partition, None)
