"""What the board knows, in memory and bounded: the latest scored signals, the outcomes, the
price paths, the joiner's label cutoff and the latest model announcement.

Fed by one reader thread (``board.follower``) and read by the web handlers; one lock guards it.
Every bound drops the oldest first, so memory stays flat however long the board runs:

- ``max_signals`` scored signals, each kept as its feed row plus its record's bytes (parsed again
  only when its detail is opened), in arrival order; a duplicate (at-least-once delivery) keeps
  the first copy;
- ``max_calls`` calls (who called which ticker when, with its outcome once labelled), what the
  leaderboard and the model panel count; outcomes are kept without their feature vectors;
- ``max_ticks`` price ticks per ticker.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from board.leaderboard import Call
from roostr.contracts import LabelCutoff, ModelUpdate, Outcome, PriceTick, ScoredSignal
from roostr.cutoffs import LabelCutoffs
from roostr.settings import Settings

__all__ = ["TIERS", "BoardStore", "FeedFilter", "FeedRow"]

TIERS = ("avoid", "low", "medium", "high")
"""Lowest to highest: "tier at least" keeps a tier and every one after it."""


@dataclass(frozen=True, slots=True)
class FeedRow:
    """One scored signal as the live feed shows it."""

    seq: int
    signal_id: str
    posted_at: str  # UTC, to the minute
    ticker: str
    source: str
    channel: str | None
    author: str | None
    final_score: int
    tier: str
    probability: float | None
    mode: str
    model_version: str | None
    shadow_score: int | None

    def as_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True)
class FeedFilter:
    """The page's filters: tier at least, exact source and author, ticker substring."""

    tier: str = ""
    source: str = ""
    author: str = ""
    ticker: str = ""

    def keeps(self, row: FeedRow) -> bool:
        if self.tier in TIERS and TIERS.index(row.tier) < TIERS.index(self.tier):
            return False
        if self.source and row.source != self.source:
            return False
        if self.author and row.author != self.author:
            return False
        return not self.ticker or self.ticker.upper() in row.ticker.upper()


