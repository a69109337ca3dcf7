"""Message-text features: keyword lexicons, shape ratios and VADER sentiment.

Everything here is a pure function of the message text, so results are cached by text in a
bounded LRU: chat scrapes repeat messages (forwards, bots, re-scrapes with new reaction counts),
and a new 280-character message still costs ~20 µs, half of it the fast VADER scorer
(sentiment.py). All lexicons go through ONE compiled regex (a prefix trie, so each word start
tries a few branches, not ~120), one pass over the text; ASCII text (most chat) takes byte-level
shortcuts for the character counts.
"""

from __future__ import annotations

import math
import re
import string
from functools import cache, lru_cache
from typing import NamedTuple

from roostr.features.sentiment import VaderScorer

__all__ = [
    "CASHTAG",
    "FUNDAMENTAL_COLUMNS",
    "HYPE_EMOJIS",
    "KEYWORDS",
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

# One letter per lexicon: matched terms become a string of codes, counted per lexicon by str.count.
_LEXICON_CODES = "".join(chr(ord("a") + i) for i in range(len(LEXICONS)))
_TERM_CODE = {
    term: code
    for code, terms in zip(_LEXICON_CODES, LEXICONS.values(), strict=True)
    for term in terms
}


def _trie(terms: list[str]) -> str:
    """A regex matching any of ``terms``, longest first, as a prefix trie of alternations.

    Where two terms match at one position one is a prefix of the other, so trying "this term
    ends here" last at every node picks the longest, as an alternation sorted by length does.
    """
    root: dict[str, dict] = {}
    for term in terms:
        node = root
        for char in term:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:
        branches = [
            (r"\s+" if char == " " else re.escape(char)) + emit(child)
            for char, child in sorted(node.items())
            if char
        ]
        if "" in node:
            branches.append("")
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return emit(root)


# Applied to " " + the lower-cased text; group 1 is the term. A term must not follow a word
# character or "$" (no match inside "$launch"), nor be followed by a word character. ASCII text
# (most chat) uses explicit character classes, ~1/3 faster than Unicode's \w.
_TRIE = _trie(list(_TERM_CODE))
KEYWORDS = re.compile(rf"[^\w$]({_TRIE})(?!\w)")
_KEYWORDS_ASCII = re.compile(rf"[^0-9a-z_$]({_TRIE})(?![0-9a-z_])")
_WHITESPACE = re.compile(r"\s+")
# "$" first (lookbehind after it) so the engine can jump from "$" to "$".
CASHTAG = re.compile(r"\$(?<!\w\$)[A-Za-z][A-Za-z0-9]{0,9}\b")
HYPE_EMOJIS = tuple("🔥🚀💎🌕🌙📈💯🙌")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_ASCII_LETTERS = string.ascii_letters.encode()
_ASCII_UPPER = string.ascii_uppercase.encode()


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
def sentiment_scorer() -> VaderScorer:
    """The one scorer (loads VADER's lexicon once, ~50 ms), adapted to trading slang."""
    return VaderScorer(TRADING_VALENCE)


def _shape(message: str) -> tuple[int, int, int]:
    """(letters, upper-case letters, hype emojis) of ``message``.

    ASCII characters are counted by byte deletion (C speed); only the few others one by one.
    """
    data = message.encode("ascii", "ignore")
    letters = len(data) - len(data.translate(None, _ASCII_LETTERS))
    upper = len(data) - len(data.translate(None, _ASCII_UPPER))
    if len(data) == len(message):
        return letters, upper, 0
    others = _NON_ASCII.findall(message)
    letters += sum(map(str.isalpha, others))
    upper += sum(map(str.isupper, others))
    return letters, upper, sum(map(others.count, HYPE_EMOJIS))


def _keyword_counts(message: str) -> tuple[int, ...]:
    """Number of terms of each lexicon in ``message``, in ``LEXICONS`` order."""
    lowered = " " + message.lower()
    terms = (_KEYWORDS_ASCII if lowered.isascii() else KEYWORDS).findall(lowered)
    # One character per match, counted per lexicon by str.count: no per-match Python code.
    try:
        codes = "".join(map(_TERM_CODE.__getitem__, terms))
    except KeyError:  # a term matched with other whitespace than one space ("all  in")
        codes = "".join([_TERM_CODE[_WHITESPACE.sub(" ", term)] for term in terms])
    return tuple(map(codes.count, _LEXICON_CODES))


def _compute(message: str) -> TextFeatures:
    thesis, conviction, red_flag, product, vaporware, partnership, catalyst = _keyword_counts(
        message
    )
    chars = len(message)
    letters, upper, hype = _shape(message)
    words = message.split()
    nan = math.nan
    if not words:  # blank: no sentiment
        compound, positive, negative = nan, nan, nan
    elif chars <= SENTIMENT_MAX_CHARS:  # the scorer's own split, unless emojis are replaced
        compound, positive, negative = sentiment_scorer().polarity(message, words)
    else:
        compound, positive, negative = sentiment_scorer().polarity(message[:SENTIMENT_MAX_CHARS])
    green = thesis + conviction + product + partnership + catalyst
    return TextFeatures(  # positional (in field order): keywords cost ~1 µs per message
        chars,
        len(words),
        message.count("!") / chars if chars else nan,
        upper / letters if letters else nan,
        hype,
        compound,
        positive,
        negative,
        thesis,
        conviction,
        red_flag,
        len(CASHTAG.findall(message)),
        product,
        vaporware,
        product - vaporware,
        partnership,
        catalyst,
        green - red_flag - vaporware,
    )


_cached = lru_cache(maxsize=CACHE_SIZE)(_compute)


def text_features(message: str) -> TextFeatures:
    """Features of ``message``; a pure function of the text, cached for texts up to 2,000 chars."""
    return _cached(message) if len(message) <= CACHE_MAX_CHARS else _compute(message)
