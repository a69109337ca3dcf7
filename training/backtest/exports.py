"""A backtest's trades and daily equity as files other tools read: CSV and Parquet.

- ``trades.csv`` / ``trades.parquet``: one row per trade of every scorer — the signal, its
  ticker, entry and exit times (UTC, ISO 8601) and prices, the gross return, the fees (as a
  return: gross minus net) and the net return, and why it exited (``target`` or ``horizon``);
- ``equity.csv`` / ``equity.parquet``: every scorer's curve, one row per mark (the report's
  Sharpe and max drawdown are computed from exactly these values).

Floats are written in their shortest round-trip form, so a reader gets the very numbers the
report used; rows are in scorer, then time order, so two runs give identical bytes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from training.backtest.engine import BacktestResult

__all__ = ["write_trades_and_equity"]


def write_trades_and_equity(result: BacktestResult, directory: Path) -> list[Path]:
    """The four files in ``directory`` (which exists); returns their paths."""
    written = []
    for name, frame in (("trades", _trades(result)), ("equity", _equity(result))):
        csv, parquet = directory / f"{name}.csv", directory / f"{name}.parquet"
        frame.to_csv(csv, index=False, lineterminator="\n")
        frame.to_parquet(parquet, index=False, engine="pyarrow")
        written += [csv, parquet]
    return written


def _trades(result: BacktestResult) -> pd.DataFrame:
    rows = [
        {
            "scorer": scorer,
            "signal_id": t.signal_id,
            "ticker": t.ticker,
            "entry_at": _iso(t.entry_at),
            "entry_price": t.entry_price,
            "exit_at": _iso(t.exit_at),
            "exit_price": t.exit_price,
            "gross_return": t.exit_price / t.entry_price - 1,
            "fees": t.exit_price / t.entry_price - 1 - t.net_return,
            "net_return": t.net_return,
            "exit_reason": "target" if t.hit_target else "horizon",
        }
        for scorer, trades in result.trades.items()
        for t in trades
    ]
    columns = ["scorer", "signal_id", "ticker", "entry_at", "entry_price", "exit_at",
               "exit_price", "gross_return", "fees", "net_return", "exit_reason"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def _equity(result: BacktestResult) -> pd.DataFrame:
    frames = [
        pd.DataFrame(
            {
                "scorer": scorer,
                "at": [_iso(t) for t in curve.times.tolist()],
                "equity": curve.equity,
            }
        )
        for scorer, curve in result.curves.items()
    ]
    return (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["scorer", "at", "equity"])
    )


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()
