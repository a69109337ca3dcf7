"""Labels from prices with array operations: the backtest's fast path to ``roostr.labels``.

``roostr.labels.PartitionLabeler`` stays THE definition of a label. A backtest feeds it every
ticker's ticks and the unlabelled signals merged in event time (a tick before a signal at the
same instant), then advances it to the newest tick. Fed in that order, its rules reduce to
these, per signal on its ticker's ticks sorted by ts (ties in read order):

- the *window* is the ticks with ``posted <= ts <= posted + horizon`` (two ``searchsorted``),
  cut after the first tick at or past ``posted + horizon + grace`` (only bites when grace is 0);
- entry = ``price_usd``, else the window's first tick when ``ts <= posted + entry_tolerance``;
- the hit is the window's first tick with ``price >= target_multiple x entry``, found for all
  signals at once by binary lifting over a sparse table of running maxima;
- ``max_multiple`` is the window's maximum (up to the hit) over entry, ``return_at_horizon`` the
  window's last tick over entry; a signal is resolved only once its deadline (``+ grace``) is at
  or before the newest tick, as the labeler's clock would have it.

No tick is ever late in that order, and a signal's ticks are never evicted before it arrives.
``tests/test_fast_labels_equal_the_joiners.py`` proves the outcomes equal the labeler's, field
by field, over random worlds (edge cases included).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import numpy as np
import numpy.typing as npt

from roostr.contracts import Outcome, OutcomeStatus
from roostr.labels import LabelRules
from training.backtest.tick_columns import TickColumns

__all__ = ["Decided", "LabelledSignal", "decide_from_prices", "labels_from_prices"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class LabelledSignal(Protocol):
    """What a label reads of a signal: a LabelledSignal, or the backtest's ``SignalFacts``."""

    @property
    def signal_id(self) -> str: ...
    @property
    def ticker(self) -> str: ...
    @property
    def posted_at(self) -> datetime: ...
    @property
    def price_usd(self) -> float | None: ...
    @property
    def source(self) -> str: ...
    @property
    def author(self) -> str | None: ...


def labels_from_prices(
    signals: Sequence[LabelledSignal], ticks: TickColumns, rules: LabelRules
) -> list[Outcome]:
    """The outcomes the labeler would have decided, in (posted_at, signal_id) order."""
    return [d.outcome(rules) for d in decide_from_prices(signals, ticks, rules)]


def decide_from_prices(
    signals: Sequence[LabelledSignal], ticks: TickColumns, rules: LabelRules
) -> list[Decided]:
    """``labels_from_prices`` as ``Decided`` (an Outcome costs about 1.6 KB of Python objects:
    a million of them do not fit a bounded backtest)."""
    if not signals or not len(ticks):
        return []
    newest = ticks.newest()
    bounds = ticks.bounds()
    unique = _first_copies(signals)
    by_ticker: dict[str, list[LabelledSignal]] = {}
    for signal in unique:
        by_ticker.setdefault(signal.ticker, []).append(signal)
    decided: dict[str, Decided] = {}
    for name, group in by_ticker.items():
        start, stop = bounds.get(name, (0, 0))
        window = _Ticker(ticks.ts[start:stop], ticks.price[start:stop])
        for found in window.label(group, rules, newest):
            decided[found.signal.signal_id] = found
    return [decided[s.signal_id] for s in unique if s.signal_id in decided]


@dataclass(frozen=True, slots=True)
class Decided:
    """What the labeler decided for a signal: its Outcome's fields beyond the signal's own."""

    signal: LabelledSignal
    status: OutcomeStatus
    entry: float
    highest: float = -math.inf
    hit_at: float | None = None
    ret: float | None = None
    reason: str | None = None

    @property
    def label(self) -> int | None:
        return {"won": 1, "lost": 0}.get(self.status)

    def outcome(self, rules: LabelRules) -> Outcome:
        """The Outcome ``PartitionLabeler._resolve`` builds for a signal without logged
        scores."""
        signal, entry, highest = self.signal, self.entry, self.highest
        known = not math.isnan(entry)
        return Outcome(
            signal_id=signal.signal_id,
            ticker=signal.ticker,
            posted_at=_datetime(signal.posted_at.timestamp()),
            entry_price=float(entry) if known else None,
            label=self.label,
            status=self.status,
            reason=self.reason,
            hit_at=None if self.hit_at is None else _datetime(float(self.hit_at)),
            max_multiple=float(highest / entry) if known and highest > -math.inf else None,
            return_at_horizon=self.ret,
            horizon_days=rules.horizon_days,
            source=signal.source,
            author=signal.author,
        )


