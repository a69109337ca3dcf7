"""A raw signal may not carry a field that ScoredSignal adds (``features``, ``tier``, ...).

The scorer would overwrite such a field, so the contract refuses it: the consumer dead-letters
the record at decode as a ``schema_violation`` naming the field (its batch is scored in one
pass), the scraper adapter refuses it before publishing, and ScoredSignal keeps its own fields.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from confluent_kafka import Message
from pydantic import ValidationError

from consumer.pipeline import encode_scored, score_batch
from producer_shims import from_scraper_dict
from roostr.contracts import RawSignal, ScoredSignal
from roostr.decoding import Rejection, decode_signal
from roostr.features import FeatureExtractor
from roostr.scoring import Scorer
from roostr.synthetic.stream import synthetic_signals

SCORED_AT = datetime(2026, 3, 1, tzinfo=UTC)
SCORED_ONLY = sorted(set(ScoredSignal.model_fields) - set(RawSignal.model_fields))
HOSTILE_VALUE: dict[str, Any] = {
    "features": {"x": 1.0},
    "tier": "high",
    "reasons": [],
    "mode": "ml",
}


def test_the_scored_only_fields_are_the_ones_scrapers_must_not_send() -> None:
    assert {"features", "tier", "scored_at", "final_score", "rule_score", "reasons"} <= set(
        SCORED_ONLY
    )


@pytest.mark.parametrize("name", SCORED_ONLY)
def test_a_scored_field_in_a_raw_signal_is_a_schema_violation(name: str) -> None:
    doc = next(synthetic_signals(1, prefix="hostile")) | {name: HOSTILE_VALUE.get(name, 9)}
    result = decode_signal(orjson.dumps(doc), max_bytes=1 << 20)
    assert isinstance(result, Rejection)
    assert result.error_kind == "schema_violation"
    assert result.error.startswith(f"{name}: ")
    assert result.signal_id == doc["signal_id"]


def test_hostile_signals_are_dead_lettered_and_the_rest_scored_in_one_pass() -> None:
    docs = list(synthetic_signals(100, prefix="drill"))
    fields = ["features", "tier", "scored_at", "final_score", "reasons"]
    hostile = [n for n in range(100) if n % 5 in (0, 1)]
    for k, n in enumerate(hostile):
        docs[n] = docs[n] | {fields[k % 5]: HOSTILE_VALUE.get(fields[k % 5], 10)}
    messages = [
        Message(topic="raw", partition=0, offset=n, key=d["ticker"].encode(), value=orjson.dumps(d))
        for n, d in enumerate(docs)
    ]

    class CountingScorer(Scorer):
        calls = 0

        def score_records(self, signals: Any, scored_at: datetime) -> list[dict[str, Any]]:
            CountingScorer.calls += 1
            return super().score_records(signals, scored_at)

    batch = score_batch(
        messages,
        CountingScorer(FeatureExtractor(), mode="rules"),
        scored_topic="scored",
        dlq_topic="dlq",
        max_bytes=1 << 20,
        max_payload_bytes=1 << 20,
        now=SCORED_AT,
    )

    assert CountingScorer.calls == 1  # no one-by-one retry
    assert len(batch.dead) == 40 and len(batch.scored) == 60
    assert {d.error_kind for d in batch.dead} == {"schema_violation"}
    assert {d.error.split(":")[0] for d in batch.dead} == set(fields)
    assert [d.offset for d in batch.dead] == hostile


def test_the_scraper_adapter_refuses_them_before_publishing() -> None:
    scraped = {"ticker": "TAO", "source": "Telegram", "message": "$TAO", "tier": "high"}
    with pytest.raises(ValidationError) as caught:
        from_scraper_dict(scraped, now=SCORED_AT)
    assert [e["loc"] for e in caught.value.errors()] == [("tier",)]


def test_a_scored_signal_still_validates_its_own_fields_and_keeps_other_extras() -> None:
    doc = next(synthetic_signals(1, prefix="ok")) | {"scraper_build": "2026.11"}
    signal = RawSignal.model_validate_json(orjson.dumps(doc))
    (record,) = Scorer(FeatureExtractor(), mode="rules").score_records([signal], SCORED_AT)
    scored = ScoredSignal.model_validate_json(encode_scored(record))
    assert scored.scored_at == SCORED_AT and scored.mode == "rules" and scored.features
    assert scored.model_extra == {"scraper_build": "2026.11"}
    with pytest.raises(ValidationError, match="tier"):
        ScoredSignal.model_validate_json(encode_scored(record | {"tier": "legendary"}))
