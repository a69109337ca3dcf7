"""Each kind of bad input gets its own error kind; the fast path rejects what the schema rejects."""

from __future__ import annotations

import orjson
import pytest
from pydantic import ValidationError

from roostr.contracts import RawSignal
from roostr.decoding import Rejection, decode_signal
from roostr.synthetic.stream import encoded, synthetic_signals

GOOD = next(synthetic_signals(1))


def _with(**changes: object) -> bytes:
    return orjson.dumps({**GOOD, **changes})


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (b"\xc3\x28 broken utf-8", "undecodable"),
        (b'{"signal_id": "x", "message": "\xff"}', "undecodable"),
        (b"{not json", "invalid_json"),
        (b"", "invalid_json"),
        (None, "invalid_json"),
        (b"[1, 2]", "schema_violation"),
        (_with(posted_at="yesterday"), "schema_violation"),
        (_with(posted_at="2026-01-01T00:00:00"), "schema_violation"),  # no zone
        (_with(reactions={"🔥": -1}), "schema_violation"),
        (_with(message="x" * 5000), "oversized"),
    ],
)
def test_bad_input_is_classified(value: bytes | None, kind: str) -> None:
    result = decode_signal(value, max_bytes=4096)
    assert isinstance(result, Rejection)
    assert result.error_kind == kind
    assert result.error


def test_schema_violation_names_the_field_and_keeps_the_signal_id() -> None:
    result = decode_signal(_with(posted_at=None, signal_id="yieldhub:42"), max_bytes=4096)
    assert isinstance(result, Rejection)
    assert result.signal_id == "yieldhub:42"
    assert result.error.startswith("posted_at:")


@pytest.mark.parametrize("signal", list(synthetic_signals(20, seed=3)))
def test_fast_path_accepts_exactly_what_the_contract_accepts(signal: dict) -> None:
    _key, value = encoded(signal)
    decoded = decode_signal(value, max_bytes=4096)
    assert decoded == RawSignal.model_validate(orjson.loads(value))


def test_fast_path_rejects_what_the_contract_rejects() -> None:
    value = _with(ticker="$$$")
    with pytest.raises(ValidationError):
        RawSignal.model_validate(orjson.loads(value))
    assert isinstance(decode_signal(value, max_bytes=4096), Rejection)


def test_nan_is_rejected_even_though_the_parser_reads_it() -> None:
    value = orjson.dumps(GOOD).replace(b'"price_usd":', b'"price_usd":NaN,"_x":', 1)
    assert isinstance(decode_signal(value, max_bytes=4096), Rejection)


def test_unknown_fields_are_kept() -> None:
    decoded = decode_signal(_with(scraper_build="2026.11"), max_bytes=4096)
    assert isinstance(decoded, RawSignal)
    assert decoded.model_dump()["scraper_build"] == "2026.11"
