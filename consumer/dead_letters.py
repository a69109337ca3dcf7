"""Turn a rejected input record into a DeadLetter record that always fits the producer's limit.

A dead letter the producer or the broker refuses stops its partition for good: the batch is
never committed and every restart fails on the same record. So every part of the letter is
bounded, within ``max_payload_bytes`` (key + value of the DLQ record, see
``roostr.kafka.max_payload_bytes``), each part kept whole while it fits its share:

- error text: at most an eighth (and 64 KiB), cut to a prefix;
- original key (``key_b64``): at most an eighth, cut to a prefix;
- headers: at most a quarter, kept whole in order up to the first that does not fit;
- signal_id: at most 1 KiB;
- the value: everything left (at least about half the budget), cut to a prefix.

Cut parts are named in ``truncated``; original sizes and sha256 digests are always given. The
DLQ record's key is the original key up to 1 KiB, else ``sha256:<hex digest of the key>`` (the
same original key still lands on the same DLQ partition). Should a letter still not fit
(defence in depth), a minimal one replaces it: coordinates, kind, sizes, digests, a short error.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import orjson
from confluent_kafka import Message
from pydantic import TypeAdapter

from roostr.contracts import DeadLetter, LetterPart
from roostr.decoding import Rejection
from roostr.kafka import coordinates

__all__ = ["DLQ_KEY_MAX_BYTES", "DeadLetterRecord", "dead_letter"]

DLQ_KEY_MAX_BYTES = 1024
_ERROR_MAX_BYTES = 64 * 1024
_SIGNAL_ID_MAX_BYTES = 1024
_MINIMAL_ERROR_BYTES = 1024

_encode = TypeAdapter(DeadLetter).dump_json


@dataclass(frozen=True, slots=True)
class DeadLetterRecord:
    """A dead letter ready to produce: the letter, its DLQ record key and its JSON value."""

    letter: DeadLetter
    key: bytes | None
    value: bytes


def dead_letter(
    message: Message, rejection: Rejection, failed_at: datetime, max_payload_bytes: int
) -> DeadLetterRecord:
    """The record as it arrived (key, value, headers base64), where it came from and why."""
    value, key = message.value(), message.key()
    topic, partition, offset = coordinates(message)
    # confluent-kafka types headers() as produce() takes them (a dict, or str values too); a
    # consumed record's headers are always (name, bytes | None) pairs.
    consumed_headers = cast(list[tuple[str, bytes | None]], message.headers() or [])
    headers = [(_text(name), data) for name, data in consumed_headers]
    dlq_key = _dlq_key(key)
    budget = max_payload_bytes - len(dlq_key or b"")
    truncated: list[LetterPart] = []
    error = _cut_error(rejection.error, min(_ERROR_MAX_BYTES, budget // 8), truncated)
    signal_id = rejection.signal_id
    if signal_id is not None:
        signal_id = _cut(_text(signal_id), _SIGNAL_ID_MAX_BYTES, "signal_id", truncated)
    fields: dict[str, Any] = {  # the DeadLetter fields shared by the measuring and the real letter
        "source_topic": topic,
        "partition": partition,
        "offset": offset,
        "error_kind": rejection.error_kind,
        "error": error,
        "signal_id": signal_id,
        "failed_at": failed_at,
        "key_b64": _b64(_cut_bytes(key, budget // 8, "key", truncated)),
        "headers": _whole_headers(headers, budget // 4, truncated),
        "value_bytes": _size(value),
        "key_bytes": _size(key),
        "header_count": len(headers),
        "headers_bytes": sum(len(name.encode()) + len(data or b"") for name, data in headers),
        "error_chars": len(rejection.error),
        "value_sha256": _sha256(value),
        "key_sha256": _sha256(key),
    }
    # Measured with an empty value and "value" among the cut parts: the most those two can
    # take apart from the value's own base64, which then gets all the room that is left.
    room = budget - len(
        _encode(DeadLetter(value_b64="", truncated=[*truncated, "value"], **fields))
    )
    value_b64 = _b64(_cut_bytes(value, room, "value", truncated))
    letter = DeadLetter(value_b64=value_b64, truncated=truncated, **fields)
    encoded = _encode(letter)
    if len(encoded) > budget:
        letter = _minimal(letter, rejection, min(_MINIMAL_ERROR_BYTES, budget // 8))
        encoded = _encode(letter)
    return DeadLetterRecord(letter, dlq_key, encoded)


def _minimal(letter: DeadLetter, rejection: Rejection, error_bytes: int) -> DeadLetter:
    """Coordinates, kind, original sizes and digests, a short error: none of the record's bytes."""
    truncated: list[LetterPart] = []
    error = _cut_error(rejection.error, error_bytes, truncated)
    dropped: dict[LetterPart, bool] = {
        "value": bool(letter.value_bytes),
        "key": letter.key_bytes is not None,
        "headers": bool(letter.header_count),
        "signal_id": "signal_id" in letter.truncated,
    }
    truncated += [part for part, cut in dropped.items() if cut]
    return DeadLetter.model_validate(
        letter.model_dump()
        | {
            "value_b64": None,
            "key_b64": None,
            "headers": [],
            "error": error,
            "truncated": truncated,
        }
    )


