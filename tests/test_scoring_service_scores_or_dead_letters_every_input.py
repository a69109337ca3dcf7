"""End to end through a real ``roostr consume`` process: every input becomes exactly one output.

Good signals are scored exactly as the Scorer scores the same events offline; each kind of bad
input is dead-lettered with its reason and its original bytes, and the consumer keeps going.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

import orjson
from scoring_service_support import (
    ConsumerProcess,
    good_records,
    produce,
    read_outputs,
    train_tiny_model,
    without_scored_at,
)

from roostr.contracts import RawSignal
from roostr.features import FeatureExtractor
from roostr.registry import ModelRegistry
from roostr.scoring import Scorer, scored_signals
from roostr.settings import Settings

MAX_BYTES = 2048


def _bad_records() -> list[tuple[bytes | None, bytes, str, str | None]]:
    """(key, value, expected error kind, expected signal_id)."""
    missing_time = {"signal_id": "bad:no-time", "ticker": "TAO", "source": "s"}
    bad_ticker = {"signal_id": "bad:ticker", "ticker": "not a ticker!", "source": "s",
                  "posted_at": "2026-01-01T00:00:00Z"}  # fmt: skip
    huge = {"signal_id": "bad:huge", "ticker": "TAO", "source": "s",
            "posted_at": "2026-01-01T00:00:00Z", "message": "x" * 3000}  # fmt: skip
    return [
        (b"TAO", b"\xff\xfe\x00 not utf-8", "undecodable", None),
        (b"TAO", b'{"signal_id": "bad:cut", "ticker": ', "invalid_json", None),
        (b"TAO", orjson.dumps(missing_time), "schema_violation", "bad:no-time"),
        (None, orjson.dumps(bad_ticker), "schema_violation", "bad:ticker"),
        (b"TAO", orjson.dumps(huge), "oversized", None),
    ]


def test_good_inputs_are_scored_like_offline_and_bad_ones_dead_lettered(
    settings: Settings, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"max_message_bytes": MAX_BYTES, "mode": "hybrid"})
    registry = ModelRegistry(settings.registry_dir)
    train_tiny_model(registry, seed=1)
    good = good_records(60)
    bad = _bad_records()
    # Interleave the bad records between good ones, all on one partition: a defined order.
    records: list[tuple[bytes | None, bytes]] = list(good)
    for i, (key, value, _kind, _sid) in enumerate(bad):
        records.insert(5 + i * 11, (key, value))
    produce(settings, records, partition=0)

    consumer = ConsumerProcess(settings, tmp_path, "scorer")
    try:
        scored, dead = read_outputs(settings, expected=len(records))
        assert consumer.process.poll() is None, consumer.tail()
        assert consumer.terminate() == 0, consumer.tail()
    finally:
        consumer.ensure_stopped()

    assert len(scored) == len(good) and len(dead) == len(bad)
    by_offset = {letter.offset: letter for letter in dead}
    for i, (key, value, kind, signal_id) in enumerate(bad):
        letter = by_offset[5 + i * 11]
        assert (letter.error_kind, letter.signal_id) == (kind, signal_id), letter
        assert letter.key_b64 == (base64.b64encode(key).decode() if key else None)
        assert letter.source_topic == settings.topic_raw and letter.partition == 0
        assert letter.error
        if kind != "oversized":
            assert base64.b64decode(letter.value_b64 or "") == value
    assert "posted_at" in by_offset[5 + 2 * 11].error

    scorer = Scorer(extractor=FeatureExtractor(), model=registry.load(), mode="hybrid")
    offline = scored_signals(
        scorer.score_records(
            [RawSignal.model_validate_json(v) for _k, v in good], datetime.now(UTC)
        )
    )
    # Output partitions follow the ticker, so compare per signal rather than in read order.
    assert {s.signal_id: without_scored_at(s) for s in scored} == {
        s.signal_id: without_scored_at(s) for s in offline
    }
    assert all(s.model_version == registry.champion() and not s.degraded for s in scored)
