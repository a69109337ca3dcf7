"""The caller leaderboard: how each author's (or source's) calls turned out, honestly.

A pure function of the calls and the joiner's label cutoff, so a test can check it against an
independent computation from the outcomes topic. Unlike the call-tracking bots' boards it:

- counts a call only once it has *matured* (``posted_at + horizon <= cutoff``,
  ``roostr.labels.matured_at``): before then its known outcomes are mostly early wins. Calls not
  matured yet, labelled or not, are counted as ``pending``, never dropped, and matured calls
  without an entry price as ``unresolved``;
- rates a call by its multiple at the fixed horizon (the price at the horizon's end over entry:
  ``1 + return_at_horizon`` for a loss), not at the all-time high after it. The outcome stops
  following a win when it hits the target, so a win counts the multiple it was closed at
  (``max_multiple`` at ``hit_at``, the label's exit): never more than a trade got;
- keeps losing calls: the hit rate is over every matured call, with its Wilson 95 % interval.

"Called first" is per ticker over every channel: the earliest call of a ticker (ties by
signal_id), matured or not; a caller's share is the tickers it called first over those it called.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Literal

from scipy.stats import binomtest

from roostr.contracts import Outcome
from roostr.labels import matured_at

__all__ = ["NO_AUTHOR", "By", "Call", "CallerStats", "leaderboard", "to_csv"]

NO_AUTHOR = "(no author)"

By = Literal["author", "source"]


@dataclass(frozen=True, slots=True)
class Call:
    """Who called which ticker when, and its outcome once the joiner labelled it."""

    signal_id: str
    ticker: str
    posted_at: datetime
    source: str
    author: str | None
    outcome: Outcome | None


@dataclass(frozen=True)
class CallerStats:
    """One caller's row."""

    caller: str
    calls: int  # matured and decided (won or lost)
    hits: int
    hit_rate: float | None
    hit_rate_low: float | None  # Wilson 95 %
    hit_rate_high: float | None
    median_multiple: float | None  # at the horizon (a win: at its exit), over ``calls``
    unresolved: int  # matured without an entry price
    pending: int  # not matured at the cutoff, labelled or not
    first_share: float | None
    last_call: datetime


def leaderboard(calls: Sequence[Call], cutoff: datetime | None, by: By) -> list[CallerStats]:
    """Every caller's row, most decided calls first; a cutoff of None matures nothing."""
    firsts: dict[str, tuple[datetime, str, str]] = {}
    for call in calls:
        mark = (call.posted_at, call.signal_id, _caller(call, by))
        if call.ticker not in firsts or mark < firsts[call.ticker]:
            firsts[call.ticker] = mark
    groups: dict[str, list[Call]] = {}
    for call in calls:
        groups.setdefault(_caller(call, by), []).append(call)
    rows = [_row(caller, group, cutoff, firsts) for caller, group in groups.items()]
    return sorted(rows, key=lambda r: (-r.calls, -(r.hit_rate or 0.0), r.caller))


def _caller(call: Call, by: By) -> str:
    return call.source if by == "source" else (call.author or NO_AUTHOR)


def _row(
    caller: str,
    calls: list[Call],
    cutoff: datetime | None,
    firsts: dict[str, tuple[datetime, str, str]],
) -> CallerStats:
    decided: list[Outcome] = []
    unresolved = pending = 0
    for call in calls:
        outcome = call.outcome
        if outcome is None or cutoff is None or matured_at(outcome) > cutoff:
            pending += 1
        elif outcome.label is None:
            unresolved += 1
        else:
            decided.append(outcome)
    hits = sum(o.label == 1 for o in decided)
    low = high = rate = None
    if decided:
        rate = hits / len(decided)
        interval = binomtest(hits, len(decided)).proportion_ci(0.95, method="wilson")
        low, high = float(interval.low), float(interval.high)
    multiples = [m for m in map(_horizon_multiple, decided) if m is not None]
    tickers = {c.ticker for c in calls}
    return CallerStats(
        caller=caller,
        calls=len(decided),
        hits=hits,
        hit_rate=rate,
        hit_rate_low=low,
        hit_rate_high=high,
        median_multiple=statistics.median(multiples) if multiples else None,
        unresolved=unresolved,
        pending=pending,
        first_share=sum(firsts[t][2] == caller for t in tickers) / len(tickers),
        last_call=max(c.posted_at for c in calls),
    )


def _horizon_multiple(outcome: Outcome) -> float | None:
    if outcome.status == "won":
        return outcome.max_multiple
    if outcome.return_at_horizon is None:
        return None
    return 1.0 + outcome.return_at_horizon


def to_csv(rows: Sequence[CallerStats]) -> str:
    """The rows as CSV with a header, times in ISO-8601, empty cells for unknowns."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([f.name for f in fields(CallerStats)])
    for row in rows:
        writer.writerow(_cell(v) for v in asdict(row).values())
    return out.getvalue()


def _cell(value: object) -> object:
    """A CSV cell; scraped text that a spreadsheet would run as a formula is quoted."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    return value
