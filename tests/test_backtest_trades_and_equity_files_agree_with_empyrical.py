"""The report's trades and equity files carry its figures: Sharpe and max drawdown recomputed
from ``equity.csv`` and ``equity.parquet`` by an independent library (empyrical-reloaded) agree
with the report's to 1e-9, and the trades file holds each scorer's trades and mean return."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import empyrical
import pandas as pd
import pytest

from roostr.settings import Settings
from roostr.synthetic.world import START, generate_world
from training.backtest.engine import BacktestConfig, run_backtest
from training.backtest.inputs import BacktestInputs
from training.backtest.replay_signals import ReplaySignals
from training.backtest.report import write_report
from training.backtest.selection import parse_selection
from training.backtest.tick_columns import TickColumns


def test_sharpe_and_drawdown_from_the_files_agree_with_the_report(tmp_path: Path) -> None:
    world = generate_world(500, seed=3, span_days=150)
    ticks = TickColumns.from_ticks(t for path in world.prices.values() for t in path.ticks())
    config = BacktestConfig(START + timedelta(days=40), START + timedelta(days=150),
                            parse_selection("top30%"))  # fmt: skip
    result = run_backtest(
        BacktestInputs(ReplaySignals.in_memory(world.signals), [], ticks), config, Settings()
    )
    write_report(result, tmp_path)
    summary = result.summary
    periods = summary["sharpe_days_per_year"]
    checked = 0
    for equity in (
        pd.read_csv(tmp_path / "equity.csv"),
        pd.read_parquet(tmp_path / "equity.parquet"),
    ):
        assert set(equity["scorer"]) == set(summary["scorers"])
        for scorer, curve in equity.groupby("scorer"):
            returns = curve["equity"].pct_change().dropna()
            row = summary["scorers"][scorer]
            sharpe = empyrical.sharpe_ratio(returns, annualization=periods)
            assert row["sharpe"] == pytest.approx(sharpe, abs=1e-9), scorer
            assert row["max_drawdown"] == pytest.approx(-empyrical.max_drawdown(returns), abs=1e-9)
            checked += row["trades"] > 0 and row["max_drawdown"] > 0
    assert checked >= 2  # scorers that traded and lost along the way were compared

    for trades in (
        pd.read_csv(tmp_path / "trades.csv"),
        pd.read_parquet(tmp_path / "trades.parquet"),
    ):
        for scorer, row in summary["scorers"].items():
            own = trades[trades["scorer"] == scorer]
            assert len(own) == row["trades"], scorer
            if len(own):
                assert own["net_return"].mean() == pytest.approx(row["mean_return"], abs=1e-12)
        assert set(trades["exit_reason"]) == {"target", "horizon"}
        fee = summary["fees_bps"] / 10_000
        net = trades["exit_price"] * (1 - fee) / (trades["entry_price"] * (1 + fee)) - 1
        assert (net - trades["net_return"]).abs().max() < 1e-12
        assert (
            (trades["gross_return"] - trades["fees"]) - trades["net_return"]
        ).abs().max() < 1e-12
