"""VADER sentiment in ~1/9th of VADER's time, from VADER's own lexicon, rules and constants.

``SentimentIntensityAnalyzer.polarity_scores`` costs ~115 µs on a 280-character chat message,
more than the consumer's whole per-signal budget. Most of that is spent on words that carry no
sentiment: VADER runs its emoji loop per character and its negation / booster / idiom checks
(each re-lowering the whole word list) for every word. Here the text is tokenised once, with
VADER's rules (split on whitespace, strip surrounding punctuation unless that leaves <= 2
characters, emojis replaced by their descriptions), and the per-word rules run only for the few
words found in the lexicon (not at all when no word that triggers a rule is present). The rules
reproduced, with VADER's constants:

- ALL-CAPS emphasis (``C_INCR``) when the message mixes case, on lexicon and booster words;
- boosters/dampeners among the 3 preceding words (``BOOSTER_DICT``, decay 1, 0.95, 0.9);
- negation among the 3 preceding words (``NEGATE``, "n't", ``N_SCALAR``), "no" as negator,
  "never so/this" (x1.25), "without doubt";
- special-case idioms that contain a lexicon word (``SPECIAL_CASES``, "kind of", "sort of");
- "least" as negation, "kind of" as a dampener rather than the lexicon word "kind";
- the "but" rule (x0.5 before the first "but", x1.5 after);
- "!" (up to 4) and "?" (2 or more) amplification, ``normalize`` and the pos/neg shares.

Scores equal VADER's (after its rounding) on the test corpus and on 5,500 generated messages.
One deliberate difference: VADER's "but" rule finds scores by value (``sentiments.index``), so
when two words have the same score it can scale one on the wrong side of the "but"; here each
word is scaled by its own position. Like VADER, emojis are looked up one code point at a time,
and idioms without a lexicon word (``SENTIMENT_LADEN_IDIOMS``, "future work" in VADER) score 0.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from itertools import compress, count, repeat
from operator import is_
from typing import NamedTuple, cast

from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    C_INCR,
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
    normalize,
)

__all__ = ["DECAY", "Polarity", "VaderScorer"]

_PUNCTUATION = string.punctuation
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_NEGATE = frozenset(NEGATE)
DECAY = (1.0, 0.95, 0.9)
# The token memo (``VaderScorer._words_of``): about this many tokens, of at most this length.
_MEMO_SIZE = 65_536
_MEMO_TOKEN_CHARS = 40
# Multi-word entries checked around a lexicon word; only looked for when one of their words is
# near it.
_PHRASE_BOOSTERS = {k: v for k, v in BOOSTER_DICT.items() if " " in k}
_PHRASE_WORDS = frozenset(
    w for phrase in (*SPECIAL_CASES, *_PHRASE_BOOSTERS) for w in phrase.split()
)
# One (rare) word of each phrase: a phrase can only match where its anchor word is present.
_PHRASE_ANCHORS = frozenset(max(p.split(), key=len) for p in (*SPECIAL_CASES, *_PHRASE_BOOSTERS))
# Words that can change the score of a lexicon word near them (besides any "n't" word), or are
# no lexicon word where VADER's lexicon has them ("kind of").
_RULE_WORDS = (
    frozenset(BOOSTER_DICT)
    | _NEGATE
    | _PHRASE_ANCHORS
    | {"no", "never", "so", "this", "least", "but", "kind"}
)


class Polarity(NamedTuple):
    """VADER's compound score (-1..1) and positive / negative shares (0..1), rounded as VADER."""

    compound: float
    positive: float
    negative: float


_NEUTRAL = Polarity(0.0, 0.0, 0.0)


