"""Feature extraction cost in µs per signal (the consumer's whole budget is ~100 µs/signal).

    python benchmarks/features_bench.py [--signals 20000] [--unique-share 0.3]

Signals are synthetic but shaped like chat scrapes: 300 tickers, 12 sources, 80 authors, most
with some context blocks, a share of messages repeated verbatim (forwards, bots, re-scrapes).
Reports batch ``advance`` and one-by-one ``advance([s])``, with the sentiment cache cold
(every message new) and with the given share of unique texts, then the uncached text features
alone (keywords, shape, sentiment) and VADER's own ``polarity_scores`` on the same messages.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from roostr.contracts import Market, OnChain, RawSignal, Trends
from roostr.features import FeatureExtractor
from roostr.features.text import _cached, _compute, sentiment_scorer, text_features

PHRASES = (
    "High conviction on ${t}. Dan is accumulating.",
    "Mainnet is live and working, real users, revenue growing 🔥",
    "Guaranteed 100x presale, get in now before it moons!!! 🚀🚀",
    "Roadmap says v2 coming soon, whitepaper looks ambitious",
    "New partnership and exchange listing next week, big catalyst",
    "Undervalued vs peers, thesis: the narrative is just starting",
    "Whales loading ${t}, chart looks bullish",
    "Not sure about ${t}, tokenomics look heavy with the unlock",
)


def make_signals(n: int, unique_share: float, seed: int = 7) -> list[RawSignal]:
    """``n`` signals in event-time order; about ``unique_share`` of them have a new text."""
    rng = random.Random(seed)
    start = datetime(2026, 2, 1, tzinfo=UTC)
    texts: list[str] = []
    signals = []
    for i in range(n):
        ticker = f"T{rng.randrange(300)}"
        if not texts or rng.random() < unique_share:
            words = rng.sample(PHRASES, 2)
            texts.append(f"{' '.join(words).replace('{t}', ticker)} #{i}")
        posted = start + timedelta(seconds=30 * i)
        signals.append(
            RawSignal(
                signal_id=f"bench:{i}",
                ticker=ticker,
                source=f"group-{rng.randrange(12)}",
                author=f"user{rng.randrange(80)}",
                message=rng.choice(texts),
                reactions={
                    "🔥": rng.randrange(50),
                    "🚀": rng.randrange(30),
                    "👀": rng.randrange(5),
                },
                dan_endorsed=rng.random() < 0.1,
                mention_count=rng.randrange(10),
                posted_at=posted,
                observed_at=posted + timedelta(minutes=rng.randrange(1, 600)),
                market=Market(market_cap_usd=rng.uniform(1e6, 1e10), price_change_7d=0.1),
                trends=Trends(google_trends_now=40, google_trends_7d_ago=25)
                if rng.random() < 0.7
                else None,
                onchain=OnChain(whale_net_flow_usd=rng.uniform(-1e6, 1e6))
                if rng.random() < 0.5
                else None,
            )
        )
    return signals


def _us_per_signal(
    run: Callable[[FeatureExtractor, Sequence[RawSignal]], object], signals
) -> float:
    _cached.cache_clear()
    extractor = FeatureExtractor()
    began = time.perf_counter()
    run(extractor, signals)
    return (time.perf_counter() - began) / len(signals) * 1e6


def _batches(extractor: FeatureExtractor, signals: Sequence[RawSignal], size: int = 500) -> None:
    for i in range(0, len(signals), size):
        extractor.advance(signals[i : i + size])


def _one_by_one(extractor: FeatureExtractor, signals: Sequence[RawSignal]) -> None:
    for signal in signals:
        extractor.advance([signal])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", type=int, default=20_000)
    parser.add_argument("--unique-share", type=float, default=0.3)
    args = parser.parse_args()
    text_features("warm up: load the VADER lexicon")
    for label, share in (
        ("all texts new", 1.0),
        (f"{args.unique_share:.0%} texts new", args.unique_share),
    ):
        signals = make_signals(args.signals, share)
        batch = _us_per_signal(_batches, signals)
        single = _us_per_signal(_one_by_one, signals)
        print(f"{label:>16}: batch {batch:6.1f} µs/signal   one-by-one {single:6.1f} µs/signal")
    messages = [s.message for s in make_signals(2_000, 1.0)]
    vader = sentiment_scorer().analyser.polarity_scores
    for label, run in (("text features", _compute), ("VADER itself", vader)):
        began = time.perf_counter()
        for message in messages:
            run(message)
        cost = (time.perf_counter() - began) / len(messages) * 1e6
        print(f"{label:>16}: {cost:6.1f} µs/message (uncached)")


if __name__ == "__main__":
    main()
