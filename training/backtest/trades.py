"""Trades of one scorer's selected signals, and the book's daily mark-to-market equity curve.

A trade enters at the signal's entry price when it was posted and exits at the label's end:
at ``target_multiple`` x entry when the target was hit (at ``hit_at``), else at the price the
label recorded at the horizon's end (``return_at_horizon``). Fees and slippage cost
``fees_bps`` on each side: bought at ``entry x (1 + f)``, sold at ``exit x (1 - f)``. While a
position in a ticker is open, further signals on it are skipped (five sources calling one coin
is one trade, not five).

Equal sizing: every trade has the same stake, and the book's capital is that stake times the
most positions ever open at once, so every trade could be taken without leverage; idle capital
earns nothing. The curve is marked at the end of every UTC day (every weekday for a book of
equities only) at each open position's last price, and starts at 1.0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import numpy.typing as npt

from roostr.contracts import Outcome
from training.backtest.tick_columns import TickColumns

__all__ = [
    "DAY_S",
    "EquityCurve",
    "PriceBook",
    "Trade",
    "equity_curve",
    "simulate",
    "tradable",
]

DAY_S = 86_400.0


@dataclass(frozen=True, slots=True)
class Trade:
    """One round trip; times are epoch seconds, ``net_return`` is after fees both ways."""

    signal_id: str
    ticker: str
    entry_at: float
    exit_at: float
    entry_price: float
    exit_price: float
    hit_target: bool
    net_return: float


def tradable(outcome: Outcome) -> bool:
    """A resolved outcome that says where a trade would have entered and exited."""
    if outcome.entry_price is None:
        return False
    if outcome.status == "won":
        return outcome.hit_at is not None
    return outcome.status == "lost" and outcome.return_at_horizon is not None


def simulate(
    outcomes: Iterable[Outcome], target_multiple: float, fees_bps: float
) -> tuple[list[Trade], int]:
    """Trades of the selected signals' outcomes (given in posted_at, signal_id order, each
    ``tradable``) and the number skipped because their ticker's position was still open."""
    fee = fees_bps / 10_000
    open_until: dict[str, float] = {}
    trades: list[Trade] = []
    skipped = 0
    for outcome in outcomes:
        entry_at = outcome.posted_at.timestamp()
        if open_until.get(outcome.ticker, -math.inf) > entry_at:
            skipped += 1
            continue
        entry = outcome.entry_price
        assert entry is not None and tradable(outcome), outcome.signal_id
        if outcome.status == "won" and outcome.hit_at is not None:
            exit_at, exit_price = outcome.hit_at.timestamp(), target_multiple * entry
        else:
            horizon = outcome.posted_at + timedelta(days=outcome.horizon_days)
            exit_at = horizon.timestamp()
            exit_price = entry * (1.0 + (outcome.return_at_horizon or 0.0))
        net = exit_price * (1 - fee) / (entry * (1 + fee)) - 1
        won = outcome.status == "won"
        trade = Trade(
            outcome.signal_id, outcome.ticker, entry_at, exit_at, entry, exit_price, won, net
        )
        trades.append(trade)
        open_until[outcome.ticker] = exit_at
    return trades, skipped


class PriceBook:
    """Every ticker's ticks sorted by (ts, price), for marking open positions (of ticks at one
    instant, the highest price is the mark)."""

    def __init__(self, ticks: TickColumns) -> None:
        ts, price = ticks.ts, ticks.price
        # the ticks are in (ticker, ts) order already: only ticks sharing both need sorting
        if ((np.diff(ticks.code) == 0) & (np.diff(ts) == 0)).any():
            order = np.lexsort((ticks.price, ticks.ts, ticks.code))
            ts, price = ts[order], price[order]
        self._series = {
            name: (ts[start:stop], price[start:stop])
            for name, (start, stop) in ticks.bounds().items()
        }

    def marks(
        self, ticker: str, since: float, at: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float64]:
        """The last price at or before each of ``at`` that is not older than ``since``
        (NaN where there is none)."""
        series = self._series.get(ticker)
        if series is None:
            return np.full(at.shape, np.nan)
        ts, price = series
        i = np.searchsorted(ts, at, side="right") - 1
        found = (i >= 0) & (ts[np.maximum(i, 0)] >= since)
        return np.where(found, price[np.maximum(i, 0)], np.nan)


@dataclass(frozen=True)
class EquityCurve:
    """Equity (1.0 at ``times[0]``) at each mark; ``periods_per_year`` annualises the Sharpe."""

    times: npt.NDArray[np.float64]
    equity: npt.NDArray[np.float64]
    positions: int
    periods_per_year: int

    @property
    def returns(self) -> npt.NDArray[np.float64]:
        return np.diff(self.equity) / self.equity[:-1]

    @property
    def drawdown(self) -> npt.NDArray[np.float64]:
        return 1.0 - self.equity / np.maximum.accumulate(self.equity)

    def max_drawdown(self) -> float:
        return float(self.drawdown.max())

    def sharpe(self) -> float | None:
        """Mean over standard deviation (ddof 1) of the period returns, x sqrt(periods/year);
        None when it is undefined (fewer than two returns, or no variation)."""
        returns = self.returns
        if returns.size < 2:
            return None
        spread = float(returns.std(ddof=1))
        if spread == 0.0:
            return None
        return float(returns.mean() / spread * math.sqrt(self.periods_per_year))


def equity_curve(
    trades: Sequence[Trade],
    book: PriceBook,
    start: float,
    end: float,
    fees_bps: float,
    periods_per_year: int,
) -> EquityCurve:
    """The book's equity from the UTC day of ``start`` to the day of ``end`` or of the last
    exit, whichever is later; weekdays only when ``periods_per_year`` is 252."""
    fee = fees_bps / 10_000
    first = math.floor(start / DAY_S) * DAY_S
    stop = max([end, *(t.exit_at for t in trades)])
    days = max(math.ceil((stop - first) / DAY_S), 1)
    ends = first + DAY_S * np.arange(1, days + 1, dtype=np.float64)
    if periods_per_year == 252:
        weekday = (np.floor((ends - DAY_S) / DAY_S).astype(np.int64) + 3) % 7  # Monday = 0
        ends = ends[weekday < 5]
    times = np.concatenate([[first], ends])
    pnl = np.zeros(times.size)
    for trade in trades:
        holding = (times >= trade.entry_at) & (times < trade.exit_at)
        marks = book.marks(trade.ticker, trade.entry_at, times[holding])
        marks = np.where(np.isnan(marks), trade.entry_price, marks)
        pnl[holding] += marks / (trade.entry_price * (1 + fee)) - 1
        pnl[times >= trade.exit_at] += trade.net_return
    positions = max_open_positions(trades)
    return EquityCurve(times, 1.0 + pnl / positions, positions, periods_per_year)


def max_open_positions(trades: Sequence[Trade]) -> int:
    """The most trades open at one instant (at least 1); an exit frees its slot for an entry
    at the same instant."""
    events = sorted([(t.entry_at, 1) for t in trades] + [(t.exit_at, -1) for t in trades])
    most = current = 0
    for _when, step in events:
        current += step
        most = max(most, current)
    return max(most, 1)
