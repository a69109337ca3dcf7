"""Outcomes on signals.outcomes feed the source track record the consumer's features use."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from scoring_service_support import ConsumerProcess, good_records, produce, read_outputs

from roostr.contracts import Outcome
from roostr.kafka import make_producer
from roostr.settings import Settings


def test_outcomes_published_before_start_count_in_the_track_record(
    settings: Settings, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"mode": "rules"})
    (record,) = good_records(1)  # posted 2026-01-01, after every outcome below resolved
    source = orjson.loads(record[1])["source"]
    producer = make_producer(settings)
    for i, status in enumerate(("won", "won", "lost")):
        outcome = Outcome(
            signal_id=f"past:{i}", ticker="OLD", source=source,
            posted_at=datetime(2025, 9, 1, tzinfo=UTC), status=status,
            label=1 if status == "won" else 0,
            hit_at=datetime(2025, 9, 5, tzinfo=UTC) if status == "won" else None,
        )  # fmt: skip
        producer.produce(settings.topic_outcomes, value=outcome.model_dump_json().encode())
    assert producer.flush(10) == 0
    produce(settings, [record])

    consumer = ConsumerProcess(settings, tmp_path, "scorer")
    try:
        (scored,), _dead = read_outputs(settings, expected=1)
        assert consumer.terminate() == 0, consumer.tail()
    finally:
        consumer.ensure_stopped()
    assert scored.features["source_resolved_signals"] == 3
    assert scored.features["source_hit_rate"] == pytest.approx(2 / 3)
