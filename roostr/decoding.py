"""Decode and validate one input record: a RawSignal, or the reason it is dead-lettered.

The fast path is a single ``RawSignal.model_validate_json`` call on the raw bytes (pydantic's
Rust JSON parser rejects invalid UTF-8 and invalid JSON itself); the slower classification below
runs only for records that failed, so good records pay nothing for the error taxonomy.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from pydantic import ValidationError

from roostr.contracts import ErrorKind, RawSignal, describe_validation_error

__all__ = ["Rejection", "decode_signal"]


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a record cannot be scored; becomes a DeadLetter."""

    error_kind: ErrorKind
    error: str
    signal_id: str | None = None


def decode_signal(value: bytes | None, max_bytes: int) -> RawSignal | Rejection:
    """The validated signal, or a Rejection naming the first rule the bytes broke."""
    if value is None:
        return Rejection("invalid_json", "record has no value (tombstone)")
    if len(value) > max_bytes:
        return Rejection("oversized", f"value is {len(value)} bytes; limit is {max_bytes}")
    try:
        return RawSignal.model_validate_json(value)
    except ValidationError as exc:
        return _classify(value, exc)


def _classify(value: bytes, exc: ValidationError) -> Rejection:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError as bad:
        return Rejection("undecodable", f"not UTF-8: {bad.reason} at byte {bad.start}")
    if any(item["type"] == "json_invalid" for item in exc.errors(include_url=False)):
        return Rejection("invalid_json", describe_validation_error(exc))
    return Rejection("schema_violation", describe_validation_error(exc), _signal_id(value))


def _signal_id(value: bytes) -> str | None:
    """The record's signal_id when it is a readable string, so operators can find the source."""
    try:
        document = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    if isinstance(document, dict):
        signal_id = document.get("signal_id")
        if isinstance(signal_id, str) and 0 < len(signal_id) <= 256:
            return signal_id
    return None
