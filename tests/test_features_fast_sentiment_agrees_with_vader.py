"""The fast sentiment scorer means what VADER means: same scores on chat-like and tricky text."""

from __future__ import annotations

import json
import math
import random
from importlib import resources

import numpy as np
import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from roostr.features.sentiment import VaderScorer
from roostr.features.text import SENTIMENT_MAX_CHARS, TRADING_VALENCE, text_features

HAND_WRITTEN = [
    "not good",
    "this is not bad at all",
    "It isn't great, I don't like it",
    "very good",
    "extremely bullish, barely any risk",
    "GREAT project",
    "great project",
    "this is GREAT news for $SOL",
    "VERY good team, VERY BAD tokenomics",
    "The tech is good, but the team is terrible",
    "Terrible chart but amazing fundamentals",
    "good!",
    "good!!!!!!",
    "is this a scam???",
    "is it good?",
    "no good",
    "no doubt, bullish",
    "never so good",
    "without doubt the best",
    "at least it is good",
    "the least good idea",
    "kind of good",
    "sort of a rug",
    "this is the shit",
    "the bomb 💣",
    "🔥🔥🔥 to the moon 🚀",
    "love it 😍😍",
    "😡 dumping hard",
    ":) nice",
    "meh :(",
    "",
    "   ",
    "\n\t",
    "Das Projekt ist großartig, sehr gut!",
    "Проект отличный, всем советую",
    "这个项目很好",
    "Es un proyecto excelente 👍",
    "RUG RUG RUG",
    "bearish bearish bearish",
]


def _sample_messages() -> list[str]:
    lines = resources.files("roostr.data").joinpath("sample_signals.jsonl").read_text("utf-8")
    return [json.loads(line)["message"] for line in lines.splitlines() if line.strip()]


def _corpus() -> list[str]:
    samples = _sample_messages()
    rng = random.Random(5)
    # Shuffled mixtures of real messages and modifiers put negations, boosters, caps and "but"
    # next to lexicon words in combinations no one wrote by hand.
    vocabulary = [*" ".join(samples + HAND_WRITTEN).split(), "not", "very", "but", "NOT", "!!"]
    mixtures = [
        " ".join(rng.choice(vocabulary) for _ in range(rng.randrange(1, 40))) for _ in range(60)
    ]
    long_messages = [" ".join(samples)[:5_000], ("GREAT! but scam " * 400)[:5_000]]
    return samples + HAND_WRITTEN + mixtures + long_messages


@pytest.fixture(scope="module")
def vader() -> SentimentIntensityAnalyzer:
    analyser = SentimentIntensityAnalyzer()
    analyser.lexicon.update(TRADING_VALENCE)
    return analyser


@pytest.fixture(scope="module")
def scored(vader: SentimentIntensityAnalyzer) -> tuple[np.ndarray, np.ndarray]:
    """(VADER, fast) rows of (compound, positive, negative), one per corpus message."""
    scorer = VaderScorer(TRADING_VALENCE)
    reference, fast = [], []
    for message in _corpus():
        text = message[:SENTIMENT_MAX_CHARS]
        expected = vader.polarity_scores(text)
        reference.append((expected["compound"], expected["pos"], expected["neg"]))
        fast.append(tuple(scorer.polarity(text)))
    return np.array(reference), np.array(fast)


def test_corpus_is_varied(scored: tuple[np.ndarray, np.ndarray]) -> None:
    reference, _ = scored
    compound = reference[:, 0]
    assert len(compound) >= 200
    assert (compound >= 0.05).sum() >= 30 and (compound <= -0.05).sum() >= 30
    assert (np.abs(compound) < 0.05).sum() >= 10


def test_compound_has_vaders_sign(scored: tuple[np.ndarray, np.ndarray]) -> None:
    reference, fast = scored
    clear = np.abs(reference[:, 0]) >= 0.05
    assert (np.sign(fast[clear, 0]) == np.sign(reference[clear, 0])).all()


@pytest.mark.parametrize("column", [0, 1, 2], ids=["compound", "positive", "negative"])
def test_scores_track_vader(scored: tuple[np.ndarray, np.ndarray], column: int) -> None:
    reference, fast = scored
    assert np.corrcoef(reference[:, column], fast[:, column])[0, 1] >= 0.98
    # Measured: identical on this corpus (and on 5,500 generated messages); the bound leaves
    # room only for float rounding, so any rule that drifts from VADER's shows up here.
    assert np.abs(reference[:, column] - fast[:, column]).mean() <= 0.001
    assert np.abs(reference[:, column] - fast[:, column]).max() <= 0.002


@pytest.mark.parametrize(
    ("text", "direction"),
    [
        ("good", 1),
        ("not good", -1),
        ("bad", -1),
        ("not bad", 1),
        ("The team is great, but the chart is a scam", -1),
        ("The chart is a scam, but the team is great", 1),
    ],
)
def test_rules_turn_the_score(text: str, direction: int) -> None:
    assert math.copysign(1, VaderScorer(TRADING_VALENCE).polarity(text).compound) == direction


def test_emphasis_strengthens_the_score() -> None:
    scorer = VaderScorer(TRADING_VALENCE)
    plain = scorer.polarity("the team is good").compound
    assert scorer.polarity("the team is very good").compound > plain
    assert scorer.polarity("the team is GOOD").compound > plain
    assert scorer.polarity("the team is good!!!").compound > plain


def test_trading_slang_is_scored() -> None:
    scorer = VaderScorer(TRADING_VALENCE)
    assert scorer.polarity("bullish").compound > 0
    assert scorer.polarity("bearish, looks like a rug").compound < 0
    assert VaderScorer().polarity("bullish").compound == 0  # unknown to plain VADER


def test_features_carry_the_fast_scores(vader: SentimentIntensityAnalyzer) -> None:
    for message in ("GREAT team but the chart is a scam!!", ("good " * 1_200).strip()):
        expected = vader.polarity_scores(message[:SENTIMENT_MAX_CHARS])
        features = text_features(message)
        assert features.sentiment_compound == pytest.approx(expected["compound"], abs=0.002)
        assert features.sentiment_positive == pytest.approx(expected["pos"], abs=0.002)
        assert features.sentiment_negative == pytest.approx(expected["neg"], abs=0.002)
    assert math.isnan(text_features(" \n ").sentiment_compound)
