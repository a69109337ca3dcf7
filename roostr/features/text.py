"""Message-text features: keyword lexicons, shape ratios and VADER sentiment.

Everything here is a pure function of the message text, so results are cached by text in a
bounded LRU: chat scrapes repeat messages (forwards, bots, re-scrapes with new reaction counts),
and VADER alone costs ~25 µs per message. All lexicons go through ONE compiled regex, one pass
over the text.
"""

from __future__ import annotations

import math
import re
from functools import cache, lru_cache
from typing import NamedTuple

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

__all__ = [
    "FUNDAMENTAL_COLUMNS",
    "LEXICONS",
    "SOCIAL_COLUMNS",
    "TextFeatures",
    "text_features",
]

# Sentiment reads at most this many characters: VADER's cost grows with length, and a 20,000
# character message must not blow the consumer's per-signal budget.
SENTIMENT_MAX_CHARS = 1_000
# Longer messages are rare and are not cached (the cache must stay small in memory).
CACHE_MAX_CHARS = 2_000
CACHE_SIZE = 16_384


def _terms(csv: str) -> tuple[str, ...]:
    return tuple(term.strip() for term in csv.split(","))


# Each term belongs to exactly one lexicon. Matched case-insensitively on word boundaries; a space
# in a term matches any run of whitespace.
LEXICONS: dict[str, tuple[str, ...]] = {
    "thesis": _terms(
        "thesis, fundamentals, fundamental, undervalued, narrative, tokenomics, revenue, "
        "adoption, moat, use case, utility, valuation, research, deep dive, because, tam, "
        "competitive advantage, cash flow"
    ),
    "conviction": _terms(
        "high conviction, conviction, accumulating, accumulate, loading, loaded, bullish, "
        "all in, adding, buying, size up, sizing up, long term, strong buy"
    ),
    "red_flag": _terms(
        "presale, pre-sale, guaranteed, guarantee, 100x, 1000x, risk free, risk-free, "
        "can't lose, cant lose, free money, easy money, last chance, don't miss, dont miss, "
        "get in now, act fast, to the moon, lambo, pump, next bitcoin, dm me, "
        "whitelist spots"
    ),
    "product": _terms(
        "working product, mainnet, live, shipped, in production, users, customers, deployed, "
        "launched, released, working, real tech, paying customers, daily active"
    ),
    "vaporware": _terms(
        "roadmap, coming soon, whitepaper, soon, will launch, planned, vision, concept, "
        "testnet, stealth, in development, promises, promise"
    ),
    "partnership": _terms(
        "partnership, partnered, partners with, partner, collaboration, integration, "
        "integrated, teams up, alliance"
    ),
    "catalyst": _terms(
        "catalyst, launch, listing, listed on, upgrade, halving, earnings, etf, approval, "
        "unlock, airdrop, announcement, fda, merger, acquisition"
    ),
}

_TERM_LEXICON = {term: lexicon for lexicon, terms in LEXICONS.items() for term in terms}
# Applied to the lower-cased text: much faster than re.IGNORECASE over a long alternation.
_KEYWORDS = re.compile(
    r"(?<![\w$])(?:"
    + "|".join(
        re.escape(term).replace(r"\ ", r"\s+")
        for term in sorted(_TERM_LEXICON, key=len, reverse=True)
    )
    + r")(?!\w)"
)
_WHITESPACE = re.compile(r"\s+")
_CASHTAG = re.compile(r"(?<!\w)\$[A-Za-z][A-Za-z0-9]{0,9}\b")
_HYPE_EMOJIS = tuple("🔥🚀💎🌕🌙📈💯🙌")


class TextFeatures(NamedTuple):
    """Features of one message text; fields are named and ordered as in the feature catalogue."""

    # social conviction: contiguous in the matrix (SOCIAL_COLUMNS)
    message_chars: float
    message_words: float
    exclamation_ratio: float
    caps_ratio: float
    hype_emojis_in_text: float
    sentiment_compound: float
    sentiment_positive: float
    sentiment_negative: float
    thesis_keywords: float
    conviction_keywords: float
    red_flag_words: float
    cashtags_in_text: float
    # fundamentals: contiguous in the matrix (FUNDAMENTAL_COLUMNS)
    product_terms: float
    vaporware_terms: float
    product_minus_vaporware: float
    partnership_terms: float
    catalyst_terms: float
    # interaction
    green_minus_red_terms: float


SOCIAL_COLUMNS = slice(0, 12)
FUNDAMENTAL_COLUMNS = slice(12, 17)


# VADER's general-English lexicon misreads trading chat ("conviction" is negative there, "bullish"
# is unknown); these entries (same -4..4 valence scale) adapt it.
TRADING_VALENCE = {
    "conviction": 1.5,
    "bullish": 2.0,
    "bearish": -2.0,
    "accumulating": 1.0,
    "moon": 1.0,
    "mooning": 1.5,
    "rug": -3.0,
    "rugged": -3.0,
    "dump": -2.0,
    "dumping": -2.0,
    "scam": -3.0,
    "undervalued": 1.5,
    "overvalued": -1.5,
}


@cache
def _analyser() -> SentimentIntensityAnalyzer:
    analyser = SentimentIntensityAnalyzer()  # loads its lexicon once (~50 ms)
    analyser.lexicon.update(TRADING_VALENCE)
    return analyser


def _compute(message: str) -> TextFeatures:
    hits = dict.fromkeys(LEXICONS, 0)
    for match in _KEYWORDS.findall(message.lower()):
        hits[_TERM_LEXICON[_WHITESPACE.sub(" ", match)]] += 1
    chars = len(message)
    letters = sum(map(str.isalpha, message))
    nan = math.nan
    if message.strip():
        polarity = _analyser().polarity_scores(message[:SENTIMENT_MAX_CHARS])
        sentiment = (polarity["compound"], polarity["pos"], polarity["neg"])
    else:
        sentiment = (nan, nan, nan)
    green = sum(hits[k] for k in ("thesis", "conviction", "product", "partnership", "catalyst"))
    return TextFeatures(
        message_chars=chars,
        message_words=len(message.split()),
        exclamation_ratio=message.count("!") / chars if chars else nan,
        caps_ratio=sum(map(str.isupper, message)) / letters if letters else nan,
        hype_emojis_in_text=sum(map(message.count, _HYPE_EMOJIS)),
        sentiment_compound=sentiment[0],
        sentiment_positive=sentiment[1],
        sentiment_negative=sentiment[2],
        thesis_keywords=hits["thesis"],
        conviction_keywords=hits["conviction"],
        red_flag_words=hits["red_flag"],
        cashtags_in_text=len(_CASHTAG.findall(message)),
        product_terms=hits["product"],
        vaporware_terms=hits["vaporware"],
        product_minus_vaporware=hits["product"] - hits["vaporware"],
        partnership_terms=hits["partnership"],
        catalyst_terms=hits["catalyst"],
        green_minus_red_terms=green - hits["red_flag"] - hits["vaporware"],
    )


_cached = lru_cache(maxsize=CACHE_SIZE)(_compute)


def text_features(message: str) -> TextFeatures:
    """Features of ``message``; a pure function of the text, cached for texts up to 2,000 chars."""
    return _cached(message) if len(message) <= CACHE_MAX_CHARS else _compute(message)
