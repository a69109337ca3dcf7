"""The extractor's memory: per-ticker mention history and per-source / per-author track records.

State changes only through the order of events it is given (signals via ``add``, outcomes via
``TrackRecord.add``) and every query is evaluated at the signal's own ``posted_at``, never the
wall clock. A ticker's mention history is a function of that ticker's own signals, in the order
they arrived, and nothing else: not of other tickers, not of which partitions a member holds, not
of how far those partitions drift apart in event time. Tickers are the topic's keys, so each one
arrives in one partition's fixed order, and replaying a topic rebuilds exactly the state, and the
features, that the live consumer had. Times are POSIX seconds (floats); lists are kept sorted so
late (out-of-order) events are placed where they belong.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

__all__ = [
    "DAY",
    "GRACE",
    "HOUR",
    "PRIOR_STRENGTH",
    "TRACK_RECORD_LAG",
    "WEEK",
    "MentionHistory",
    "TickerWindowCounts",
    "TrackRecord",
    "TrackRecords",
]

HOUR = 3600.0
DAY = 24 * HOUR
WEEK = 7 * DAY
LONGEST_WINDOW = WEEK
# A signal at most this much older than its ticker's newest mention still sees complete windows.
GRACE = DAY
RETAINED = LONGEST_WINDOW + GRACE
# Track records are as of this long before a signal's posted_at: what the joiner's label cutoff
# has normally passed when the signal arrives (prices lag by minutes, the cutoff by the grace).
TRACK_RECORD_LAG = DAY
PRIOR_STRENGTH = 30.0  # pseudo-outcomes of a track record's parent rate (see TrackRecords)
GLOBAL = "*"  # the key of every outcome's track record
_ROWS_PER_PART = 4000  # a snapshot part of ~200 KB


def _json_time(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _time(value: float | None, unset: float = -math.inf) -> float:
    return unset if value is None else value


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
    """One ticker's history: retained mentions (sorted), per source, and by signal id."""

    first: float = math.inf
    newest: float = -math.inf
    times: list[float] = field(default_factory=list)
    by_source: dict[str, list[float]] = field(default_factory=dict)
    # signal_id -> posted_at of the retained mentions; entries older than the horizon are stale
    # (treated as absent) and dropped once they outnumber the retained mentions.
    ids: dict[str, float] = field(default_factory=dict)

    @property
    def horizon(self) -> float:
        """Mentions before this are forgotten: a function of this ticker's newest mention only."""
        return self.newest - RETAINED

    def add(self, signal_id: str, source: str, posted: float) -> bool:
        """Count one mention unless its id is a kept mention's; see ``MentionHistory``."""
        kept = self.ids.get(signal_id)
        if kept is not None and kept >= self.horizon:
            return False
        self.first = min(self.first, posted)
        self.newest = max(self.newest, posted)
        horizon = self.horizon
        if posted < horizon:
            return True  # very late: counted in its own features only (see MentionHistory)
        insort(self.times, posted)
        insort(self.by_source.setdefault(source, []), posted)
        self.ids[signal_id] = posted
        if self.times[0] < horizon:
            self._prune(horizon)
        return True

    def _prune(self, horizon: float) -> None:
        del self.times[: bisect_left(self.times, horizon)]
        for source in list(self.by_source):
            times = self.by_source[source]
            del times[: bisect_left(times, horizon)]
            if not times:
                del self.by_source[source]
        if len(self.ids) > 2 * len(self.times):
            self.ids = {i: t for i, t in self.ids.items() if t >= horizon}


