"""Contracts coerce nothing: a count is a JSON integer, a flag a JSON bool, a time zoned text.

What a producer sends is what every reader gets. The consumer's decode path rejects each lax
value as a ``schema_violation`` naming the field; the same rules hold for models built in Python.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from pydantic import BaseModel, ValidationError

from roostr.contracts import (
    ModelUpdate,
    Outcome,
    PriceTick,
    RawSignal,
    describe_validation_error,
)
from roostr.decoding import Rejection, decode_signal
from roostr.synthetic.stream import synthetic_signals

GOOD = next(synthetic_signals(1, prefix="strict"))


def _decode(**changes: Any) -> RawSignal | Rejection:
    return decode_signal(orjson.dumps(GOOD | changes), max_bytes=1 << 20)


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("mention_count", {"mention_count": "5"}),
        ("mention_count", {"mention_count": 5.0}),
        ("mention_count", {"mention_count": True}),
        ("total_reactions", {"total_reactions": "67"}),
        ("reactions.🔥", {"reactions": {"🔥": "45"}}),
        ("dan_endorsed", {"dan_endorsed": "yes"}),
        ("dan_endorsed", {"dan_endorsed": "true"}),
        ("dan_endorsed", {"dan_endorsed": 1}),
        ("dan_endorsed", {"dan_endorsed": 0}),
        ("posted_at", {"posted_at": 1_770_000_000}),
        ("posted_at", {"posted_at": 1_770_000_000.5}),
        ("posted_at", {"posted_at": "1770000000"}),
        ("posted_at", {"posted_at": "2026-02-05T14:30:00"}),
        ("posted_at", {"posted_at": "2026-02-05T14:30:00+0530"}),
        ("posted_at", {"posted_at": "2026-02-05"}),
        ("observed_at", {"observed_at": 1_770_000_000}),
        ("price_usd", {"price_usd": "412.5"}),
        ("signal_id", {"signal_id": 1001}),
        ("ticker", {"ticker": 42}),
        ("market.market_cap_usd", {"market": {"market_cap_usd": "3.2e9"}}),
        ("trends.mainstream_news", {"trends": {"mainstream_news": 1}}),
        ("onchain.holder_growth_7d", {"onchain": {"holder_growth_7d": "0.05"}}),
    ],
)
def test_the_consumer_rejects_a_lax_value_naming_the_field(field: str, changes: dict) -> None:
    result = _decode(**changes)
    assert isinstance(result, Rejection), f"{changes} was accepted"
    assert result.error_kind == "schema_violation"
    assert result.error.startswith(f"{field}: ")
    assert result.signal_id == (changes.get("signal_id", GOOD["signal_id"]) if field != "signal_id"
                                else None)  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-02-05T14:30:00Z", datetime(2026, 2, 5, 14, 30, tzinfo=UTC)),
        ("2026-02-05T14:30:00.250+00:00", datetime(2026, 2, 5, 14, 30, 0, 250_000, tzinfo=UTC)),
        ("2026-02-05T20:00:00+05:30", datetime(2026, 2, 5, 14, 30, tzinfo=UTC)),
        ("2026-02-05T09:30:00-05:00", datetime(2026, 2, 5, 14, 30, tzinfo=UTC)),
    ],
)
def test_the_consumer_accepts_iso_8601_text_with_a_zone(text: str, expected: datetime) -> None:
    result = _decode(posted_at=text)
    assert isinstance(result, RawSignal)
    assert result.posted_at == expected


def test_integers_are_numbers_where_a_float_is_expected() -> None:
    result = _decode(price_usd=412, market={"market_cap_usd": 3_200_000_000})
    assert isinstance(result, RawSignal)
    assert result.price_usd == 412.0 and result.market is not None


TICK = {"ticker": "TAO", "ts": "2026-02-05T00:00:00Z", "price_usd": 1.0, "source": "feed"}
OUTCOME = {"signal_id": "s", "ticker": "TAO", "posted_at": "2026-02-05T00:00:00Z", "status": "lost",
           "label": 0}  # fmt: skip
UPDATE = {"model_version": "v1", "artifact_path": "/m/v1.json", "sha256": "0" * 64,
          "promoted_at": "2026-02-05T00:00:00Z", "action": "promote"}  # fmt: skip


@pytest.mark.parametrize(
    ("model", "document", "field"),
    [
        (PriceTick, TICK | {"ts": 1_770_000_000}, "ts"),
        (PriceTick, TICK | {"price_usd": "1.0"}, "price_usd"),
        (Outcome, OUTCOME | {"horizon_days": "30"}, "horizon_days"),
        (Outcome, OUTCOME | {"status": "won", "label": True}, "label"),
        (ModelUpdate, UPDATE | {"promoted_at": 1_770_000_000}, "promoted_at"),
        (ModelUpdate, UPDATE | {"promoted_at": "2026-02-05T00:00:00"}, "promoted_at"),
    ],
)
def test_the_other_contracts_are_strict_too(
    model: type[BaseModel], document: dict[str, Any], field: str
) -> None:
    valid = {PriceTick: TICK, Outcome: OUTCOME, ModelUpdate: UPDATE}[model]
    assert model.model_validate_json(orjson.dumps(valid)) == model.model_validate(valid)
    with pytest.raises(ValidationError) as from_json:
        model.model_validate_json(orjson.dumps(document))
    with pytest.raises(ValidationError) as from_python:
        model.model_validate(document)
    for caught in (from_json, from_python):
        assert describe_validation_error(caught.value).startswith(f"{field}: ")


def test_python_callers_pass_real_types_or_zoned_text() -> None:
    posted = datetime(2026, 2, 5, 20, 0, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    base = {"signal_id": "s", "ticker": "tao", "source": "feed"}
    assert RawSignal(**base, posted_at=posted).posted_at == posted
    assert RawSignal(**base, posted_at="2026-02-05T14:30:00Z").posted_at == posted
    for lax in ({"mention_count": "3"}, {"dan_endorsed": 1}, {"posted_at": 1_770_000_000}):
        with pytest.raises(ValidationError) as caught:
            RawSignal.model_validate({**base, "posted_at": posted, **lax})
        assert describe_validation_error(caught.value).startswith(next(iter(lax)))
    with pytest.raises(ValidationError, match="timezone"):
        RawSignal(**base, posted_at=datetime(2026, 2, 5, 14, 30))
