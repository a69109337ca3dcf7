"""Synthetic RawSignal JSON (~1 KB, every context block filled) for the benchmark and tests.

Deterministic for a given seed. Each ticker has its own source and author, so cross-ticker
feature state (per source / per author) is partitioned like the tickers are.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import orjson

__all__ = ["encoded", "synthetic_signals"]

_WORDS = ("accumulating", "conviction", "breakout", "thesis", "partnership", "mainnet",
          "staking", "whales", "buying", "undervalued", "narrative", "catalyst", "roadmap",
          "listing", "airdrop", "momentum", "volume", "liquidity")  # fmt: skip
_EMOJI = ("🔥", "🚀", "💎", "👀", "✅")


def synthetic_signals(
    count: int, tickers: int = 50, seed: int = 7, start: datetime | None = None, prefix: str = "syn"
) -> Iterator[dict]:
    """``count`` valid RawSignal documents, posted a minute apart, spread over ``tickers``."""
    rng = random.Random(seed)
    start = start or datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(count):
        t = rng.randrange(tickers)
        posted = start + timedelta(minutes=i)
        words = " ".join(rng.choice(_WORDS) for _ in range(30))
        yield {
            "signal_id": f"{prefix}:{seed}:{i}",
            "ticker": f"TK{t}",
            "source": f"Yieldschool-{t % 7}-{t}",
            "channel": "yieldhub",
            "author": f"author-{t}",
            "url": f"https://example.invalid/messages/{seed}/{i}",
            "message": f"$TK{t} {words}",
            "reactions": {e: rng.randrange(0, 60) for e in _EMOJI},
            "dan_endorsed": rng.random() < 0.2,
            "mention_count": rng.randrange(0, 8),
            "posted_at": posted.isoformat(),
            "observed_at": (posted + timedelta(seconds=5)).isoformat(),
            "asset_class": "crypto",
            "price_usd": round(rng.uniform(0.01, 50), 4),
            "market": {
                "market_cap_usd": rng.uniform(1e6, 5e9),
                "volume_24h_usd": rng.uniform(1e5, 1e8),
                "price_change_7d": rng.uniform(-0.5, 1.0),
                "price_change_30d": rng.uniform(-0.8, 3.0),
                "ath_distance": rng.uniform(-0.99, 0.0),
            },
            "trends": {
                "google_trends_now": rng.uniform(0, 100),
                "google_trends_7d_ago": rng.uniform(0, 100),
                "google_trends_peak_90d": 100.0,
                "mainstream_news": rng.random() < 0.1,
            },
            "onchain": {
                "whale_net_flow_usd": rng.uniform(-1e6, 1e6),
                "liquidity_usd": rng.uniform(1e4, 1e8),
                "smart_money_inflow_usd": rng.uniform(-1e5, 1e6),
                "holder_growth_7d": rng.uniform(-0.1, 0.5),
                "top10_holder_share": rng.uniform(0.1, 0.9),
            },
        }


def encoded(signal: dict) -> tuple[bytes, bytes]:
    """(key, value) as a scraper shim produces them."""
    return signal["ticker"].encode(), orjson.dumps(signal)
