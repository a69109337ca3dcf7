"""Read what a backtest needs from the topics: the raw signals, ``signals.outcomes`` and
``prices``, each from its beginning to its end as of the start of the read
(``training.topic_snapshot``: assigned, never joined to a group, never committed, so the live
group's offsets and ``signals.scored`` are never touched; nothing is produced).

Records are picked by event time on the client (``posted_at`` before the range's end), never by
an offset-for-time lookup. Everything is put in an order that does not depend on how the
partitions' fetches interleaved: signals by (posted_at, signal_id, partition, offset), the first
copy of a signal_id kept; ticks by (ticker, ts, partition, offset).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

import numpy as np
from confluent_kafka import Message
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from consumer.decoding import Rejection, decode_signal
from roostr.contracts import RawSignal
from roostr.kafka import coordinates
from roostr.logs import get_logger
from roostr.settings import Settings
from training.backtest.engine import BacktestInputs
from training.backtest.tick_columns import TickColumns, decode_ticks
from training.outcomes_topic import read_outcomes
from training.topic_snapshot import TopicUnreadable, read_to_end

__all__ = ["read_inputs", "read_signals"]

log = get_logger(__name__)

READ_TIMEOUT_S = 1800.0
ProgressFactory = Callable[[str], Callable[[int, int], None]]


def read_inputs(
    settings: Settings, topic: str, end: datetime, show_progress: bool = True
) -> BacktestInputs:
    """The three topics' contents; raises TopicUnreadable when the raw topic is missing (the
    outcomes and prices topics may be: labels then come from the other one, or are absent)."""
    with _progress_bars(show_progress) as bar:
        signals, counts = read_signals(settings, topic, end, bar(topic))
        try:
            outcomes, counts["invalid_outcomes"] = read_outcomes(
                settings, READ_TIMEOUT_S, bar(settings.topic_outcomes)
            )
        except TopicUnreadable as exc:
            log.warning("outcomes_unreadable", error=str(exc))
            outcomes = []
        ticks, counts["invalid_ticks"] = _read_ticks(settings, bar(settings.topic_prices))
    return BacktestInputs(signals, outcomes, ticks, counts)


def read_signals(
    settings: Settings,
    topic: str,
    end: datetime,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[RawSignal], dict[str, int]]:
    """The raw topic's signals posted before ``end`` (event-time order, first copy of an id) and
    counts of what was left out."""
    counts = {"read": 0, "dead_lettered": 0, "after_range": 0, "duplicates": 0}
    found: list[tuple[RawSignal, int, int]] = []

    def keep(message: Message) -> None:
        counts["read"] += 1
        signal = decode_signal(message.value(), settings.max_message_bytes)
        if isinstance(signal, Rejection):
            counts["dead_lettered"] += 1  # what the live consumer would dead-letter
        elif signal.posted_at >= end:
            counts["after_range"] += 1
        else:
            _topic, partition, offset = coordinates(message)
            found.append((signal, partition, offset))

    read_to_end(
        settings, topic, keep, purpose="backtest", timeout_s=READ_TIMEOUT_S, progress=progress
    )
    found.sort(key=lambda f: (f[0].posted_at, f[0].signal_id, f[1], f[2]))
    signals: list[RawSignal] = []
    seen: set[str] = set()
    for signal, _partition, _offset in found:
        if signal.signal_id in seen:
            counts["duplicates"] += 1
        else:
            seen.add(signal.signal_id)
            signals.append(signal)
    return signals, counts


def _read_ticks(
    settings: Settings, progress: Callable[[int, int], None]
) -> tuple[TickColumns, int]:
    """Every valid tick (decoded in bulk, ``training.backtest.tick_columns``) and how many the
    contract refuses; ticks of one ticker and instant keep their (partition, offset) order."""
    values: list[bytes | None] = []
    positions: list[tuple[int, int]] = []

    def keep(message: Message) -> None:
        _topic, partition, offset = coordinates(message)
        values.append(message.value())
        positions.append((partition, offset))

    try:
        read_to_end(
            settings, settings.topic_prices, keep, purpose="backtest-prices",
            timeout_s=READ_TIMEOUT_S, progress=progress,
        )  # fmt: skip
    except TopicUnreadable as exc:
        log.warning("prices_unreadable", error=str(exc))
        return TickColumns.from_ticks([]), 0
    where = np.array(positions, dtype=np.int64).reshape(-1, 2)
    rank = np.empty(len(values), dtype=np.int64)
    rank[np.lexsort((where[:, 1], where[:, 0]))] = np.arange(len(values))
    return decode_ticks(values, rank)


@contextmanager
def _progress_bars(enabled: bool) -> Iterator[ProgressFactory]:
    """One bar per topic on stderr (stdout may carry the JSON summary)."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), disable=not enabled) as progress:

        def bar(topic: str) -> Callable[[int, int], None]:
            task = progress.add_task(f"replaying {topic}", total=None)
            return lambda done, total: progress.update(task, completed=done, total=total)

        yield bar
