"""The extractor's memory: per-ticker mention history and per-source / per-author track records.

State changes only through the order of events it is given (signals via ``observe``, outcomes via
``record_outcome``) and every query is evaluated at the signal's own ``posted_at``, never the wall
clock. So replaying a topic in offset order rebuilds exactly the state, and the features, that the
live consumer had. Times are POSIX seconds (floats); lists are kept sorted so late (out-of-order)
events are placed where they belong.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right, insort
from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = ["DAY", "HOUR", "WEEK", "MentionHistory", "TickerWindowCounts", "TrackRecord"]

HOUR = 3600.0
DAY = 24 * HOUR
WEEK = 7 * DAY
LONGEST_WINDOW = WEEK
# Every this many observed signals, tickers that went quiet are pruned too.
SWEEP_EVERY = 4096


def _has_any_between(times: list[float], low: float, high: float) -> bool:
    i = bisect_left(times, low)
    return i < len(times) and times[i] <= high


class TickerWindowCounts(NamedTuple):
    """What the ticker's recent history says at one signal's posted_at."""

    sources_24h: int
    sources_7d: int
    mentions_24h: int
    mentions_7d: int
    hours_since_first: float
    hours_since_prev: float  # NaN when no earlier mention in the last 7 days


@dataclass(slots=True)
class _Ticker:
    times: list[float] = field(default_factory=list)
    by_source: dict[str, list[float]] = field(default_factory=dict)

    def prune(self, cutoff: float) -> None:
        """Forget mentions older than ``cutoff``."""
        if self.times and self.times[0] < cutoff:
            del self.times[: bisect_left(self.times, cutoff)]
            for source in list(self.by_source):
                times = self.by_source[source]
                del times[: bisect_left(times, cutoff)]
                if not times:
                    del self.by_source[source]


class MentionHistory:
    """Mentions per ticker over the longest window, plus each ticker's first-seen time.

    Memory is bounded: mentions older than the newest posted_at seen minus 7 days are pruned (the
    ticker's own list on each insert, every ticker every few thousand signals); only the
    first-seen time per ticker is kept forever (one float per ticker).
    """

    def __init__(self) -> None:
        self._tickers: dict[str, _Ticker] = {}
        self._first_seen: dict[str, float] = {}
        self._watermark = -math.inf
        self._since_sweep = 0

    def add(self, ticker: str, source: str, posted: float) -> None:
        """Record one mention (call once per distinct signal)."""
        entry = self._tickers.get(ticker)
        if entry is None:
            entry = self._tickers[ticker] = _Ticker()
        insort(entry.times, posted)
        insort(entry.by_source.setdefault(source, []), posted)
        first = self._first_seen.get(ticker)
        if first is None or posted < first:
            self._first_seen[ticker] = posted
        if posted > self._watermark:
            self._watermark = posted
        entry.prune(self._watermark - LONGEST_WINDOW)
        self._since_sweep += 1
        if self._since_sweep >= SWEEP_EVERY:
            self._sweep()

    def _sweep(self) -> None:
        self._since_sweep = 0
        cutoff = self._watermark - LONGEST_WINDOW
        for ticker in list(self._tickers):
            entry = self._tickers[ticker]
            entry.prune(cutoff)
            if not entry.times:
                del self._tickers[ticker]

    def counts(self, ticker: str, posted: float) -> TickerWindowCounts:
        """Window counts at ``posted``, over mentions in [posted - window, posted]."""
        entry = self._tickers.get(ticker) or _Ticker()
        day_ago, week_ago = posted - DAY, posted - WEEK
        times = entry.times
        upto = bisect_right(times, posted)
        sources_24h = sources_7d = 0
        for source_times in entry.by_source.values():
            last = source_times[-1]
            if last <= posted:  # the usual in-order case: the latest mention decides
                if last >= week_ago:
                    sources_7d += 1
                    if last >= day_ago:
                        sources_24h += 1
            elif _has_any_between(source_times, week_ago, posted):
                sources_7d += 1
                sources_24h += _has_any_between(source_times, day_ago, posted)
        # The signal itself is among the mentions <= posted; the one before it is the previous.
        first = self._first_seen.get(ticker, posted)
        prev_index = upto - 2
        hours_since_prev = (
            (posted - times[prev_index]) / HOUR
            if prev_index >= 0 and times[prev_index] >= week_ago
            else math.nan
        )
        return TickerWindowCounts(
            sources_24h=sources_24h,
            sources_7d=sources_7d,
            mentions_24h=upto - bisect_left(times, day_ago),
            mentions_7d=upto - bisect_left(times, week_ago),
            hours_since_first=(posted - first) / HOUR,
            hours_since_prev=hours_since_prev,
        )


class TrackRecord:
    """Hit rate per key (a source or an author) of outcomes resolved by a given time.

    An outcome counts for a signal only when it was known at that signal's posted_at: its
    resolution time (``hit_at`` for a win, ``posted_at + horizon`` for a loss) is at or before it.
    The history is the whole point of a track record, so it is not pruned (one float per outcome).
    """

    def __init__(self) -> None:
        self._resolved: dict[str, list[float]] = {}
        self._won: dict[str, list[float]] = {}

    def add(self, key: str, resolved_at: float, won: bool) -> None:
        insort(self._resolved.setdefault(key, []), resolved_at)
        if won:
            insort(self._won.setdefault(key, []), resolved_at)

    def at(self, key: str | None, when: float) -> tuple[float, int]:
        """(hit rate, resolved count) as known at ``when``; the rate is NaN with no history."""
        resolved = self._resolved.get(key) if key is not None else None
        if not resolved:
            return math.nan, 0
        count = bisect_right(resolved, when)
        if count == 0:
            return math.nan, 0
        return bisect_right(self._won.get(key, ()), when) / count, count
