"""Kafka clients configured on purpose: nothing relies on a default that could hide loss."""

from __future__ import annotations

from typing import Any

from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from roostr.settings import Settings

__all__ = [
    "RECORD_OVERHEAD_BYTES",
    "ensure_topics",
    "make_admin",
    "make_consumer",
    "make_producer",
    "max_payload_bytes",
]

RECORD_OVERHEAD_BYTES = 1024
"""Room kept under ``settings.max_record_bytes`` for a record's framing: librdkafka counts up to
~40 bytes of record header (plus header bytes) against ``message.max.bytes``, and a record that
travels alone carries a 61-byte batch header to the broker."""


def max_payload_bytes(settings: Settings) -> int:
    """The most key + value bytes one produced record may carry and still be accepted."""
    return settings.max_record_bytes - RECORD_OVERHEAD_BYTES


def make_producer(settings: Settings, **overrides: Any) -> Producer:
    """An idempotent producer: acks from all in-sync replicas, no duplicates on internal retries."""
    config = {
        **settings.kafka_common(),
        "enable.idempotence": True,  # implies acks=all and bounded in-flight requests
        "acks": "all",
        "linger.ms": 5,
        # The one record limit: the scoring service bounds every output to it (max_payload_bytes).
        "message.max.bytes": settings.max_record_bytes,
        **overrides,
    }
    return Producer(config)


def make_consumer(settings: Settings, group_id: str, **overrides: Any) -> Consumer:
    """A group member that commits only when told to, after its outputs are acknowledged."""
    config = {
        **settings.kafka_common(),
        "group.id": group_id,
        "enable.auto.commit": False,  # offsets are committed by the processing loop, explicitly
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",  # a new group starts from the beginning: nothing skipped
        "partition.assignment.strategy": "cooperative-sticky",
        "session.timeout.ms": settings.session_timeout_ms,
        "heartbeat.interval.ms": settings.heartbeat_interval_ms,
        "max.poll.interval.ms": settings.max_poll_interval_ms,
        "isolation.level": "read_committed",
        **overrides,
    }
    return Consumer(config)


def make_admin(settings: Settings) -> AdminClient:
    return AdminClient(settings.kafka_common())


def ensure_topics(settings: Settings, timeout_s: float = 30.0) -> dict[str, str]:
    """Create every configured topic that does not exist yet; returns topic → outcome.

    Idempotent: an existing topic is reported as ``exists`` and left untouched.
    """
    admin = make_admin(settings)
    existing = set(admin.list_topics(timeout=timeout_s).topics)
    wanted = settings.topic_partitions()
    results = {name: "exists" for name in wanted if name in existing}
    missing = [
        NewTopic(name, num_partitions=count, replication_factor=settings.replication_factor)
        for name, count in wanted.items()
        if name not in existing
    ]
    if missing:
        for name, future in admin.create_topics(missing, request_timeout=timeout_s).items():
            try:
                future.result()
                results[name] = "created"
            except KafkaException as exc:
                if exc.args[0].name() != "TOPIC_ALREADY_EXISTS":
                    raise
                results[name] = "exists"
    return results
