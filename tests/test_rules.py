"""Rule scores: rules_v0 reproduces the seed's heuristic; green_flags_v1 prefers green flags."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from signal_factory import T0, make_outcome, make_signal

from roostr.features import FeatureExtractor
from roostr.rules import RULE_SETS, rule_scores

TAO = {
    "ticker": "TAO",
    "message": "High conviction on $TAO. Dan is accumulating. Thesis: decentralised AI, "
    "Bittensor mainnet is live and working 🔥",
    "reactions": {"🔥": 45, "🚀": 22},
    "dan_endorsed": True,
    "mention_count": 3,
}
ASTS = {
    "ticker": "ASTS",
    "source": "Yieldschool-Stocks",
    "message": "ASTS: satellites are launching, the thesis is direct-to-cell coverage",
    "reactions": {"🔥": 12},
    "asset_class": "equity",
}
SHILL = {
    "ticker": "MOONX",
    "source": "random-telegram",
    "message": "GUARANTEED 100x!!! presale ends soon, get in now, roadmap coming soon 🚀🚀🚀",
    "reactions": {"🚀": 300},
    "trends": {
        "google_trends_now": 40,
        "google_trends_7d_ago": 90,
        "google_trends_peak_90d": 100,
        "mainstream_news": True,
    },
    "onchain": {"whale_net_flow_usd": -2e6, "top10_holder_share": 0.85},
}


def _scores(rule_set: str, *fields: dict) -> np.ndarray:
    signals = [make_signal(i, **f) for i, f in enumerate(fields)]
    return rule_scores(rule_set, signals, FeatureExtractor().advance(signals))


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (TAO, 10),  # 🔥 +1, Dan +2, thesis +1 = 4 points
        (ASTS, 6),  # 🔥 +1, thesis +1 = 2 points
        ({**TAO, "message": "Dan likes it"}, 8),  # 🔥 +1, Dan +2 = 3
        ({"reactions": {"🚀": 5}, "message": "thesis"}, 3),  # thesis only = 1
        ({"message": "gm"}, 1),  # nothing = 0
    ],
)
def test_rules_v0_reproduces_the_seed_heuristic(fields: dict, expected: int) -> None:
    assert _scores("rules_v0", fields).tolist() == [expected]


def test_green_flags_rank_an_early_endorsed_call_above_a_shill() -> None:
    green = {
        **TAO,
        "trends": {
            "google_trends_now": 45,
            "google_trends_7d_ago": 20,
            "google_trends_peak_90d": 50,
            "mainstream_news": False,
        },
        "onchain": {"whale_net_flow_usd": 3e6, "smart_money_inflow_usd": 1e6},
    }
    green_score, shill_score = _scores("green_flags_v1", green, SHILL)
    assert green_score >= 9
    assert shill_score <= 2
    assert _scores("rules_v0", SHILL).tolist() == [1]


def test_a_proven_source_outranks_a_better_written_thesis_from_an_unproven_one() -> None:
    extractor = FeatureExtractor()
    for i in range(4):
        past = make_signal(100 + i, source="proven")
        extractor.record_outcome(make_outcome(past, won=True, hit_at=T0 + timedelta(days=1)))
    later = T0 + timedelta(days=32)  # their horizons ended: a track record
    proven = make_signal(1, source="proven", ticker="A", message="buying", posted_at=later)
    unproven = make_signal(
        2, source="new", ticker="B", message="thesis: undervalued, fundamentals", posted_at=later
    )
    X = extractor.advance([proven, unproven])
    proven_score, unproven_score = rule_scores("green_flags_v1", [proven, unproven], X)
    assert proven_score > unproven_score


def test_green_flags_prefer_early_over_late_and_product_over_promises() -> None:
    early = {
        "trends": {"google_trends_now": 40, "google_trends_7d_ago": 10, "mainstream_news": False}
    }
    late = {
        "trends": {"google_trends_now": 40, "google_trends_7d_ago": 10, "mainstream_news": True}
    }
    product = {"message": "mainnet is live, real users"}
    promises = {"message": "roadmap says coming soon, see the whitepaper"}
    early_score, late_score, product_score, promise_score = _scores(
        "green_flags_v1", early, late, product, promises
    )
    assert early_score > late_score
    assert product_score > promise_score


def test_every_rule_set_scores_within_1_to_10_including_unknowns() -> None:
    X = FeatureExtractor().advance([make_signal(i) for i in range(3)])
    extreme = np.vstack([X, np.full_like(X[:1], np.nan), np.full_like(X[:1], 1e9)])
    extreme[-1, :] = np.where(np.arange(X.shape[1]) % 2, -1e9, 1e9)
    signals = [make_signal(i) for i in range(len(extreme))]
    for name in RULE_SETS:
        scores = rule_scores(name, signals, extreme)
        assert scores.dtype.kind == "i"
        assert ((scores >= 1) & (scores <= 10)).all()


def test_unknown_rule_set_and_mismatched_matrix_are_refused() -> None:
    signals = [make_signal(0)]
    X = FeatureExtractor().advance(signals)
    with pytest.raises(ValueError, match="unknown rule set"):
        rule_scores("vibes", signals, X)
    with pytest.raises(ValueError, match="does not match"):
        rule_scores("rules_v0", signals * 2, X)