class VaderScorer:
    """VADER's ``polarity_scores`` (compound, pos, neg); ``overrides`` update its lexicon."""

    def __init__(self, overrides: Mapping[str, float] | None = None) -> None:
        self.analyser = SentimentIntensityAnalyzer()  # loads VADER's lexicon (~50 ms)
        self.analyser.lexicon.update(overrides or {})
        self._lexicon = self.analyser.lexicon
        # VADER scores boosters 0: it reads them only as modifiers of the next words.
        self._scored = {w: v for w, v in self._lexicon.items() if w not in BOOSTER_DICT}
        # VADER puts a space before a description (unless one is there) and none after it; the
        # extra spaces this adds change no word. It reads text one code point at a time, so only
        # one-character entries can ever match.
        self._emojis = {e: " " + d for e, d in self.analyser.emojis.items() if len(e) == 1}
        # token -> its word (see ``_word``): chat repeats its words far more than its messages.
        self._word_memo: dict[str, str] = {}

    def polarity(self, text: str, split: list[str] | None = None) -> Polarity:
        """VADER's compound score and positive / negative shares of ``text``.

        ``split`` is ``text.split()`` when the caller has it (used for ASCII text only: emojis
        are replaced by their descriptions first).
        """
        if not text.isascii():  # replace emojis by their descriptions, as VADER does
            for emoji in self._emojis.keys() & set(_NON_ASCII.findall(text)):
                text = text.replace(emoji, self._emojis[emoji])
            raw = text.split()
        else:
            raw = text.split() if split is None else split
        words = self._words_of(raw)
        scored = list(map(self._scored.__contains__, words))
        if not any(scored):
            return _NEUTRAL
        if (
            _RULE_WORDS.isdisjoint(words)
            and "'t" not in text  # VADER reads any word with "n't" as a negation
            and "'T" not in text
            and not any(map(str.isupper, compress(raw, scored)))
        ):  # no rule applies to any word: the lexicon's scores as they are
            scores = list(map(self._scored.__getitem__, compress(words, scored)))
        else:
            scores = self._apply_rules(words, list(compress(count(), scored)), raw)
        return _summarise(scores, len(words), text)

    def _words_of(self, raw: list[str]) -> list[str]:
        """``_word`` of each token, memoised: a dict lookup per known token instead of 3 calls.

        A pure function of the token, so the memo changes no result; it is emptied when full
        and keeps only short tokens (long ones rarely repeat), so its memory stays bounded.
        """
        memo = self._word_memo
        words = list(map(memo.get, raw))
        if None in words:
            if len(memo) >= _MEMO_SIZE:
                memo.clear()
            for i in compress(count(), map(is_, words, repeat(None))):
                token = raw[i]
                words[i] = word = _word(token)
                if len(token) <= _MEMO_TOKEN_CHARS:
                    memo[token] = word
        # No None is left in ``words`` (mypy does not narrow a list by ``None in``).
        return cast(list[str], words)

    def _apply_rules(self, words: list[str], hits: list[int], raw: list[str]) -> list[float]:
        """Scores of the lexicon words ``hits`` in ``words`` after VADER's rules.

        ``raw`` are the words before lower-casing, for VADER's ALL-CAPS emphasis.
        """
        cap_diff = 0 < sum(map(str.isupper, raw)) < len(raw)
        last = len(words) - 1
        scores: list[tuple[int, float]] = []
        for i in hits:
            word = words[i]
            if word == "kind" and i < last and words[i + 1] == "of":
                continue  # a dampener, not the lexicon word "kind"
            scores.append((i, self._valence(words, raw, i, cap_diff)))
        if "but" in words:
            but = words.index("but")
            return [v * 0.5 if i < but else v * 1.5 if i > but else v for i, v in scores]
        return [v for _, v in scores]

    def _valence(self, words: list[str], raw: list[str], i: int, cap_diff: bool) -> float:
        """VADER's ``sentiment_valence`` of lexicon word ``i``: "no", caps, boosters, negation."""
        lexicon = self._lexicon
        base = lexicon[words[i]]
        valence = base
        if words[i] == "no" and i < len(words) - 1 and words[i + 1] in lexicon:
            valence = 0.0  # "no" negates the next word instead
        if (
            (i > 0 and words[i - 1] == "no")
            or (i > 1 and words[i - 2] == "no")
            or (i > 2 and words[i - 3] == "no" and words[i - 1] in ("or", "nor"))
        ):
            valence = base * N_SCALAR
        if cap_diff and raw[i].isupper():
            valence += C_INCR if valence > 0 else -C_INCR
        for back in range(min(i, 3)):
            before = words[i - back - 1]
            if before in lexicon:
                continue
            scalar = BOOSTER_DICT.get(before, 0.0)
            if scalar:
                if valence < 0:
                    scalar = -scalar
                if cap_diff and raw[i - back - 1].isupper():
                    scalar += C_INCR if valence > 0 else -C_INCR
                valence += scalar * DECAY[back]
            valence = _negation(valence, words, back, i)
            if back == 2 and not _PHRASE_WORDS.isdisjoint(words[i - 3 : i + 3]):
                valence = _phrases(valence, words, i)
        return _least(valence, words, i, lexicon)


