"""The adapters turn the scrapers' existing dicts into valid signals with stable ids."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from producer_shims import FieldMapping, derive_signal_id, from_scraper_dict

NOW = datetime(2026, 2, 5, 14, 30, tzinfo=UTC)


def readme_signal(**changes: Any) -> dict[str, Any]:
    """The seed README's scraper dict, verbatim."""
    return {
        "ticker": "XYZ",
        "source": "Yieldschool-YieldHub",
        "message": "High conviction on $XYZ. Dan is accumulating. 🔥",
        "reactions": {"🔥": 45, "🚀": 22},
        "dan_endorsed": True,
        "mention_count": 3,
        "total_reactions": 67,
        **changes,
    }


def test_the_readme_dict_becomes_a_signal_posted_now() -> None:
    signal = from_scraper_dict(readme_signal(), now=NOW)
    assert signal.ticker == "XYZ" and signal.total_reactions == 67
    assert signal.posted_at == NOW and signal.observed_at == NOW
    assert signal.signal_id.startswith("yieldschool-yieldhub:h")


def test_the_same_message_scraped_twice_gets_the_same_id() -> None:
    first = from_scraper_dict(readme_signal(), now=NOW)
    later = from_scraper_dict(readme_signal(), now=datetime(2026, 2, 6, tzinfo=UTC))
    other = from_scraper_dict(readme_signal(message="Different thesis on $XYZ"), now=NOW)
    assert first.signal_id == later.signal_id != other.signal_id


def test_a_message_id_makes_the_signal_id_and_posted_at_is_kept() -> None:
    signal = from_scraper_dict(
        readme_signal(message_id=88123, posted_at="2026-02-01T09:00:00-05:00"), now=NOW
    )
    assert signal.signal_id == "yieldschool-yieldhub:88123"
    assert signal.posted_at == datetime(2026, 2, 1, 14, 0, tzinfo=UTC)
    assert signal.observed_at is None
    assert derive_signal_id({"source": "X", "id": "17"}) == "x:17"


def test_an_invalid_scraper_dict_is_rejected_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="mention_count"):
        from_scraper_dict(readme_signal(mention_count=-1), now=NOW)


def test_a_field_mapping_adapts_another_scraper() -> None:
    adapt = FieldMapping(
        fields={
            "ticker": "symbol",
            "message": "text",
            "posted_at": "meta.created",
            "signal_id": "meta.tweet_id",
            "author": "user",
        },
        constants={"source": "X"},
    )
    scraped = {
        "symbol": "$rndr",
        "text": "Render network usage is exploding",
        "user": "@onchainlens",
        "meta": {"created": "2026-03-02T10:00:00Z", "tweet_id": "x:1890"},
        "likes": 120,
    }
    signal = adapt(scraped)
    assert (signal.ticker, signal.source, signal.signal_id) == ("RNDR", "X", "x:1890")
    assert signal.posted_at == datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert signal.model_extra == {"likes": 120}


def test_epoch_seconds_and_digit_string_counts_are_converted_explicitly() -> None:
    signal = from_scraper_dict(
        readme_signal(
            posted_at=1_770_301_800,
            observed_at=1_770_301_860.5,
            mention_count=" 3",
            total_reactions="67",
            reactions={"🔥": "45", "🚀": 22},
        ),
        now=NOW,
    )
    assert signal.posted_at == NOW
    assert signal.observed_at == datetime(2026, 2, 5, 14, 31, 0, 500_000, tzinfo=UTC)
    assert (signal.mention_count, signal.total_reactions) == (3, 67)
    assert signal.reactions == {"🔥": 45, "🚀": 22}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("posted_at", 1_770_301_800_000),  # milliseconds: not a plausible time in seconds
        ("posted_at", "2026-02-05T14:30:00"),  # no zone
        ("mention_count", "4.5k"),
        ("dan_endorsed", "yes"),
    ],
)
def test_what_cannot_be_converted_safely_is_rejected_naming_the_field(
    field: str, value: object
) -> None:
    with pytest.raises(ValidationError) as caught:
        from_scraper_dict(readme_signal(**{field: value}), now=NOW)
    assert [e["loc"] for e in caught.value.errors()] == [(field,)]
