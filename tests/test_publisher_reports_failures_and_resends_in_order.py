"""The Python publisher: rejects bad input up front, reports delivery failures, keeps order."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from topic_reading import read_topic

from producer_shims import (
    DeliveryFailure,
    PricePublisher,
    RecordTooLarge,
    SignalPublisher,
    SpoolLockedError,
)
from roostr.contracts import RawSignal
from roostr.embedded_broker import EmbeddedBroker, free_port
from roostr.kafka import ensure_topics
from roostr.settings import Settings


def signal(i: int, **changes: Any) -> dict[str, Any]:
    return {
        "signal_id": f"x:{i}",
        "ticker": "TAO",
        "source": "X",
        "posted_at": "2026-03-01T12:00:00Z",
        **changes,
    }


def spooled(settings: Settings) -> list[Path]:
    return sorted((settings.spool_dir / settings.topic_raw).glob("*.batch"))


def test_published_signals_are_acknowledged_and_unspooled(settings: Settings) -> None:
    with SignalPublisher(settings) as publisher:
        accepted = publisher.publish(signal(1, ticker="$asts"))
        publisher.publish_batch([signal(2), RawSignal.model_validate(signal(3))])
        assert publisher.flush(30) == 0
    assert accepted.ticker == "ASTS"
    assert spooled(settings) == []
    records = read_topic(settings, settings.topic_raw, expected=3)
    assert sorted((r.key(), r.value()) for r in records)[0][0] == b"ASTS"
    assert len(records) == 3


def test_invalid_input_raises_and_nothing_is_spooled(settings: Settings) -> None:
    with SignalPublisher(settings) as publisher:
        with pytest.raises(ValidationError, match="posted_at"):
            publisher.publish_batch([signal(1), signal(2, posted_at="2026-03-01T12:00:00")])
        with pytest.raises(RecordTooLarge):
            publisher.publish(signal(3, blob="x" * settings.max_message_bytes))
        assert publisher.pending() == 0
    assert spooled(settings) == []


def test_one_publisher_per_spool_directory(settings: Settings) -> None:
    with SignalPublisher(settings), pytest.raises(SpoolLockedError):
        SignalPublisher(settings)
    with PricePublisher(settings):  # another topic, another spool directory
        pass


def test_failures_are_reported_and_batches_resent_oldest_first(tmp_path: Path) -> None:
    port = free_port()
    settings = Settings(
        bootstrap_servers=f"127.0.0.1:{port}",
        topic_raw=f"raw-{uuid.uuid4().hex[:8]}",
        partitions_raw=2,
        partitions_default=1,
        spool_dir=tmp_path / "spool",
    )
    failures: list[DeliveryFailure] = []
    publisher = SignalPublisher(settings, message_timeout_ms=300, on_delivery_error=failures.append)
    for batch in range(4):
        publisher.publish_batch([signal(batch * 10 + i) for i in range(5)])
    assert publisher.close(timeout_s=2) == 20  # nothing acknowledged: all still pending
    assert failures and {f.key for f in failures} == {"TAO"}
    assert len(spooled(settings)) == 4

    with EmbeddedBroker(port=port, log_path=tmp_path / "broker.log"):
        ensure_topics(settings)
        with SignalPublisher(settings) as again:
            assert again.recovered == 20
            again.publish(signal(99))  # new work goes out after the spooled batches
            assert again.flush(30) == 0
        records = read_topic(settings, settings.topic_raw, expected=21)

    ids = [RawSignal.model_validate_json(r.value()).signal_id for r in records]
    expected = [f"x:{b * 10 + i}" for b in range(4) for i in range(5)] + ["x:99"]
    assert ids == expected  # one key, one partition: offset order is publish order
    assert spooled(settings) == []