def _word(token: str) -> str:
    """VADER's word for a token, lower-cased: punctuation stripped unless <= 2 characters remain."""
    lowered = token.lower()
    word = lowered.strip(_PUNCTUATION)
    return word if len(word) > 2 or word == lowered else lowered  # an emoticon such as ":)"


def _negated(word: str) -> bool:
    return word in _NEGATE or "n't" in word


def _negation(valence: float, words: list[str], back: int, i: int) -> float:
    """VADER's ``_negation_check`` for the word ``back + 1`` places before word ``i``."""
    if back == 0:
        return valence * N_SCALAR if _negated(words[i - 1]) else valence
    if back == 1:
        if words[i - 2] == "never" and words[i - 1] in ("so", "this"):
            return valence * 1.25
        if words[i - 2] == "without" and words[i - 1] == "doubt":
            return valence
        return valence * N_SCALAR if _negated(words[i - 2]) else valence
    if (words[i - 3] == "never" and words[i - 2] in ("so", "this")) or words[i - 1] in (
        "so",
        "this",
    ):
        return valence * 1.25
    if words[i - 3] == "without" and "doubt" in (words[i - 2], words[i - 1]):
        return valence
    return valence * N_SCALAR if _negated(words[i - 3]) else valence


def _phrases(valence: float, words: list[str], i: int) -> float:
    """VADER's ``_special_idioms_check``: idioms replace the score, "kind of" etc. dampen it."""
    three, two, one, zero = words[i - 3], words[i - 2], words[i - 1], words[i]
    for seq in (
        f"{one} {zero}",
        f"{two} {one} {zero}",
        f"{two} {one}",
        f"{three} {two} {one}",
        f"{three} {two}",
    ):
        if seq in SPECIAL_CASES:
            valence = SPECIAL_CASES[seq]
            break
    following = words[i + 1 : i + 3]
    if following:
        ahead = f"{zero} {following[0]}"
        if ahead in SPECIAL_CASES:
            valence = SPECIAL_CASES[ahead]
        if len(following) == 2 and f"{ahead} {following[1]}" in SPECIAL_CASES:
            valence = SPECIAL_CASES[f"{ahead} {following[1]}"]
    for gram in (f"{three} {two} {one}", f"{three} {two}", f"{two} {one}"):
        valence += _PHRASE_BOOSTERS.get(gram, 0.0)
    return valence


def _least(valence: float, words: list[str], i: int, lexicon: dict[str, float]) -> float:
    """VADER's ``_least_check``: "least good" is negated, "at least good" is not."""
    if (
        i > 0
        and words[i - 1] == "least"
        and "least" not in lexicon
        and (i == 1 or words[i - 2] not in ("at", "very"))
    ):
        return valence * N_SCALAR
    return valence


def _summarise(scores: list[float], n_words: int, text: str) -> Polarity:
    """VADER's ``score_valence``: punctuation emphasis, ``normalize`` and the shares."""
    total = sum(scores)
    emphasis = min(text.count("!"), 4) * 0.292
    questions = text.count("?")
    if questions > 1:
        emphasis += questions * 0.18 if questions <= 3 else 0.96
    if total > 0:
        total += emphasis
    elif total < 0:
        total -= emphasis
    pos = neg = 0.0
    neutral = n_words
    for score in scores:
        if score > 0:
            pos += score + 1  # VADER's +1 / -1 compensate for neutral words counting 1
            neutral -= 1
        elif score < 0:
            neg += score - 1
            neutral -= 1
    if pos > -neg:
        pos += emphasis
    elif pos < -neg:
        neg -= emphasis
    share = pos - neg + neutral
    return Polarity(round(normalize(total), 4), round(pos / share, 3), round(-neg / share, 3))