class MentionHistory:
    """Mentions per ticker over the longest window (7 days), plus each ticker's first-seen time.

    Exact semantics, per ticker and a pure function of that ticker's signals in arrival order:

    - The horizon is the ticker's newest ``posted_at`` so far minus 8 days (the 7-day window plus
      a 1-day ``GRACE``). Mentions before it are forgotten; nothing else is ever pruned, and no
      other ticker, clock or member-wide watermark moves it.
    - A signal's window counts are over the ticker's mentions in ``[max(posted - window,
      horizon), posted]``, itself included. So an in-order signal, or one at most a day older
      than its ticker's newest, sees complete windows; an older one sees its windows cut at the
      horizon.
    - A very late signal, posted before the horizon (over 8 days before its ticker's newest
      mention), sees only itself: 1 mention and 1 source in each window, no previous mention.
      It is not kept (it is before the horizon), so it changes no other signal's counts, but it
      does move first-seen back if it is the ticker's earliest.
    - A signal id already among the ticker's kept mentions is a repeat (a redelivery or
      re-scrape): it is not counted again and its features read the history as it is.
    - First-seen is the earliest ``posted_at`` of all the ticker's signals, kept forever.

    Memory: per ticker, its mentions within 8 days of its own newest (their times, per source,
    and their ids), plus two floats kept forever. A ticker that goes quiet keeps its last 8 days.
    """

    def __init__(self) -> None:
        self._tickers: dict[str, _Ticker] = {}

    def add(self, ticker: str, source: str, signal_id: str, posted: float) -> bool:
        """Record one mention; False for a repeat of a kept signal id (nothing changes)."""
        entry = self._tickers.get(ticker)
        if entry is None:
            entry = self._tickers[ticker] = _Ticker()
        return entry.add(signal_id, source, posted)

    def export(self, tickers: Iterable[str]) -> Iterator[tuple[str, Any]]:
        """The named tickers' state as JSON-ready entries, for a snapshot of their partition.

        A ticker is a head entry (first-seen, newest, number of parts) and parts of at most
        ``_ROWS_PER_PART`` rows (a source's mention time, or a kept signal id's), so no entry
        outgrows a Kafka record however busy the ticker.
        """
        for name in tickers:
            entry = self._tickers.get(name)
            if entry is None:
                continue
            horizon = entry.horizon
            rows: list[tuple[str, str, float]] = [
                ("s", source, t) for source, times in entry.by_source.items() for t in times
            ]
            rows += [("i", signal_id, t) for signal_id, t in entry.ids.items() if t >= horizon]
            parts = [rows[i : i + _ROWS_PER_PART] for i in range(0, len(rows), _ROWS_PER_PART)]
            yield f"ticker/{name}", [_json_time(entry.first), _json_time(entry.newest), len(parts)]
            for number, part in enumerate(parts):
                yield f"part/{name}/{number}", part

    def load(self, entries: Mapping[str, Any]) -> list[str]:
        """Add the tickers that ``export`` wrote (replacing any of the same name); their names."""
        loaded = []
        for key, head in entries.items():
            kind, _, name = key.partition("/")
            if kind != "ticker":
                continue
            entry = self._tickers[name] = _Ticker(_time(head[0], math.inf), _time(head[1]))
            for number in range(head[2]):
                for kind_of_row, value, t in entries[f"part/{name}/{number}"]:
                    if kind_of_row == "s":
                        entry.by_source.setdefault(value, []).append(t)
                    else:
                        entry.ids[value] = t
            for times in entry.by_source.values():
                times.sort()
            entry.times = sorted(t for times in entry.by_source.values() for t in times)
            loaded.append(name)
        return loaded

    def forget(self, tickers: Iterable[str]) -> None:
        """Drop the named tickers (their partition moved to another member)."""
        for name in tickers:
            self._tickers.pop(name, None)

    def __len__(self) -> int:
        return len(self._tickers)

    def counts(self, ticker: str, posted: float) -> TickerWindowCounts:
        """Window counts at ``posted`` of a signal already ``add``-ed (see the class docstring)."""
        entry = self._tickers.get(ticker) or _Ticker()
        first = min(entry.first, posted)
        if posted < entry.horizon:
            return TickerWindowCounts(1, 1, 1, 1, (posted - first) / HOUR, math.nan)
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
        prev_index = upto - 2
        hours_since_prev = (
            (posted - times[prev_index]) / HOUR
            if prev_index >= 0 and times[prev_index] >= week_ago
            else math.nan
        )
        return TickerWindowCounts(  # positional (in field order): keywords cost per signal
            sources_24h,
            sources_7d,
            upto - bisect_left(times, day_ago),
            upto - bisect_left(times, week_ago),
            (posted - first) / HOUR,
            hours_since_prev,
        )


class TrackRecord:
    """Wins and matured outcomes per key (a source, an author, or ``GLOBAL``) by matured time.

    An outcome counts from its ``matured_at`` (the end of its horizon) on, win or loss: a win is
    known earlier, at ``hit_at``, but counting it then while the losses of the same stretch are
    still pending rates every recent caller above its record. The history is the whole point of
    a track record, so it is not pruned (one or two floats per outcome).
    """

    def __init__(self) -> None:
        self._matured: dict[str, list[float]] = {}
        self._won: dict[str, list[float]] = {}

    def add(self, key: str, matured: float, won: bool) -> None:
        insort(self._matured.setdefault(key, []), matured)
        if won:
            insort(self._won.setdefault(key, []), matured)

    def at(self, key: str, when: float) -> tuple[int, int]:
        """(wins, outcomes) matured at or before ``when``."""
        matured = self._matured.get(key)
        if not matured:
            return 0, 0
        return bisect_right(self._won.get(key, ()), when), bisect_right(matured, when)


class TrackRecords:
    """The hit rates of a signal's source and author as of matured outcomes, shrunk to parents.

    Evaluated at ``posted_at − TRACK_RECORD_LAG`` (an event time the outcome joiner's label
    cutoff is normally already past, so live scoring does not wait; see
    ``consumer.track_records``), over the outcomes matured by then. Each rate is a Beta-binomial
    posterior mean: the global matured rate g, the source's rate (wins + k·g) / (n + k), the
    author's rate (wins + k·source rate) / (n + k), with k = ``PRIOR_STRENGTH`` pseudo-outcomes
    (chosen by time-ordered cross-validation: ``benchmarks/track_record_prior.py``). A caller with
    three lucky wins is not rated 100 %; one with hundreds of outcomes is rated by them. Rates are
    NaN before any outcome matured anywhere; the counts (n) are features of their own.
    """

    def __init__(self, prior_strength: float = PRIOR_STRENGTH) -> None:
        self._records = TrackRecord()
        self._k = prior_strength

    def add(self, source: str, author: str | None, matured: float, won: bool) -> None:
        self._records.add(GLOBAL, matured, won)
        self._records.add(f"s:{source}", matured, won)
        if author is not None:
            self._records.add(f"a:{author}", matured, won)

    def at(self, source: str, author: str | None, posted: float) -> tuple[float, int, float, int]:
        """(source rate, source outcomes, author rate, author outcomes) for a signal posted at
        ``posted``; a signal without an author gets NaN and 0 for the author's."""
        when = posted - TRACK_RECORD_LAG
        wins, n = self._records.at(GLOBAL, when)
        if n == 0:
            return math.nan, 0, math.nan, 0
        base = wins / n
        wins, n_source = self._records.at(f"s:{source}", when)
        source_rate = (wins + self._k * base) / (n_source + self._k)
        if author is None:
            return source_rate, n_source, math.nan, 0
        wins, n_author = self._records.at(f"a:{author}", when)
        author_rate = (wins + self._k * source_rate) / (n_author + self._k)
        return source_rate, n_source, author_rate, n_author
