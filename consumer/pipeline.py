"""The batch steps of the scoring service, as plain functions: decode → score → encode.

``ScoringService`` composes them; the benchmark and the tests call the same functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import orjson
import pydantic_core
from confluent_kafka import Message, TopicPartition

from consumer.dead_letters import dead_letter
from consumer.track_records import complete_to
from roostr.contracts import DeadLetter, Mode, RawSignal
from roostr.decoding import Rejection, decode_signal
from roostr.delivery import Output
from roostr.kafka import coordinates
from roostr.logs import get_logger

__all__ = [
    "BatchScorer",
    "ScoredBatch",
    "ScoredRecord",
    "encode_scored",
    "next_offsets",
    "score_batch",
]

if TYPE_CHECKING:  # kept out of start-up: they import xgboost and the feature stack
    from roostr.model import ConvictionModel
    from roostr.scoring import Unscored  # the scorer's per-signal failure

log = get_logger("roostr.consumer")

# Scored records are dicts from ``Scorer.score_records`` encoded by orjson: building a ScoredSignal
# per record to hand it to pydantic's serializer cost more than scoring it (stack/bench.py
# --codec). Dead letters are rare, so they keep the model (consumer/dead_letters.py).
_LOGGED_ERROR_CHARS = 1000  # the letter keeps up to 64 KiB of error text; a log line need not

ScoredRecord = dict[str, Any]


class BatchScorer(Protocol):
    """The seam to ``roostr.scoring.Scorer``: what the service needs of it, nothing more.

    ``score_records`` returns, per input and in input order, a record or an ``Unscored``; it
    advances feature state once per signal and is never called twice for one signal.
    """

    def score_records(
        self, signals: Sequence[RawSignal], scored_at: datetime
    ) -> Sequence[ScoredRecord | Unscored]: ...
    def set_model(self, model: ConvictionModel | None) -> None: ...
    def set_shadow(self, model: ConvictionModel | None) -> None: ...
    def set_mode(self, mode: Mode) -> None: ...


@dataclass(slots=True)
class ScoredBatch:
    """One batch's outputs, in input order, plus what the metrics need."""

    outputs: list[Output] = field(default_factory=list)
    scored: list[ScoredRecord] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    rest: list[Message] = field(default_factory=list)  # not processed: the next batch's first
    signals: list[RawSignal] = field(default_factory=list)  # the signals scored, in order


def score_batch(
    messages: Sequence[Message],
    scorer: BatchScorer,
    *,
    scored_topic: str,
    dlq_topic: str,
    max_bytes: int,
    max_payload_bytes: int,
    now: datetime,
    ready: Callable[[Sequence[tuple[int, datetime | None]]], tuple[list[bool], datetime | None]]
    | None = None,
) -> ScoredBatch:
    """Every input message becomes exactly one output: a scored record or a DeadLetter.

    ``max_bytes`` bounds the input values; ``max_payload_bytes`` every output's key + value, so
    the producer accepts all of them: a scored record above it is dead-lettered as ``oversized``.
    ``ready`` gets each message's (partition, posted_at or None) before anything is scored
    (``consumer.track_records``: it waits for the outcomes they need) and says which to process
    now and the label cutoff they are scored at (each record names the one its track records
    are complete to: ``complete_to``); the others are returned unprocessed, in order,
    in ``rest``, for the next batch.
    """
    decoded = [decode_signal(m.value(), max_bytes) for m in messages]
    batch = ScoredBatch()
    label_cutoff = None
    if ready is not None:
        chosen, label_cutoff = ready(
            [
                (m.partition() or 0, d.posted_at if isinstance(d, RawSignal) else None)
                for m, d in zip(messages, decoded, strict=True)
            ]
        )
        if not all(chosen):
            batch.rest = [m for m, ok in zip(messages, chosen, strict=True) if not ok]
            messages = [m for m, ok in zip(messages, chosen, strict=True) if ok]
            decoded = [d for d, ok in zip(decoded, chosen, strict=True) if ok]
    signals = batch.signals = [d for d in decoded if isinstance(d, RawSignal)]
    results = iter(_score_or_isolate(scorer, signals, now))
    for message, item in zip(messages, decoded, strict=True):
        result = next(results) if isinstance(item, RawSignal) else item
        if isinstance(result, dict):
            result["label_cutoff"] = complete_to(label_cutoff, result["posted_at"])
            key, value = result["ticker"].encode(), encode_scored(result)
            if len(key) + len(value) <= max_payload_bytes:
                batch.scored.append(result)
                batch.outputs.append(Output(scored_topic, key, value))
                continue
            result = Rejection(
                "oversized",
                f"scored record is {len(key) + len(value)} bytes; limit is {max_payload_bytes}",
                result["signal_id"],
            )
        record = dead_letter(message, result, now, max_payload_bytes)
        letter = record.letter
        log.warning(
            "dead_lettered",
            partition=message.partition(),
            offset=message.offset(),
            signal_id=letter.signal_id,
            error_kind=letter.error_kind,
            error=letter.error[:_LOGGED_ERROR_CHARS],
            truncated=letter.truncated,
        )
        batch.dead.append(letter)
        batch.outputs.append(Output(dlq_topic, record.key, record.value))
    return batch


def _score_or_isolate(
    scorer: BatchScorer, signals: list[RawSignal], now: datetime
) -> list[ScoredRecord | Rejection]:
    """Score the batch once; a signal the scorer could not score is dead-lettered as ``processing``.

    The scorer isolates failing signals itself (the Scorer already falls back to rules on a
    model failure, so these are failures of features or of record building). Its feature state
    advances exactly once per signal, so nothing here scores a signal a second time: a retry
    would read state that later signals have moved on. Should the scorer fail as a whole (a
    bug), every signal of the batch is dead-lettered with the error.
    """
    if not signals:
        return []
    try:
        results = scorer.score_records(signals, now)
        if len(results) != len(signals):
            raise RuntimeError(f"scorer returned {len(results)} results for {len(signals)} signals")
    except Exception as exc:  # noqa: BLE001 - dead-letter the batch instead of stopping it
        log.error("batch_scoring_failed", error=repr(exc), signals=len(signals))
        error = f"scoring failed: {exc!r}"
        return [Rejection("processing", error, signal.signal_id) for signal in signals]
    return [
        result
        if isinstance(result, dict)
        else Rejection("processing", f"scoring failed: {result.error}", result.signal_id)
        for result in results
    ]


def encode_scored(record: ScoredRecord) -> bytes:
    """orjson, or pydantic's encoder for what orjson refuses (an extra field's integer > 64 bit)."""
    try:
        return orjson.dumps(record)
    except orjson.JSONEncodeError:
        return pydantic_core.to_json(record)


def next_offsets(messages: Sequence[Message]) -> list[TopicPartition]:
    """Per partition, the offset to commit: one past the last message of the batch."""
    last: dict[tuple[str, int], int] = {}
    for message in messages:
        topic, partition, offset = coordinates(message)
        last[(topic, partition)] = max(last.get((topic, partition), -1), offset)
    return [
        TopicPartition(topic, partition, offset + 1) for (topic, partition), offset in last.items()
    ]
