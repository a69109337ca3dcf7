"""Unknown context stays NaN (never 0); every feature is finite or NaN, even for extreme input."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
from signal_factory import T0, make_signal

from roostr.features import FEATURE_INDEX, FeatureExtractor, feature_dict
from roostr.features.specs import FEATURES

ALWAYS_KNOWN = {spec.name for spec in FEATURES if spec.missing == "never missing"}


def _features(**fields) -> dict[str, float | None]:
    return feature_dict(FeatureExtractor().advance([make_signal(0, **fields)])[0])


def test_signal_without_context_has_nan_context_features() -> None:
    features = _features(message="TAO looks good")
    for name in (
        "trends_now",
        "trends_rising",
        "trends_peaked",
        "mainstream_news",
        "price_change_7d",
        "log_market_cap",
        "whale_net_flow_slog",
        "whale_accumulating",
        "log_liquidity",
        "smart_money_buying",
        "holder_growth_7d",
        "top10_holder_share",
        "early_attention",
        "whale_x_multisource",
        "reaction_velocity",
        "observation_lag_hours",
        "source_hit_rate",
        "author_hit_rate",
        "author_resolved_signals",
        "hours_since_prev_mention",
        "fire_share",
    ):
        assert features[name] is None, name
    for name in ALWAYS_KNOWN:
        assert features[name] is not None, name


def test_a_partly_filled_block_keeps_its_gaps_as_nan() -> None:
    features = _features(
        onchain={"whale_net_flow_usd": 0.0}, trends={"google_trends_now": 30}, market={}
    )
    assert features["whale_net_flow_slog"] == 0.0  # a known zero stays zero
    assert features["whale_accumulating"] == 0.0
    assert features["log_liquidity"] is None
    assert features["trends_now"] == 30
    assert features["trends_rising"] is None
    assert features["price_change_30d"] is None
    assert features["volume_to_market_cap"] is None


def test_full_context_gives_values() -> None:
    features = _features(
        message="Bittensor mainnet is live",
        reactions={"🔥": 45, "🚀": 22},
        observed_at=T0 + timedelta(hours=2),
        market={"market_cap_usd": 1e9, "volume_24h_usd": 1e8, "price_change_7d": 0.2},
        trends={
            "google_trends_now": 40,
            "google_trends_7d_ago": 20,
            "google_trends_peak_90d": 60,
            "mainstream_news": False,
        },
        onchain={"whale_net_flow_usd": 1e6, "liquidity_usd": 5e7, "top10_holder_share": 0.3},
    )
    assert features["reaction_velocity"] == 67 / 2
    assert features["fire_share"] == np.float32(45 / 67)
    assert features["trends_rising"] == 1.0
    assert features["trends_peaked"] == 0.0
    assert features["early_attention"] == 1.0
    assert features["volume_to_market_cap"] == np.float32(0.1)
    assert features["liquidity_to_market_cap"] == np.float32(0.05)
    assert features["whale_accumulating"] == 1.0


def test_trends_past_their_peak_and_mainstream_are_not_early() -> None:
    features = _features(
        trends={
            "google_trends_now": 30,
            "google_trends_7d_ago": 45,
            "google_trends_peak_90d": 100,
            "mainstream_news": True,
        }
    )
    assert features["trends_peaked"] == 1.0
    assert features["early_attention"] == 0.0


def test_every_feature_is_finite_or_nan_for_extreme_input() -> None:
    extremes = [
        make_signal(
            0,
            message="!" * 20_000,
            reactions={"🔥": 10**9, "x": 0},
            mention_count=10**9,
            observed_at=T0,  # observed the instant it was posted
            market={"market_cap_usd": 0.0, "volume_24h_usd": 1e15, "price_change_7d": -1e6},
            trends={"google_trends_now": 0, "google_trends_7d_ago": 0, "google_trends_peak_90d": 0},
            onchain={"whale_net_flow_usd": -1e15, "liquidity_usd": 1e15},
        ),
        make_signal(1, total_reactions=5, reactions={}, observed_at=T0 - timedelta(hours=1)),
        make_signal(2, message="   ", author="x"),
    ]
    X = FeatureExtractor().advance(extremes)
    assert not np.isinf(X).any()
    assert math.isnan(X[1, FEATURE_INDEX["reaction_velocity"]])  # observed before posted
    assert math.isnan(X[2, FEATURE_INDEX["sentiment_compound"]])
