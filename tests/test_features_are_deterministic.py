"""Same events in the same order → the same matrix, whether featurised in batches or one by one."""

from __future__ import annotations

import random
from datetime import timedelta

import numpy as np
from signal_factory import T0, make_outcome, make_signal

from roostr.features import FEATURE_NAMES, FeatureExtractor

MESSAGES = (
    "High conviction on $TAO. Dan is accumulating, mainnet is live 🔥",
    "Guaranteed 100x presale!!! get in now 🚀🚀🚀",
    "Roadmap says v2 coming soon",
    "",
    "Partnership announced, listing next week: catalyst",
)


def _stream(n: int = 120, seed: int = 3):
    rng = random.Random(seed)
    signals = []
    for i in range(n):
        # mostly in order, some late arrivals, a few redeliveries of earlier signal ids
        minutes = i * 20 - (rng.randrange(600) if rng.random() < 0.15 else 0)
        ident = rng.randrange(i) if i and rng.random() < 0.05 else i
        signals.append(
            make_signal(
                ident,
                ticker=rng.choice(["TAO", "ASTS", "PEPE"]),
                source=rng.choice(["YieldHub", "Alpha", "Degens", "Whales"]),
                author=rng.choice(["dan", "ana", None]),
                message=rng.choice(MESSAGES),
                reactions={"🔥": rng.randrange(30), "🚀": rng.randrange(10)},
                dan_endorsed=rng.random() < 0.2,
                posted_at=T0 + timedelta(minutes=minutes),
                observed_at=T0 + timedelta(minutes=minutes + 30) if rng.random() < 0.7 else None,
                trends={"google_trends_now": 50, "google_trends_7d_ago": rng.randrange(100)},
            )
        )
    return signals


def _with_outcomes(extractor: FeatureExtractor, signals) -> FeatureExtractor:
    for signal in signals[:10]:
        extractor.record_outcome(
            make_outcome(
                signal, won=signal.dan_endorsed, hit_at=signal.posted_at + timedelta(days=2)
            )
        )
    return extractor


def test_replaying_the_same_order_recomputes_the_same_matrix() -> None:
    signals = _stream()
    first = _with_outcomes(FeatureExtractor(), signals).advance(signals)
    second = _with_outcomes(FeatureExtractor(), signals).advance(signals)
    assert first.dtype == np.float32
    assert first.shape == (len(signals), len(FEATURE_NAMES))
    np.testing.assert_array_equal(first, second)


def test_batch_equals_one_by_one_and_uneven_batches() -> None:
    signals = _stream()
    batch = _with_outcomes(FeatureExtractor(), signals).advance(signals)
    one_by_one = _with_outcomes(FeatureExtractor(), signals)
    singles = np.vstack([one_by_one.advance([s]) for s in signals])
    chunked = _with_outcomes(FeatureExtractor(), signals)
    chunks = np.vstack([chunked.advance(signals[i : i + 7]) for i in range(0, len(signals), 7)])
    np.testing.assert_array_equal(batch, singles)
    np.testing.assert_array_equal(batch, chunks)


def test_observe_then_advance_equals_advancing_through_everything() -> None:
    """The consumer's warm-up: observing the history gives the state advancing through it would."""
    signals = _stream()
    everything = FeatureExtractor().advance(signals)
    warmed = FeatureExtractor()
    warmed.observe(signals[:80])
    np.testing.assert_array_equal(warmed.advance(signals[80:]), everything[80:])


def test_a_redelivered_signal_is_counted_once() -> None:
    extractor = FeatureExtractor()
    signal = make_signal(0, ticker="ASTS")
    first, again = extractor.advance([signal, signal])
    np.testing.assert_array_equal(first, again)
    assert first[FEATURE_NAMES.index("mentions_24h")] == 1


def test_an_empty_batch_gives_an_empty_matrix() -> None:
    assert FeatureExtractor().advance([]).shape == (0, len(FEATURE_NAMES))
