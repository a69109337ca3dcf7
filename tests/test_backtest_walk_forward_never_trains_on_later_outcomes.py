"""Walk-forward retraining learns, before each test window, only from outcomes matured before
that window starts (their whole horizon ended): never from the future, and never from the early
wins of signals whose losses are still pending."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from signal_factory import T0, make_outcome, make_signal

from roostr.contracts import Outcome
from roostr.labels import matured_at
from roostr.settings import Settings
from roostr.synthetic.world import START, generate_world
from training.backtest import walk_forward as walk_forward_module
from training.backtest.engine import BacktestConfig, run_backtest
from training.backtest.inputs import BacktestInputs
from training.backtest.replay_signals import ReplaySignals
from training.backtest.selection import parse_selection
from training.backtest.tick_columns import TickColumns
from training.backtest.walk_forward import WalkForward

DAY = timedelta(days=1)


def test_training_set_holds_only_outcomes_matured_before_the_window() -> None:
    window = T0 + 100 * DAY
    early_win = make_signal(1, posted_at=window - 20 * DAY)
    open_loss = make_signal(2, posted_at=window - 20 * DAY)  # resolves at window + 10 days
    late_win = make_signal(3, posted_at=window - 3 * DAY)
    closed_loss = make_signal(4, posted_at=window - 40 * DAY)  # resolved at window - 10 days
    too_old = make_signal(5, posted_at=window - 200 * DAY)
    outcomes = [
        make_outcome(early_win, won=True, hit_at=window - 5 * DAY),
        make_outcome(open_loss, won=False),
        make_outcome(late_win, won=True, hit_at=window + DAY),
        make_outcome(closed_loss, won=False),
        make_outcome(too_old, won=True, hit_at=window - 190 * DAY),
    ]
    chosen = WalkForward(train_window=180 * DAY).training_outcomes(outcomes, window)
    # the early win is decided but its horizon is still open, like the pending loss beside it
    assert [o.signal_id for o in chosen] == [closed_loss.signal_id]


def test_every_window_model_saw_only_the_past(monkeypatch: pytest.MonkeyPatch) -> None:
    world = generate_world(900, seed=4, span_days=240)
    seen: list[tuple[str, list[Outcome]]] = []
    real = walk_forward_module.labelled_for_retrain

    def spy(outcomes: list[Outcome], settings: Settings, *, source: str, cutoff: datetime):  # type: ignore[no-untyped-def]
        seen.append((source, list(outcomes)))
        return real(outcomes, settings, source=source, cutoff=cutoff)

    monkeypatch.setattr(walk_forward_module, "labelled_for_retrain", spy)
    ticks = TickColumns.from_ticks(t for path in world.prices.values() for t in path.ticks())
    config = BacktestConfig(
        START + 120 * DAY, START + 240 * DAY, parse_selection("top10%"),
        walk_forward=WalkForward(every=30 * DAY, train_window=120 * DAY),
    )  # fmt: skip
    result = run_backtest(
        BacktestInputs(ReplaySignals.in_memory(world.signals), [], ticks),
        config,
        Settings(retrain_min_outcomes=100),
    )

    windows = result.summary["walk_forward"]
    assert [w["window_start"] for w in windows] == [
        (START + d * DAY).isoformat() for d in (120, 150, 180, 210)
    ]
    assert len(seen) == 4 and all(w["model_version"] for w in windows)
    for (_source, outcomes), window in zip(seen, windows, strict=True):
        start = START + (windows.index(window) * 30 + 120) * DAY
        matured = [matured_at(o) for o in outcomes]
        assert max(matured) <= start
        assert min(o.posted_at for o in outcomes) >= start - 120 * DAY
        # the cut is at the window start, not far before it: the latest matured ones are used
        assert max(matured) > start - 2 * DAY
        assert window["train_outcomes"] == len(outcomes)
        assert window["immature"] > 0  # the last 30 days' early wins were left out
    assert "ml" in result.summary["scorers"]
