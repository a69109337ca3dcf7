"""Two backtests of the same topic contents with the same arguments give the same report and
summary, byte for byte (no clock, no read order, no matplotlib metadata leaks in)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import ROOSTR
from scoring_service_support import publish, train_tiny_model

from roostr.registry import ModelRegistry
from roostr.settings import Settings
from roostr.synthetic.world import generate_world


def test_two_runs_write_identical_reports(settings: Settings, tmp_path: Path) -> None:
    world = generate_world(400, seed=5, span_days=120)
    tickers = sorted({s.ticker for s in world.signals})[:25]
    signals = [s for s in world.signals if s.ticker in tickers]
    publish(settings, settings.topic_raw, signals)
    publish(settings, settings.topic_prices, [t for n in tickers for t in world.prices[n].ticks()])
    version = train_tiny_model(ModelRegistry(settings.registry_dir), seed=3)

    outputs = []
    for run in ("first", "second"):
        result = subprocess.run(
            [*ROOSTR, "backtest", "--from", "2024-02-15", "--to", "2024-05-01",
             "--report", str(tmp_path / run), "--json", "--no-progress"],
            env=settings.child_env(), capture_output=True, timeout=300,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr.decode()
        outputs.append(result.stdout)
    first, second = tmp_path / "first", tmp_path / "second"
    assert outputs[0] == outputs[1]
    assert (first / "backtest.json").read_bytes() == outputs[0]
    assert (first / "backtest.html").read_bytes() == (second / "backtest.html").read_bytes()
    assert (first / "backtest.json").read_bytes() == (second / "backtest.json").read_bytes()
    files = sorted(p.name for p in first.iterdir())
    assert {"trades.csv", "trades.parquet", "equity.csv", "equity.parquet"} <= set(files)
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    text = outputs[0].decode()
    assert f'"version": "{version}"' in text
    assert '"ml"' in text and '"hybrid"' in text  # the model scored: all scorers compared
