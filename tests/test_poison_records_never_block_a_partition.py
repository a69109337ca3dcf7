"""A record whose dead letter would be huge is dead-lettered in bounds; its partition moves on.

The drill behind this: a 258 KB value with ~29,000 field errors (1.7 MB of error text), a 700 KB
Kafka key, or ~1 MB of headers each made a dead letter larger than the producer's limit, which
killed the member on every restart and blocked the partition for good.
"""

from __future__ import annotations

import base64
import hashlib
import string
from itertools import product
from pathlib import Path

import orjson
from confluent_kafka import Consumer, TopicPartition
from scoring_service_support import ConsumerProcess, good_records, read_outputs, wait_until
from topic_reading import read_topic

from roostr.contracts import DeadLetter
from roostr.kafka import make_producer, max_payload_bytes
from roostr.settings import Settings

ERRORS = 28_600


def _many_errors() -> bytes:
    """~258 KB of JSON whose every reaction count is negative: one field error per entry."""
    names = ("".join(p) for p in product(string.ascii_letters + string.digits, repeat=3))
    reactions = {next(names): -1 for _ in range(ERRORS)}
    signal = {"signal_id": "poison:errors", "ticker": "TAO", "source": "drill",
              "posted_at": "2026-01-01T00:00:00Z", "reactions": reactions}  # fmt: skip
    return orjson.dumps(signal)


HUGE_KEY = b"K" * 700_000
HUGE_HEADERS = [(f"header-{i:03d}", bytes([i % 256]) * 1_500) for i in range(600)]
NOT_A_SIGNAL = orjson.dumps({"signal_id": "poison:other", "ticker": "TAO"})


def _committed(settings: Settings, partition: int) -> int:
    reader = Consumer({**settings.kafka_common(), "group.id": settings.group_scoring})
    try:
        [tp] = reader.committed([TopicPartition(settings.topic_raw, partition)], timeout=10)
        return tp.offset
    finally:
        reader.close()


def test_poison_records_are_dead_lettered_in_bounds_and_the_partition_moves_on(
    settings: Settings, tmp_path: Path
) -> None:
    errors_value = _many_errors()
    assert 250_000 < len(errors_value) <= settings.max_message_bytes  # reaches validation
    before, after = good_records(10, prefix="before"), good_records(10, prefix="after", seed=8)
    poison = [  # (key, value, headers)
        (b"TAO", errors_value, None),
        (HUGE_KEY, NOT_A_SIGNAL, None),
        (b"TAO", NOT_A_SIGNAL, HUGE_HEADERS),
    ]
    producer = make_producer(settings, **{"linger.ms": 0})
    for key, value in before:
        producer.produce(settings.topic_raw, key=key, value=value, partition=0)
    for key, value, headers in poison:
        producer.produce(settings.topic_raw, key=key, value=value, headers=headers, partition=0)
    for key, value in after:
        producer.produce(settings.topic_raw, key=key, value=value, partition=0)
    assert producer.flush(30) == 0
    total = len(before) + len(poison) + len(after)

    consumer = ConsumerProcess(settings, tmp_path, "scorer")
    try:
        scored, dead = read_outputs(settings, expected=total)
        wait_until(lambda: _committed(settings, 0) == total, 30, "offset committed past poison")
        assert consumer.process.poll() is None, consumer.tail()
        assert consumer.terminate() == 0, consumer.tail()
    finally:
        consumer.ensure_stopped()

    assert {s.signal_id for s in scored} == {
        orjson.loads(value)["signal_id"] for _key, value in before + after
    }
    by_offset = {letter.offset: letter for letter in dead}
    assert sorted(by_offset) == [10, 11, 12]
    errors, huge_key, huge_headers = (by_offset[o] for o in (10, 11, 12))

    assert errors.error_kind == "schema_violation" and errors.signal_id == "poison:errors"
    assert errors.error.startswith("reactions.")
    assert "error" in errors.truncated and errors.error_chars > 1_500_000
    assert base64.b64decode(errors.value_b64 or "") == errors_value  # the value still fits whole
    assert errors.value_bytes == len(errors_value)

    assert huge_key.error_kind == "schema_violation" and "posted_at" in huge_key.error
    assert huge_key.key_bytes == len(HUGE_KEY) and "key" in huge_key.truncated
    assert huge_key.key_sha256 == hashlib.sha256(HUGE_KEY).hexdigest()
    assert HUGE_KEY.startswith(base64.b64decode(huge_key.key_b64 or ""))

    assert huge_headers.header_count == len(HUGE_HEADERS) and "headers" in huge_headers.truncated
    assert huge_headers.headers_bytes == sum(len(n) + len(v) for n, v in HUGE_HEADERS)
    kept = huge_headers.headers
    assert 0 < len(kept) < len(HUGE_HEADERS)
    assert [(n, base64.b64decode(v or "")) for n, v in kept] == HUGE_HEADERS[: len(kept)]

    # The DLQ record's key: the original key while small, its digest otherwise.
    dlq_keys = {
        DeadLetter.model_validate_json(m.value()).offset: m.key()
        for m in read_topic(settings, settings.topic_dlq, 3, timeout_s=10, settle_s=0)
    }
    assert dlq_keys[10] == b"TAO" and dlq_keys[12] == b"TAO"
    assert dlq_keys[11] == b"sha256:" + hashlib.sha256(HUGE_KEY).hexdigest().encode()


def test_a_scored_record_above_the_limit_is_dead_lettered_as_oversized(
    settings: Settings, tmp_path: Path
) -> None:
    """With raw records allowed up to the record limit, scoring can push one above it."""
    settings = settings.model_copy(update={"max_message_bytes": settings.max_record_bytes})
    [(key, base), *after] = good_records(6, prefix="big")
    signal = orjson.loads(base)
    signal["transcript"] = ""  # an extra field: kept, and scored records carry it along
    filler = max_payload_bytes(settings) - 500 - len(key) - len(orjson.dumps(signal))
    signal["transcript"] = "x" * filler
    big = orjson.dumps(signal)
    assert len(key) + len(big) <= max_payload_bytes(settings)  # a valid raw record
    producer = make_producer(settings, **{"linger.ms": 0})
    for k, v in [(key, big), *after]:
        producer.produce(settings.topic_raw, key=k, value=v, partition=0)
    assert producer.flush(30) == 0

    consumer = ConsumerProcess(settings, tmp_path, "scorer")
    try:
        scored, dead = read_outputs(settings, expected=1 + len(after))
        wait_until(lambda: _committed(settings, 0) == 1 + len(after), 30, "offsets committed")
        assert consumer.terminate() == 0, consumer.tail()
    finally:
        consumer.ensure_stopped()

    assert {s.signal_id for s in scored} == {orjson.loads(v)["signal_id"] for _k, v in after}
    [letter] = dead
    assert (letter.error_kind, letter.signal_id, letter.offset) == (
        "oversized",
        signal["signal_id"],
        0,
    )
    assert letter.error.startswith("scored record is ") and letter.value_bytes == len(big)
    assert "value" in letter.truncated and big.startswith(base64.b64decode(letter.value_b64 or ""))
