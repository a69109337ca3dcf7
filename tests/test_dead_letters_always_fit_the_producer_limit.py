"""Whatever the sizes of a rejected record's parts, its dead letter fits the producer's limit.

Dead letters are built from hostile records (huge or absent values, keys, header lists, header
names, error texts, signal ids, with characters JSON must escape) for any valid
``max_record_bytes``; each must encode within the payload limit and say what it cut.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime

import orjson
from confluent_kafka import Message
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from consumer.dead_letters import DLQ_KEY_MAX_BYTES, dead_letter
from roostr.contracts import DeadLetter
from roostr.decoding import Rejection
from roostr.kafka import max_payload_bytes
from roostr.settings import Settings

FAILED_AT = datetime(2026, 11, 27, tzinfo=UTC)
# Characters that cost more as JSON than as text: quotes, backslashes, control characters,
# multi-byte UTF-8, a lone surrogate (not even valid UTF-8).
HOSTILE = st.text(alphabet='a"\\\x00\x1f\n/é€😀\ud800', min_size=1, max_size=8)


def _repeat(pattern: str, length: int) -> str:
    return (pattern * (length // len(pattern) + 1))[:length]


@st.composite
def rejected_records(draw: st.DrawFn) -> tuple[Message, Rejection]:
    sizes = st.none() | st.integers(0, 2_000_000)
    value_size, key_size = draw(sizes), draw(sizes)
    value = None if value_size is None else bytes(range(256)) * (value_size // 256) + b"v"
    key = None if key_size is None else b"\xff" * key_size
    name = _repeat(draw(HOSTILE), draw(st.integers(0, 600)))
    header_value = draw(st.none() | st.integers(0, 6_000))
    headers = [
        (f"{name}{i}", None if header_value is None else b"h" * header_value)
        for i in range(draw(st.integers(0, 3_000)))
    ]
    error = _repeat(draw(HOSTILE), draw(st.integers(1, 3_000_000)))
    signal_id = draw(st.none() | HOSTILE.map(lambda p: _repeat(p, 5_000)) | st.just("sig:1"))
    kind = draw(st.sampled_from(["undecodable", "invalid_json", "schema_violation", "oversized"]))
    message = Message(
        topic="signals.raw", partition=3, offset=41, key=key, value=value, headers=headers
    )
    return message, Rejection(kind, error, signal_id)


def _decoded(b64: str | None) -> bytes | None:
    return None if b64 is None else base64.b64decode(b64)


def _digest(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


@hypothesis_settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(record=rejected_records(), limit=st.integers(16 * 1024, 3_000_000))
def test_every_dead_letter_encodes_within_the_limit(
    record: tuple[Message, Rejection], limit: int
) -> None:
    message, rejection = record
    budget = max_payload_bytes(Settings(max_record_bytes=limit, max_message_bytes=1024))
    built = dead_letter(message, rejection, FAILED_AT, budget)
    assert len(built.key or b"") + len(built.value) <= budget

    letter = DeadLetter.model_validate_json(built.value)
    assert letter == built.letter
    value, key, headers = message.value(), message.key(), message.headers() or []
    assert (letter.source_topic, letter.partition, letter.offset) == ("signals.raw", 3, 41)
    assert letter.error_kind == rejection.error_kind
    assert (letter.value_bytes, letter.key_bytes) == (_size(value), _size(key))
    assert (letter.value_sha256, letter.key_sha256) == (_digest(value), _digest(key))
    assert letter.header_count == len(headers) and letter.error_chars == len(rejection.error)
    if key is not None and len(key) > DLQ_KEY_MAX_BYTES:
        assert built.key == b"sha256:" + hashlib.sha256(key).hexdigest().encode()
    else:
        assert built.key == key

    # With any valid setting the parts' shares fit: the minimal fallback is never needed.
    assert (letter.value_b64 is None) == (value is None)
    # Kept parts are prefixes of the originals, whole unless named in ``truncated``.
    for part, original, kept in (
        ("value", value, _decoded(letter.value_b64)),
        ("key", key, _decoded(letter.key_b64)),
    ):
        if part in letter.truncated:
            assert kept is None or (original or b"").startswith(kept)
        else:
            assert kept == original
    kept_headers = [(n, _decoded(v)) for n, v in letter.headers]
    assert [n for n, _v in kept_headers] == [
        n.encode("utf-8", "backslashreplace").decode() for n, _v in headers[: len(kept_headers)]
    ]
    assert [v for _n, v in kept_headers] == [v for _n, v in headers[: len(kept_headers)]]
    assert ("headers" in letter.truncated) == (len(kept_headers) < len(headers))
    if "error" not in letter.truncated:
        assert letter.error == rejection.error.encode("utf-8", "backslashreplace").decode()
    else:
        assert letter.error.endswith(f"(cut; {len(rejection.error)} characters in all)")


def _size(data: bytes | None) -> int | None:
    return None if data is None else len(data)


def test_a_letter_that_cannot_fit_is_replaced_by_a_minimal_one() -> None:
    """Below any valid setting, so only the defence-in-depth path can keep it in bounds."""
    value, key = b"v" * 5_000, b"k" * DLQ_KEY_MAX_BYTES
    message = Message(
        topic="signals.raw",
        partition=1,
        offset=7,
        key=key,
        value=value,
        headers=[("trace", b"t" * 100)],
    )
    rejection = Rejection("schema_violation", "ticker: bad; " * 10_000, "€" * 300)
    built = dead_letter(message, rejection, FAILED_AT, max_payload_bytes=3_000)

    assert len(built.key or b"") + len(built.value) <= 3_000
    letter = DeadLetter.model_validate_json(built.value)
    assert (letter.value_b64, letter.key_b64, letter.headers) == (None, None, [])
    assert sorted(letter.truncated) == ["error", "headers", "key", "value"]
    assert (letter.partition, letter.offset, letter.error_kind) == (1, 7, "schema_violation")
    assert (letter.value_bytes, letter.key_bytes, letter.header_count) == (5_000, 1_024, 1)
    assert letter.value_sha256 == hashlib.sha256(value).hexdigest()
    assert letter.key_sha256 == hashlib.sha256(key).hexdigest()
    assert letter.error.startswith("ticker: bad; ") and len(letter.error.encode()) < 1_024
    assert letter.signal_id == "€" * 300
    assert orjson.loads(built.value)["error_chars"] == len(rejection.error)
