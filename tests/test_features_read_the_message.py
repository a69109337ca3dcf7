"""Message-text features: lexicon hits, shape ratios, trading-aware sentiment, bounded cost."""

from __future__ import annotations

import math

from roostr.features.text import LEXICONS, text_features


def test_lexicon_hits_by_category() -> None:
    text = text_features(
        "HIGH CONVICTION: thesis is that $TAO is undervalued. Mainnet is live, "
        "partnership with X, listing next week. Not a presale, no roadmap-only promises."
    )
    assert text.thesis_keywords == 2  # thesis, undervalued
    assert text.conviction_keywords == 1  # high conviction (one term, not two)
    assert text.product_terms == 2  # mainnet, live
    assert text.partnership_terms == 1
    assert text.catalyst_terms == 1  # listing
    assert text.red_flag_words == 1  # presale
    assert text.vaporware_terms == 2  # roadmap, promises
    assert text.cashtags_in_text == 1
    assert text.product_minus_vaporware == 0


def test_terms_match_on_word_boundaries_and_any_whitespace() -> None:
    assert text_features("deliverable olives").product_terms == 0  # not "live"
    assert text_features("coming\n  soon").vaporware_terms == 1
    assert text_features("$TAM").thesis_keywords == 0  # a cashtag, not the word "tam"


def test_each_term_belongs_to_one_lexicon() -> None:
    terms = [term for lexicon in LEXICONS.values() for term in lexicon]
    assert len(terms) == len(set(terms))


def test_shill_reads_as_shill_and_conviction_as_positive() -> None:
    shill = text_features("GUARANTEED 100x!!! Presale ends soon, get in now 🚀🚀🚀")
    assert shill.red_flag_words == 4
    assert shill.caps_ratio > 0.3
    assert shill.exclamation_ratio > 0.04
    assert shill.hype_emojis_in_text == 3
    assert text_features("High conviction, bullish on $TAO").sentiment_compound > 0.3


def test_empty_text_has_no_sentiment_and_no_ratios() -> None:
    empty = text_features("")
    assert math.isnan(empty.sentiment_compound)
    assert math.isnan(empty.exclamation_ratio)
    assert math.isnan(empty.caps_ratio)
    assert empty.thesis_keywords == 0


def test_long_messages_are_featurised_without_caching() -> None:
    long = "bullish thesis " * 2_000
    features = text_features(long)
    assert features.thesis_keywords == 2_000
    assert features.sentiment_compound > 0