class BoardStore:
    """Bounded state of the four topics; safe to read from any thread."""

    def __init__(
        self,
        settings: Settings,
        max_signals: int = 20_000,
        max_calls: int = 200_000,
        max_ticks: int = 2_000,
    ) -> None:
        self.settings = settings
        self.max_signals, self.max_calls, self.max_ticks = max_signals, max_calls, max_ticks
        self._lock = threading.Lock()
        self._seq = 0
        self._signals: OrderedDict[str, tuple[FeedRow, bytes]] = OrderedDict()
        self._calls: OrderedDict[str, Call] = OrderedDict()
        self._prices: dict[str, deque[tuple[datetime, float]]] = {}
        self._cutoffs = LabelCutoffs()
        self.announced_mode: str | None = None  # the latest mode switch on models.updates
        self.invalid = 0
        self.read = 0
        self._handlers = {
            settings.topic_scored: self._scored,
            settings.topic_outcomes: self._outcome,
            settings.topic_prices: self._tick,
            settings.topic_model_updates: self._update,
            settings.topic_label_cutoffs: self._cutoff,
        }

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(self._handlers)

    def ingest(self, records: Iterable[tuple[str, bytes]]) -> None:
        """(topic, value) pairs in offset order per partition; invalid records are counted."""
        with self._lock:
            for topic, value in records:
                self.read += 1
                try:
                    self._handlers[topic](value)
                except ValidationError:
                    self.invalid += 1

    # --- readers -------------------------------------------------------------------------

    @property
    def seq(self) -> int:
        return self._seq

    def latest(self, keep: FeedFilter, limit: int) -> list[FeedRow]:
        """The newest ``limit`` rows ``keep`` accepts, newest first."""
        with self._lock:
            rows = [row for row, _raw in reversed(self._signals.values()) if keep.keeps(row)]
        return rows[:limit]

    def since(self, seq: int, limit: int) -> list[FeedRow]:
        """Rows that arrived after ``seq``, oldest first; at most the newest ``limit``."""
        found: list[FeedRow] = []
        with self._lock:
            for row, _raw in reversed(self._signals.values()):
                if row.seq <= seq or len(found) == limit:
                    break
                found.append(row)
        return found[::-1]

    def signal(self, signal_id: str) -> ScoredSignal | None:
        with self._lock:
            kept = self._signals.get(signal_id)
        return None if kept is None else ScoredSignal.model_validate_json(kept[1])

    def scored(self) -> list[ScoredSignal]:
        with self._lock:
            raws = [raw for _row, raw in self._signals.values()]
        return [ScoredSignal.model_validate_json(raw) for raw in raws]

    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls.values())

    def outcome(self, signal_id: str) -> Outcome | None:
        with self._lock:
            call = self._calls.get(signal_id)
        return None if call is None else call.outcome

    def price_path(self, ticker: str) -> list[tuple[datetime, float]]:
        with self._lock:
            return list(self._prices.get(ticker, ()))

    def choices(self) -> tuple[list[str], list[str]]:
        """The sources and authors seen, for the filter menus."""
        with self._lock:
            rows = [row for row, _raw in self._signals.values()]
        return (
            sorted({r.source for r in rows}),
            sorted({r.author for r in rows if r.author is not None}),
        )

    @property
    def cutoff(self) -> datetime | None:
        with self._lock:
            return self._cutoffs.cutoff

    @property
    def size(self) -> int:
        return len(self._signals)

    # --- handlers, under the lock ---------------------------------------------------------

    def _scored(self, value: bytes) -> None:
        signal = ScoredSignal.model_validate_json(value)  # the contract holds: tier, mode, types
        if signal.signal_id in self._signals:
            return
        self._seq += 1
        row = FeedRow(
            seq=self._seq,
            signal_id=signal.signal_id,
            posted_at=signal.posted_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
            ticker=signal.ticker,
            source=signal.source,
            channel=signal.channel,
            author=signal.author,
            final_score=signal.final_score,
            tier=signal.tier,
            probability=signal.ml_probability,
            mode=signal.mode,
            model_version=signal.model_version,
            shadow_score=signal.shadow_score,
        )
        self._signals[signal.signal_id] = (row, value)
        if len(self._signals) > self.max_signals:
            self._signals.popitem(last=False)
        if signal.signal_id not in self._calls:
            self._remember(
                Call(signal.signal_id, signal.ticker, signal.posted_at, signal.source,
                     signal.author, None)
            )  # fmt: skip

    def _outcome(self, value: bytes) -> None:
        outcome = Outcome.model_validate_json(value).model_copy(update={"features": {}})
        known = self._calls.pop(outcome.signal_id, None)
        if known is not None and known.outcome is not None:
            self._calls[outcome.signal_id] = known  # a redelivered outcome: the first one holds
            return
        self._remember(
            Call(
                outcome.signal_id,
                outcome.ticker,
                outcome.posted_at,
                outcome.source or (known.source if known else ""),
                outcome.author,
                outcome,
            )
        )

    def _remember(self, call: Call) -> None:
        self._calls[call.signal_id] = call
        if len(self._calls) > self.max_calls:
            self._calls.popitem(last=False)

    def _tick(self, value: bytes) -> None:
        tick = PriceTick.model_validate_json(value)
        path = self._prices.get(tick.ticker)
        if path is None:
            path = self._prices[tick.ticker] = deque(maxlen=self.max_ticks)
        path.append((tick.ts, tick.price_usd))

    def _update(self, value: bytes) -> None:
        update = ModelUpdate.model_validate_json(value)
        if update.mode is not None:
            self.announced_mode = update.mode

    def _cutoff(self, value: bytes) -> None:
        self._cutoffs.add(LabelCutoff.model_validate_json(value))
