"""A backtest over topics whose outcomes are known gives the trades, win rate, returns, Sharpe
and drawdown computed here by hand, through the real CLI and broker."""

from __future__ import annotations

import json
import math
import subprocess
from datetime import UTC, datetime, timedelta

import numpy as np
from conftest import ROOSTR
from scoring_service_support import publish
from signal_factory import make_outcome, make_signal

from roostr.contracts import PriceTick
from roostr.settings import Settings

T0 = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
DAY = timedelta(days=1)
FEE = 0.001  # 10 bps each way


def test_backtest_matches_a_hand_computed_book(settings: Settings) -> None:
    a = make_signal(1, ticker="AAA", posted_at=T0 + 0.5 * DAY, price_usd=1.0)
    b = make_signal(2, ticker="AAA", posted_at=T0 + 1.5 * DAY, price_usd=1.5)  # AAA still open
    c = make_signal(3, ticker="BBB", posted_at=T0 + 1.5 * DAY, price_usd=10.0)
    before = make_signal(4, ticker="CCC", posted_at=T0 - DAY, price_usd=3.0)
    after = make_signal(5, ticker="CCC", posted_at=T0 + 11 * DAY, price_usd=3.0)
    outcomes = [
        make_outcome(a, won=True, hit_at=T0 + 2.5 * DAY, entry_price=1.0, max_multiple=2.0),
        make_outcome(b, won=False, entry_price=1.5, return_at_horizon=-0.5, horizon_days=3),
        make_outcome(c, won=False, entry_price=10.0, return_at_horizon=-0.2, horizon_days=3),
        make_outcome(before, won=True, hit_at=T0, entry_price=3.0),
    ]
    # The only tick that marks an open position: BBB at 9.0 during day 2.
    tick = PriceTick(ticker="BBB", ts=T0 + 2.2 * DAY, price_usd=9.0, source="feed")
    publish(settings, settings.topic_raw, [a, b, c, before, after])
    publish(settings, settings.topic_outcomes, outcomes)
    publish(settings, settings.topic_prices, [tick])

    run = subprocess.run(
        [*ROOSTR, "backtest", "--from", T0.isoformat(), "--to", (T0 + 10 * DAY).isoformat(),
         "--select", "score>=1", "--fees-bps", "10", "--json", "--no-progress"],
        env=settings.child_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)

    # By hand. A: bought 1.0 x 1.001, sold at the 2x target 2.0 x 0.999 at day 2.5.
    # B: AAA is held by A, skipped. C: bought 10 x 1.001, sold at -20 % at day 4.5.
    r_a = 2.0 * (1 - FEE) / (1.0 * (1 + FEE)) - 1
    r_c = 8.0 * (1 - FEE) / (10.0 * (1 + FEE)) - 1
    held = 1 / (1 + FEE) - 1  # marked at the entry price, before the exit fee
    c_marked = 9.0 / (10.0 * (1 + FEE)) - 1
    # Day ends 0..10; A and C overlap, so the capital is two stakes.
    pnl = [0, held, held + held, r_a + c_marked, r_a + c_marked] + [r_a + r_c] * 6
    equity = 1 + np.array(pnl) / 2
    returns = equity[1:] / equity[:-1] - 1
    sharpe = returns.mean() / returns.std(ddof=1) * math.sqrt(365)
    drawdown = max(1 - e / max(equity[: i + 1]) for i, e in enumerate(equity))

    assert summary["signals"]["in_range"] == 3
    assert summary["signals"]["after_range"] == 1
    assert summary["labels"]["from_outcomes_topic"] == 4
    assert summary["model"]["mode"] == "none"
    assert set(summary["scorers"]) == {"rules_v0", "green_flags_v1"}
    for row in summary["scorers"].values():
        assert row["trades"] == 2
        assert row["skipped_open_position"] == 1
        assert row["win_rate"] == 0.5
        assert row["target_hit_rate"] == 0.5
        assert math.isclose(row["mean_return"], (r_a + r_c) / 2)
        assert math.isclose(row["median_return"], (r_a + r_c) / 2)
        assert math.isclose(row["profit_factor"], r_a / -r_c)
        assert math.isclose(row["final_equity"], equity[-1])
        assert math.isclose(row["sharpe"], sharpe)
        assert math.isclose(row["max_drawdown"], drawdown)
        assert row["precision"] == 1 / 3  # one 2x among the three selected
        assert row["recall"] == 1.0
        assert row["verdict"]["win_rate_above_60pct"] is False
