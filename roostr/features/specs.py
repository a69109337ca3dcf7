"""The feature catalogue: every column of the feature matrix, in order, with what it means.

This table is the contract between the extractor (which emits columns in exactly this order),
the model (which is trained on them) and ``docs/FEATURES.md`` (generated from it). The names, in
order, are part of the feature-set version (``roostr.features.version``); the prose is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "FEATURES",
    "FEATURE_INDEX",
    "FEATURE_NAMES",
    "GROUP_TITLES",
    "FeatureSpec",
    "Group",
]

Group = Literal["source", "social", "timing", "onchain", "fundamentals", "interaction"]

GROUP_TITLES: dict[Group, str] = {
    "source": "Source credibility",
    "social": "Social conviction",
    "timing": "Market timing",
    "onchain": "On-chain",
    "fundamentals": "Fundamentals",
    "interaction": "Interactions",
}

# Missing-value rules used by several features, spelled once.
NEVER = "never missing"
NO_CONTEXT_MARKET = "NaN when `market` or this field is absent"
NO_CONTEXT_TRENDS = "NaN when `trends` or this field is absent"
NO_CONTEXT_ONCHAIN = "NaN when `onchain` or this field is absent"
NO_TEXT = "0 for an empty message (no text, no hits)"


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """One column: its name, its group, what it measures and what NaN means for it."""

    name: str
    group: Group
    meaning: str
    missing: str


def _specs(group: Group, *rows: tuple[str, str, str]) -> tuple[FeatureSpec, ...]:
    return tuple(FeatureSpec(name, group, meaning, missing) for name, meaning, missing in rows)


FEATURES: tuple[FeatureSpec, ...] = (
    *_specs(
        "source",
        ("dan_endorsed", "1 when Dan endorsed the call, else 0", NEVER),
        (
            "source_hit_rate",
            "share of this source's signals that reached 2x, over the outcomes matured (whole "
            "30-day horizon ended) a day before this signal's posted_at, shrunk toward the "
            "global matured rate by a Beta prior of 30 outcomes",
            "NaN when no outcome of any source had matured by then",
        ),
        ("source_resolved_signals", "how many matured outcomes of the source there were", NEVER),
        (
            "author_hit_rate",
            "as `source_hit_rate`, for the message's author (across sources), shrunk toward "
            "`source_hit_rate`",
            "NaN when the author is unknown or no outcome had matured by then",
        ),
        (
            "author_resolved_signals",
            "how many matured outcomes of the author there were",
            "NaN when the author is unknown",
        ),
        (
            "sources_24h",
            "distinct sources that mentioned the ticker in [posted_at - 24 h, posted_at], "
            "this signal included",
            NEVER,
        ),
        ("sources_7d", "as `sources_24h` over 7 days", NEVER),
        ("multi_source", "1 when `sources_7d` >= 2, else 0", NEVER),
        (
            "mentions_24h",
            "signals about the ticker in [posted_at - 24 h, posted_at], this one included",
            NEVER,
        ),
        ("mentions_7d", "as `mentions_24h` over 7 days", NEVER),
        ("mention_count", "mention count reported by the scraper", NEVER),
        ("log_mention_count", "ln(1 + mention_count)", NEVER),
    ),
    *_specs(
        "social",
        ("total_reactions", "all reactions on the message", NEVER),
        ("log_total_reactions", "ln(1 + total_reactions)", NEVER),
        ("fire_reactions", "🔥 reactions (also `:fire:`, `fire`)", NEVER),
        ("rocket_reactions", "🚀 reactions (also `:rocket:`, `rocket`)", NEVER),
        ("fire_share", "🔥 / total reactions", "NaN when there are no reactions"),
        ("rocket_share", "🚀 / total reactions", "NaN when there are no reactions"),
        (
            "top_emoji_share",
            "share of the most used reaction (1 = one emoji only)",
            "NaN when there are no reactions",
        ),
        ("distinct_emojis", "how many different reactions have a count > 0", NEVER),
        (
            "reaction_velocity",
            "reactions per hour between posted_at and observed_at (elapsed time floored at one "
            "minute)",
            "NaN when observed_at is absent or earlier than posted_at",
        ),
        (
            "log_reaction_velocity",
            "ln(1 + reaction_velocity)",
            "NaN when observed_at is absent or earlier than posted_at",
        ),
        ("message_chars", "message length in characters", NEVER),
        ("message_words", "message length in words", NEVER),
        ("exclamation_ratio", "'!' per character", "NaN for an empty message"),
        ("caps_ratio", "upper-case share of the letters", "NaN when the message has no letters"),
        ("hype_emojis_in_text", "🔥 🚀 💎 🌕 🌙 📈 💯 🙌 characters in the message text", NEVER),
        (
            "sentiment_compound",
            "VADER compound sentiment (-1..1) of the first 1,000 characters, lexicon adapted to "
            "trading slang (conviction, bullish, rug…)",
            "NaN for an empty message",
        ),
        ("sentiment_positive", "VADER positive share (0..1)", "NaN for an empty message"),
        ("sentiment_negative", "VADER negative share (0..1)", "NaN for an empty message"),
        ("thesis_keywords", "hits of thesis words (thesis, fundamentals, undervalued…)", NO_TEXT),
        (
            "conviction_keywords",
            "hits of conviction words (high conviction, accumulating, loading…)",
            NO_TEXT,
        ),
        (
            "red_flag_words",
            "hits of shill red flags (presale, guaranteed, 100x, risk free…)",
            NO_TEXT,
        ),
        ("cashtags_in_text", "$TICKER cashtags in the message (many = scattershot shill)", NO_TEXT),
    ),
    *_specs(
        "timing",
        ("trends_now", "Google Trends interest now (0..100)", NO_CONTEXT_TRENDS),
        (
            "trends_slope_7d",
            "(trends_now - trends_7d_ago) / 7, points per day",
            "NaN when either Trends value is absent",
        ),
        (
            "trends_rising",
            "1 when trends_now > trends_7d_ago, else 0",
            "NaN when either Trends value is absent",
        ),
        (
            "trends_peak_ratio",
            "trends_now / 90-day peak (1 = at the peak now)",
            "NaN when either value is absent or the peak is 0",
        ),
        (
            "trends_peaked",
            "1 when interest is at most 80 % of its 90-day peak and not rising (attention has "
            "passed its high), else 0",
            "NaN when any of the three Trends values is absent or the peak is 0",
        ),
        ("mainstream_news", "1 when mainstream news already covers it, else 0", NO_CONTEXT_TRENDS),
        ("price_change_7d", "price change over 7 days (fraction)", NO_CONTEXT_MARKET),
        ("price_change_30d", "price change over 30 days (fraction)", NO_CONTEXT_MARKET),
        ("ath_distance", "distance from all-time high (fraction)", NO_CONTEXT_MARKET),
        ("log_market_cap", "ln(1 + market cap USD)", NO_CONTEXT_MARKET),
        ("log_volume_24h", "ln(1 + 24 h volume USD)", NO_CONTEXT_MARKET),
        (
            "volume_to_market_cap",
            "24 h volume / market cap",
            "NaN when either is absent or market cap is 0",
        ),
        (
            "hours_since_first_mention",
            "hours since the earliest mention of the ticker seen in state (0 = fresh)",
            NEVER,
        ),
        (
            "hours_since_prev_mention",
            "hours since the previous mention of the ticker (at or before posted_at) in the last "
            "7 days",
            "NaN when there is none",
        ),
        (
            "observation_lag_hours",
            "hours between posted_at and observed_at (scrape delay)",
            "NaN when observed_at is absent",
        ),
    ),
    *_specs(
        "onchain",
        (
            "whale_net_flow_slog",
            "sign(x)·ln(1 + |x|) of the whale net flow in USD",
            NO_CONTEXT_ONCHAIN,
        ),
        ("whale_accumulating", "1 when whale net flow > 0, else 0", NO_CONTEXT_ONCHAIN),
        ("log_liquidity", "ln(1 + liquidity USD)", NO_CONTEXT_ONCHAIN),
        (
            "smart_money_inflow_slog",
            "sign(x)·ln(1 + |x|) of the smart-money inflow in USD",
            NO_CONTEXT_ONCHAIN,
        ),
        ("smart_money_buying", "1 when smart-money inflow > 0, else 0", NO_CONTEXT_ONCHAIN),
        ("holder_growth_7d", "holder count growth over 7 days (fraction)", NO_CONTEXT_ONCHAIN),
        ("top10_holder_share", "share held by the top 10 holders (0..1)", NO_CONTEXT_ONCHAIN),
        (
            "liquidity_to_market_cap",
            "liquidity / market cap",
            "NaN when either is absent or market cap is 0",
        ),
    ),
    *_specs(
        "fundamentals",
        ("product_terms", "hits of working-product words (mainnet, live, shipped…)", NO_TEXT),
        ("vaporware_terms", "hits of promise words (roadmap, coming soon, whitepaper…)", NO_TEXT),
        ("product_minus_vaporware", "product_terms - vaporware_terms", NO_TEXT),
        ("partnership_terms", "hits of partnership words (partnership, integration…)", NO_TEXT),
        ("catalyst_terms", "hits of catalyst words (launch, listing, earnings, ETF…)", NO_TEXT),
        ("is_equity", "1 for an equity, 0 for a crypto asset", NEVER),
    ),
    *_specs(
        "interaction",
        ("dan_x_reactions", "dan_endorsed × log_total_reactions", NEVER),
        ("dan_x_multisource", "dan_endorsed × sources_7d", NEVER),
        ("dan_x_thesis", "dan_endorsed × thesis_keywords", NEVER),
        (
            "early_attention",
            "1 when Trends are rising, not peaked and not in mainstream news yet (the seed's "
            "perfect timing), else 0",
            "NaN when any of those three is NaN",
        ),
        ("whale_x_multisource", "whale_accumulating × multi_source", NO_CONTEXT_ONCHAIN),
        (
            "credibility_x_reactions",
            "source_hit_rate × log_total_reactions",
            "NaN when source_hit_rate is NaN",
        ),
        (
            "green_minus_red_terms",
            "thesis + conviction + product + partnership + catalyst hits - red-flag - vaporware "
            "hits",
            NO_TEXT,
        ),
    ),
)

FEATURE_NAMES: tuple[str, ...] = tuple(spec.name for spec in FEATURES)
FEATURE_INDEX: dict[str, int] = {name: i for i, name in enumerate(FEATURE_NAMES)}
