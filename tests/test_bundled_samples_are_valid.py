"""The bundled sample signals and prices validate, cover the window and can be regenerated."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from roostr.contracts import PriceTick, RawSignal
from roostr.synthetic import sample

SIGNALS = sample.DATA_DIR / "sample_signals.jsonl"
PRICES = sample.DATA_DIR / "sample_prices.jsonl"


def test_every_bundled_line_is_a_valid_record() -> None:
    signals = [RawSignal.model_validate_json(line) for line in SIGNALS.open(encoding="utf-8")]
    prices = [PriceTick.model_validate_json(line) for line in PRICES.open(encoding="utf-8")]
    assert 250 <= len(signals) <= 400
    assert len({s.signal_id for s in signals}) == len(signals)
    assert {s.source for s in signals} == {"Yieldschool-YieldHub", "Telegram", "X"}
    assert any(s.dan_endorsed for s in signals) and any(s.market is None for s in signals)
    span = max(s.posted_at for s in signals) - min(s.posted_at for s in signals)
    assert timedelta(days=80) < span <= timedelta(days=90)
    last_price = max(p.ts for p in prices)
    assert last_price >= max(s.posted_at for s in signals) + timedelta(days=30)
    assert {s.ticker for s in signals} <= {p.ticker for p in prices}
    assert SIGNALS.stat().st_size + PRICES.stat().st_size < 1_000_000


def test_some_tickers_double_within_the_window() -> None:
    by_ticker: dict[str, list[float]] = {}
    for line in PRICES.open(encoding="utf-8"):
        tick = PriceTick.model_validate_json(line)
        by_ticker.setdefault(tick.ticker, []).append(tick.price_usd)
    doubled = [t for t, series in by_ticker.items() if max(series) >= 2 * series[0]]
    assert 2 <= len(doubled) < len(by_ticker)


def test_the_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    sample.main(tmp_path)
    assert (tmp_path / SIGNALS.name).read_bytes() == SIGNALS.read_bytes()
    assert (tmp_path / PRICES.name).read_bytes() == PRICES.read_bytes()
