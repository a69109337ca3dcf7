"""The event contracts accept what scrapers send and reject bad input naming the field."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from roostr.contracts import (
    Outcome,
    PriceTick,
    RawSignal,
    ScoredSignal,
    describe_validation_error,
    normalise_ticker,
)


def signal(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "signal_id": "yieldhub:1001",
        "ticker": "TAO",
        "source": "Yieldschool-YieldHub",
        "message": "High conviction on $TAO. Dan is accumulating. 🔥",
        "reactions": {"🔥": 45, "🚀": 22},
        "dan_endorsed": True,
        "mention_count": 3,
        "posted_at": "2026-02-05T14:30:00+00:00",
        "market": {"market_cap_usd": 3.2e9, "price_change_7d": 0.12},
    }
    record.update(changes)
    return {k: v for k, v in record.items() if v is not ...}


def rejection(model: type, record: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(record)
    return describe_validation_error(caught.value)


def test_a_signal_round_trips_through_json_unchanged() -> None:
    original = RawSignal.model_validate(signal(author="dan", price_usd=412.5))
    again = RawSignal.model_validate_json(original.model_dump_json())
    assert again == original
    assert again.posted_at == datetime(2026, 2, 5, 14, 30, tzinfo=UTC)
    assert again.reactions == {"🔥": 45, "🚀": 22}


@pytest.mark.parametrize("raw", ["$tao", "tao", " $TAO ", "$ tao"])
def test_tickers_are_normalised_to_upper_case_without_dollar(raw: str) -> None:
    assert RawSignal.model_validate(signal(ticker=raw)).ticker == "TAO"
    assert PriceTick(ticker=raw, ts="2026-02-05T00:00:00Z", price_usd=1.0, source="x").ticker == (
        "TAO"
    )


@pytest.mark.parametrize("raw", ["", "$", "TA O", "🚀", "A" * 21])
def test_a_string_that_is_no_ticker_is_rejected(raw: str) -> None:
    with pytest.raises(ValueError, match="not a ticker"):
        normalise_ticker(raw)
    assert rejection(RawSignal, signal(ticker=raw)).startswith("ticker:")


@pytest.mark.parametrize("field", ["signal_id", "ticker", "posted_at", "source"])
def test_a_missing_required_field_is_named(field: str) -> None:
    assert rejection(RawSignal, signal(**{field: ...})) == f"{field}: Field required"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"mention_count": -1}, "mention_count"),
        ({"reactions": {"🔥": -3}}, "reactions.🔥"),
        ({"total_reactions": -1}, "total_reactions"),
        ({"price_usd": 0}, "price_usd"),
        ({"market": {"market_cap_usd": -5}}, "market.market_cap_usd"),
        ({"trends": {"google_trends_now": 140}}, "trends.google_trends_now"),
    ],
)
def test_negative_or_out_of_range_numbers_are_rejected_by_field(
    changes: dict[str, Any], field: str
) -> None:
    assert rejection(RawSignal, signal(**changes)).startswith(f"{field}: ")


@pytest.mark.parametrize("field", ["posted_at", "observed_at"])
def test_a_timestamp_without_zone_is_rejected(field: str) -> None:
    message = rejection(RawSignal, signal(**{field: "2026-02-05T14:30:00"}))
    assert message.startswith(f"{field}: ") and "timezone" in message


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
@pytest.mark.parametrize(
    ("path", "make"),
    [
        ("price_usd", lambda v: {"price_usd": v}),
        ("market.price_change_7d", lambda v: {"market": {"price_change_7d": v}}),
        ("onchain.whale_net_flow_usd", lambda v: {"onchain": {"whale_net_flow_usd": v}}),
    ],
)
def test_infinite_and_nan_numbers_are_rejected_by_field(bad: float, path: str, make: Any) -> None:
    assert rejection(RawSignal, signal(**make(bad))).startswith(f"{path}: ")


def test_nan_in_json_text_is_rejected_too() -> None:
    text = RawSignal.model_validate(signal()).model_dump_json().replace("3200000000.0", "NaN")
    with pytest.raises(ValidationError) as caught:
        RawSignal.model_validate_json(text)
    assert "market.market_cap_usd" in describe_validation_error(caught.value)


def test_every_offending_field_is_named_in_one_line() -> None:
    message = rejection(RawSignal, signal(signal_id=..., mention_count=-2))
    assert message == (
        "signal_id: Field required; mention_count: Input should be greater than or equal to 0"
    )


def test_unknown_extra_fields_are_kept_through_json() -> None:
    record = RawSignal.model_validate(signal(scraper_version="2.3", thread={"replies": 4}))
    again = RawSignal.model_validate_json(record.model_dump_json())
    assert again.model_extra == {"scraper_version": "2.3", "thread": {"replies": 4}}


def test_total_reactions_is_derived_when_absent_and_kept_when_given() -> None:
    assert RawSignal.model_validate(signal()).total_reactions == 67
    assert RawSignal.model_validate(signal(reactions={})).total_reactions == 0
    assert RawSignal.model_validate(signal(total_reactions=70)).total_reactions == 70


def test_missing_context_means_unknown_not_zero() -> None:
    record = RawSignal.model_validate(signal())
    assert record.market is not None and record.market.volume_24h_usd is None
    assert record.trends is None and record.onchain is None


def test_a_scored_signal_is_a_raw_signal_with_scores() -> None:
    raw = RawSignal.model_validate(signal())
    scored = ScoredSignal.model_validate(
        {
            **raw.model_dump(),
            "scored_at": "2026-02-05T14:30:01Z",
            "features": {"dan_endorsed": 1.0, "trend_ratio": None},
            "feature_set_version": "fs1-deadbeef",
            "rule_score": 8,
            "final_score": 8,
            "tier": "medium",
            "mode": "parallel",
        }
    )
    assert isinstance(scored, RawSignal) and scored.ticker == "TAO"
    assert rejection(ScoredSignal, {**scored.model_dump(), "rule_score": 11}).startswith(
        "rule_score: "
    )


def test_an_outcome_label_must_agree_with_its_status() -> None:
    base = {"signal_id": "s1", "ticker": "$tao", "posted_at": "2026-02-05T00:00:00Z"}
    assert Outcome.model_validate({**base, "status": "won", "label": 1}).ticker == "TAO"
    assert "contradicts" in rejection(Outcome, {**base, "status": "lost", "label": 1})


def test_a_price_must_be_positive_and_finite() -> None:
    base = {"ticker": "TAO", "ts": "2026-02-05T00:00:00Z", "source": "feed"}
    for bad in (0, -1.0, math.inf, math.nan):
        assert rejection(PriceTick, {**base, "price_usd": bad}).startswith("price_usd: ")
