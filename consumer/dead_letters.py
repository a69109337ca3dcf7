"""Turn a rejected input record into a DeadLetter that keeps the original bytes whole."""

from __future__ import annotations

import base64
from datetime import datetime

from confluent_kafka import Message

from consumer.decoding import Rejection
from roostr.contracts import DeadLetter

__all__ = ["dead_letter"]


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def dead_letter(
    message: Message, rejection: Rejection, failed_at: datetime, max_value_bytes: int
) -> DeadLetter:
    """The record as it arrived (key, value, headers base64) with where it came from and why.

    An oversized value is cut to ``max_value_bytes`` (and the error says so): a dead letter the
    broker refuses would block the partition's commit forever.
    """
    headers = [(name, _b64(value)) for name, value in message.headers() or []]
    value = message.value()
    error = rejection.error
    if value is not None and len(value) > max_value_bytes:
        value = value[:max_value_bytes]
        error = f"{error}; dead letter keeps the first {max_value_bytes} bytes"
    return DeadLetter(
        value_b64=_b64(value),
        key_b64=_b64(message.key()),
        headers=headers,
        source_topic=message.topic(),
        partition=message.partition(),
        offset=message.offset(),
        error_kind=rejection.error_kind,
        error=error,
        signal_id=rejection.signal_id,
        failed_at=failed_at,
    )
