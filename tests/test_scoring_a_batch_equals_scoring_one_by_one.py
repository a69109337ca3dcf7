"""A batch scores exactly as its signals scored one at a time.

The consumer scores batches: features are computed batch-wide (numpy over the batch for the
context blocks and interactions), one model call per batch. ``Scorer.score_records`` fed one
signal per call is the reference; every record of the batched path must equal it, number for
number, on a fixed corpus with every kind of context (full, partial, missing, zero peaks and
market caps, negative flows) and in every mode.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from scoring_service_support import train_tiny_model

from roostr.contracts import RawSignal
from roostr.features import FeatureExtractor
from roostr.registry import ModelRegistry
from roostr.scoring import Scorer
from roostr.synthetic.stream import synthetic_signals

SCORED_AT = datetime(2026, 3, 1, tzinfo=UTC)


def _corpus() -> list[RawSignal]:
    """Synthetic signals over a few tickers, every fourth with its context cut differently."""
    variants: list[dict[str, Any]] = [
        {"trends": None, "market": None, "onchain": None},
        {"trends": {"google_trends_now": 40.0, "google_trends_peak_90d": 0.0}},
        {"market": {"market_cap_usd": 0.0, "volume_24h_usd": 5e6}},
        {"onchain": {"whale_net_flow_usd": -2.5e5, "liquidity_usd": 0.0}},
        {
            "trends": {
                "google_trends_now": 70.0,
                "google_trends_7d_ago": 70.0,
                "google_trends_peak_90d": 90.0,
            }
        },
        {"observed_at": None, "author": None, "reactions": {}},
        {"market": {"price_change_7d": 0.1}, "onchain": {"smart_money_inflow_usd": 0.0}},
    ]
    signals = []
    for i, document in enumerate(synthetic_signals(280, tickers=9, seed=5, prefix="batch")):
        if i % 4 == 0:
            document |= variants[(i // 4) % len(variants)]
        signals.append(RawSignal.model_validate(document))
    return signals


def _json(records: list[Any]) -> list[Any]:
    """Records as their encoded JSON reads back (what a reader of signals.scored sees)."""
    assert all(isinstance(r, dict) for r in records), "a corpus signal was not scored"
    return [orjson.loads(orjson.dumps(r)) for r in records]


@pytest.mark.parametrize("mode", ["rules", "hybrid", "ml"])
def test_batches_score_like_one_signal_at_a_time(mode: str, tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    train_tiny_model(registry, seed=2)
    model = registry.load()
    signals = _corpus()

    reference = Scorer(FeatureExtractor(), model, mode)  # type: ignore[arg-type]
    one_by_one = [r for s in signals for r in reference.score_records([s], SCORED_AT)]

    batched = Scorer(FeatureExtractor(), model, mode)  # type: ignore[arg-type]
    sizes = [1, 7, 50, 222]  # uneven batches, as a consumer's fetches are
    records, start = [], 0
    for size in sizes:
        records += batched.score_records(signals[start : start + size], SCORED_AT)
        start += size
    assert start == len(signals)

    assert _json(records) == _json(one_by_one)
    features = [r["features"] for r in _json(records)]
    # The cut context really is in the corpus, and unknown stays unknown (never 0).
    assert any(f["trends_peak_ratio"] is None and f["trends_now"] == 40.0 for f in features)
    assert any(f["volume_to_market_cap"] is None and f["log_volume_24h"] for f in features)
    outflows = [f for f in features if (f["whale_net_flow_slog"] or 0) < 0]
    assert outflows and all(f["whale_accumulating"] == 0 for f in outflows)
    assert any(f["trends_rising"] == 0 and f["early_attention"] is None for f in features)
