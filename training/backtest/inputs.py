"""Read what a backtest needs from the topics: the raw signals, ``signals.outcomes`` and
``prices``, each from its beginning to its end as of the start of the read
(``roostr.topic_reader``: assigned, never joined to a group, never committed, so the live
group's offsets and ``signals.scored`` are never touched; nothing is produced).

Records are picked by event time on the client (``posted_at`` before the range's end), never by
an offset-for-time lookup. Everything is put in an order that does not depend on how the
partitions' fetches interleaved: signals by (posted_at, signal_id, partition, offset), the first
copy of a signal_id kept; outcomes by (partition, offset); ticks by (ticker, ts, partition,
offset).

The three topics are read at once, each by its own reader in a thread: a read mostly waits on the
broker (librdkafka fetches outside the GIL), so the waits overlap instead of adding up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from roostr.contracts import Outcome
from roostr.logs import get_logger
from roostr.settings import Settings
from roostr.topic_reader import Progress as ReadProgress
from roostr.topic_reader import TopicUnreadable
from training.backtest.replay_signals import SIGNAL_ROWS, ReplaySignals, signal_rows
from training.backtest.tick_columns import TICK_ROWS, TickColumns, tick_rows
from training.backtest.topic_cache import RAW, Decoder, offset_order, read_decoded

__all__ = ["BacktestInputs", "read_inputs", "read_signals"]

log = get_logger(__name__)

ProgressFactory = Callable[[str], Callable[[int, int], None]]
_TICKS = Decoder(TICK_ROWS, tick_rows)
_SIGNALS = Decoder(SIGNAL_ROWS, signal_rows)


@dataclass
class BacktestInputs:
    """The topics' contents: signals posted before the end (decoded, deduped, in event-time
    order), outcomes in read order, every valid price tick as columns, and counts of what was
    left out."""

    signals: ReplaySignals
    outcomes: list[Outcome]
    ticks: TickColumns
    counts: dict[str, int] = field(default_factory=dict)


def read_inputs(
    settings: Settings,
    topic: str,
    end: datetime,
    show_progress: bool = True,
    cache: Path | None = None,
) -> BacktestInputs:
    """The three topics' contents (from ``cache`` plus what was appended, when given: see
    ``training.backtest.topic_cache``); raises TopicUnreadable when the raw topic is missing
    (the outcomes and prices topics may be: labels then come from the other one, or are
    absent)."""
    with _progress_bars(show_progress) as bar, ThreadPoolExecutor(3) as pool:
        reading_signals = pool.submit(read_signals, settings, topic, end, bar(topic), cache)
        reading_outcomes = pool.submit(
            _read_outcomes, settings, bar(settings.topic_outcomes), cache
        )
        reading_ticks = pool.submit(_read_ticks, settings, bar(settings.topic_prices), cache)
        signals, counts = reading_signals.result()
        try:
            outcomes, counts["invalid_outcomes"] = reading_outcomes.result()
        except TopicUnreadable as exc:
            log.warning("outcomes_unreadable", error=str(exc))
            outcomes = []
        ticks, counts["invalid_ticks"] = reading_ticks.result()
    return BacktestInputs(signals, outcomes, ticks, counts)


def read_signals(
    settings: Settings,
    topic: str,
    end: datetime,
    progress: ReadProgress | None = None,
    cache: Path | None = None,
) -> tuple[ReplaySignals, dict[str, int]]:
    """The raw topic's signals posted before ``end`` (event-time order, first copy of an id;
    ``training.backtest.replay_signals``) and counts of what was left out."""
    rows = read_decoded(
        settings, topic, _SIGNALS, purpose="backtest", progress=progress,
        cache=cache,
    )  # fmt: skip
    return ReplaySignals.from_rows(rows, end, settings.max_message_bytes)


def _read_outcomes(
    settings: Settings, progress: ReadProgress, cache: Path | None
) -> tuple[list[Outcome], int]:
    """Every valid Outcome in (partition, offset) order, and how many records were not one."""
    records = read_decoded(
        settings, settings.topic_outcomes, RAW, purpose="backtest-outcomes",
        progress=progress, cache=cache,
    )  # fmt: skip
    outcomes, invalid = [], 0
    for _partition, _offset, value in _rows(records):
        try:
            outcomes.append(Outcome.model_validate_json(value or b""))
        except ValidationError:
            invalid += 1
    return outcomes, invalid


def _read_ticks(
    settings: Settings, progress: ReadProgress, cache: Path | None
) -> tuple[TickColumns, int]:
    """Every valid tick (decoded in bulk, ``training.backtest.tick_columns``; the decoded rows
    are what the cache keeps) and how many the contract refuses; ticks of one ticker and
    instant keep their (partition, offset) order, which is the rows' order here."""
    try:
        rows = read_decoded(
            settings, settings.topic_prices, _TICKS, purpose="backtest-prices",
            progress=progress, cache=cache,
        )  # fmt: skip
    except TopicUnreadable as exc:
        log.warning("prices_unreadable", error=str(exc))
        return TickColumns.from_ticks([]), 0
    rank = np.empty(rows.num_rows, dtype=np.int64)
    rank[offset_order(rows)] = np.arange(rows.num_rows)
    return TickColumns.from_rows(rows, rank), rows["ticker"].null_count


def _rows(records: pa.Table) -> Iterator[tuple[int, int, bytes | None]]:
    """(partition, offset, value) of each raw record, in (partition, offset) order."""
    names = ("partition", "offset", "value")
    partition, offset, value = (records[name].to_pylist() for name in names)
    return ((partition[i], offset[i], value[i]) for i in offset_order(records).tolist())


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