def _dlq_key(key: bytes | None) -> bytes | None:
    """The original key while small; a digest of it otherwise (keeps the DLQ partition stable)."""
    if key is None or len(key) <= DLQ_KEY_MAX_BYTES:
        return key
    return b"sha256:" + hashlib.sha256(key).hexdigest().encode()


def _whole_headers(
    headers: list[tuple[str, bytes | None]], max_bytes: int, truncated: list[LetterPart]
) -> list[tuple[str, str | None]]:
    """Headers kept whole, in order, while their JSON fits ``max_bytes``."""
    kept: list[tuple[str, str | None]] = []
    used = 2  # the list's brackets
    for name, data in headers:
        entry = (name, _b64(data))
        cost = len(orjson.dumps(entry)) + 1  # the comma
        if used + cost > max_bytes:
            truncated.append("headers")
            break
        kept.append(entry)
        used += cost
    return kept


def _cut_error(error: str, max_bytes: int, truncated: list[LetterPart]) -> str:
    """The error text, or as much of its start as fits, saying how long it was."""
    text = _text(error)
    if _json_len(text) <= max_bytes:
        return text
    note = f" … (cut; {len(error)} characters in all)"
    return _cut(text, max_bytes - len(note.encode()), "error", truncated) + note


def _cut(text: str, max_bytes: int, part: LetterPart, truncated: list[LetterPart]) -> str:
    """The longest prefix of ``text`` whose JSON string takes at most ``max_bytes``."""
    if _json_len(text) <= max_bytes:
        return text
    truncated.append(part)
    low, high = 0, min(len(text), max(max_bytes, 0))  # every character takes at least a byte
    while low < high:
        middle = (low + high + 1) // 2
        if _json_len(text[:middle]) <= max_bytes:
            low = middle
        else:
            high = middle - 1
    return text[:low]


def _cut_bytes(
    data: bytes | None, max_b64_bytes: int, part: LetterPart, truncated: list[LetterPart]
) -> bytes | None:
    """The longest prefix of ``data`` whose base64 takes at most ``max_b64_bytes``."""
    if data is None or _b64_len(len(data)) <= max_b64_bytes:
        return data
    truncated.append(part)
    return data[: max(max_b64_bytes, 0) // 4 * 3]


def _text(text: str) -> str:
    """``text`` as valid UTF-8: a lone surrogate (from a header name, say) would not encode."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _json_len(text: str) -> int:
    return len(orjson.dumps(text))


def _b64_len(size: int) -> int:
    return (size + 2) // 3 * 4


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def _size(data: bytes | None) -> int | None:
    return None if data is None else len(data)


def _sha256(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()