def _first_copies(signals: Sequence[LabelledSignal]) -> list[LabelledSignal]:
    """Signals in the labeler's order, the first copy of a signal_id kept (later ones are the
    labeler's duplicates)."""
    first: dict[str, LabelledSignal] = {}
    for signal in sorted(signals, key=lambda s: (s.posted_at.timestamp(), s.signal_id)):
        first.setdefault(signal.signal_id, signal)
    return list(first.values())


class _Ticker:
    """One ticker's ticks (sorted by ts) and the sparse table of their running maxima:
    ``levels[k][i] = max(price[i : i + 2**k])`` (-inf past the end)."""

    def __init__(self, ts: FloatArray, price: FloatArray) -> None:
        self.ts, self.price = ts, price
        self.levels = [np.append(price, -math.inf)]

    def _grow(self, span: int) -> None:
        """Levels up to the largest power of two not above ``span``."""
        while (1 << len(self.levels)) <= span:
            below, half = self.levels[-1], 1 << (len(self.levels) - 1)
            shifted = np.append(below[half:], np.full(half, -math.inf))
            self.levels.append(np.maximum(below, shifted))

    def _max(self, start: IntArray, stop: IntArray) -> FloatArray:
        """max(price[start:stop]) per row (-inf where empty)."""
        span = np.maximum(stop - start, 1)
        k = np.floor(np.log2(span)).astype(np.int64)
        out = np.full(start.size, -math.inf)
        for level in np.unique(k).tolist():
            rows = np.flatnonzero(k == level)
            table = self.levels[level]
            lo, hi = start[rows], stop[rows] - (1 << level)
            out[rows] = np.maximum(table[lo], table[np.maximum(hi, lo)])
        return np.where(stop > start, out, -math.inf)

    def _first_at_least(self, start: IntArray, stop: IntArray, floor: FloatArray) -> IntArray:
        """The first i in [start, stop) with price[i] >= floor, else stop (binary lifting)."""
        position = start.copy()
        for level in range(len(self.levels) - 1, -1, -1):
            step = 1 << level
            table = self.levels[level]
            ahead = position + step <= stop
            below = table[position] < floor
            position += np.where(ahead & below, step, 0)
        return position

    def label(
        self, signals: Sequence[LabelledSignal], rules: LabelRules, newest: float
    ) -> list[Decided]:
        horizon = rules.horizon.total_seconds()
        tolerance = rules.entry_tolerance.total_seconds()
        grace = rules.grace.total_seconds()
        posted = np.array([s.posted_at.timestamp() for s in signals])
        given = np.array([math.nan if s.price_usd is None else s.price_usd for s in signals])
        # +inf / NaN after the last tick: a row index may point one past it
        ts, price = np.append(self.ts, math.inf), np.append(self.price, math.nan)
        start = np.searchsorted(ts, posted, side="left")
        due = posted + horizon + grace
        stop = np.minimum(
            np.searchsorted(ts, posted + horizon, side="right"),
            np.searchsorted(ts, due, side="left") + 1,
        )
        from_tick = (start < stop) & (ts[start] <= posted + tolerance)
        entry = np.where(np.isnan(given), np.where(from_tick, price[start], math.nan), given)
        has_entry = ~np.isnan(entry)
        self._grow(int((stop - start).max(initial=0)))
        hit = self._first_at_least(start, stop, rules.target_multiple * entry)
        won = has_entry & (hit < stop)
        until = np.where(won, hit + 1, stop)
        highest = self._max(start, until)
        last = price[until - 1]
        no_entry_due = np.minimum(posted + tolerance + grace, due)
        decided = []
        for i, signal in enumerate(signals):
            if won[i]:
                found = Decided(signal, "won", entry[i], highest[i], hit_at=float(ts[hit[i]]))
            elif has_entry[i] and due[i] <= newest:
                if until[i] > start[i]:
                    ret = float(last[i] / entry[i] - 1)
                    found = Decided(signal, "lost", entry[i], highest[i], ret=ret)
                else:
                    reason = "no price within the horizon"
                    found = Decided(signal, "unresolved", entry[i], reason=reason)
            elif not has_entry[i] and no_entry_due[i] <= newest:
                found = Decided(signal, "unresolved", math.nan, reason="no price within tolerance")
            else:
                continue  # the prices do not cover its deadline yet: open, as it would be live
            decided.append(found)
        return decided


def _datetime(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
