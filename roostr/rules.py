"""Rule-based conviction scores (1–10), computed from the feature matrix, vectorised per batch.

``rules_v0`` — the seed's heuristic, exactly: +1 if the message has any 🔥 reaction, +2 if Dan
endorsed it, +1 if it contains thesis keywords. The raw points 0..4 map linearly onto the score
scale, ``score = floor(1 + 9 * points / 4 + 0.5)`` (round half up), so 0→1, 1→3, 2→6, 3→8, 4→10:
no points is the lowest score, all points the highest.

``green_flags_v1`` — the seed's "Key learnings" as weighted flags:

* green flags outweigh red flags: red-flag points are damped as green points grow
  (``red × max(0.25, 1 - green / 8)``), so a strong enough case survives a hype word or two;
* source credibility over thesis quality: Dan (+3) and a proven source / author track record
  (+2 / +1) weigh more than thesis words (+0.5);
* early over on-time: Google Trends rising, not peaked and not in mainstream news is +1.5;
  peaked or mainstream is a red flag (we are late);
* product working over promises: more working-product words than promise words is +1, the
  reverse is a red flag.

``score = clip(floor(2 + green - damped_red + 0.5), 1, 10)``: a signal with no flags at all
scores 2 (avoid). Unknown context (NaN) raises no flag either way.
"""

from __future__ import annotations

from collections.abc import Callable, Sized
from dataclasses import dataclass

import numpy as np

from roostr.features import FEATURE_INDEX, FEATURE_NAMES

__all__ = ["DEFAULT_RULE_SET", "RULE_SETS", "RuleSet", "rule_scores"]

TRACK_RECORD_MIN_OUTCOMES = 3  # fewer resolved outcomes than this is not a track record yet
DEFAULT_RULE_SET = "green_flags_v1"  # what the scorer and the model's rule input use by default


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A named scoring rule: feature matrix (n, F) → integer scores (n,) in 1..10."""

    name: str
    description: str
    score: Callable[[np.ndarray], np.ndarray]


def _columns(X: np.ndarray) -> Callable[[str], np.ndarray]:
    return lambda name: X[:, FEATURE_INDEX[name]]


def _round_half_up(values: np.ndarray) -> np.ndarray:
    return np.floor(values + 0.5).astype(np.int64)


def _rules_v0(X: np.ndarray) -> np.ndarray:
    col = _columns(X)
    points = (
        (col("fire_reactions") > 0) * 1
        + (col("dan_endorsed") > 0) * 2
        + (col("thesis_keywords") > 0) * 1
    )
    return _round_half_up(1 + 9 * points / 4)


def _green_flags_v1(X: np.ndarray) -> np.ndarray:
    col = _columns(X)
    source_known = col("source_resolved_signals") >= TRACK_RECORD_MIN_OUTCOMES
    author_known = col("author_resolved_signals") >= TRACK_RECORD_MIN_OUTCOMES
    product, vaporware = col("product_terms"), col("vaporware_terms")
    green = (
        3.0 * (col("dan_endorsed") > 0)
        + 2.0 * (source_known & (col("source_hit_rate") >= 0.5))
        + 1.0 * (author_known & (col("author_hit_rate") >= 0.5))
        + 1.0 * (col("sources_7d") >= 2)
        + 1.0 * (col("sources_7d") >= 3)
        + 1.0 * (col("whale_net_flow_slog") > 0)
        + 1.0 * (col("smart_money_inflow_slog") > 0)
        + 0.5 * (col("holder_growth_7d") > 0.05)
        + 1.5 * (col("early_attention") == 1)
        + 1.0 * (product > vaporware)
        + 0.5 * (col("fire_reactions") > 0)
        + 0.5 * (col("total_reactions") >= 50)
        + 0.5 * (col("thesis_keywords") > 0)
    )
    red = (
        np.clip(np.nan_to_num(col("red_flag_words")), 0.0, 3.0)  # unknown: no flag
        + 1.0 * (col("mainstream_news") == 1)
        + 1.0 * (col("trends_peaked") == 1)
        + 1.0 * (vaporware > product)
        + 1.0 * (col("top10_holder_share") > 0.6)
        + 1.5 * (source_known & (col("source_hit_rate") < 0.3))
    )
    damped_red = red * np.maximum(0.25, 1.0 - green / 8.0)
    return np.clip(_round_half_up(2.0 + green - damped_red), 1, 10)


RULE_SETS: dict[str, RuleSet] = {
    rule.name: rule
    for rule in (
        RuleSet("rules_v0", "the seed's heuristic: 🔥 +1, Dan +2, thesis +1", _rules_v0),
        RuleSet("green_flags_v1", "the seed's key learnings as weighted flags", _green_flags_v1),
    )
}


def rule_scores(rule_set: str, signals: Sized, X: np.ndarray) -> np.ndarray:
    """Scores (n,) int64 in 1..10 for ``signals`` whose features are the rows of ``X`` (the rules
    read the features only; a backtest passes what it keeps of its signals)."""
    try:
        rule = RULE_SETS[rule_set]
    except KeyError:
        raise ValueError(f"unknown rule set {rule_set!r}; known: {sorted(RULE_SETS)}") from None
    if X.shape != (len(signals), len(FEATURE_NAMES)):
        raise ValueError(
            f"feature matrix shape {X.shape} does not match {len(signals)} signals "
            f"x {len(FEATURE_NAMES)} features"
        )
    return rule.score(X)
