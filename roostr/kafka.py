"""Kafka clients configured on purpose: nothing relies on a default that could hide loss."""

from __future__ import annotations

import time
import uuid
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from roostr.connection import LIBRDKAFKA_LOG, BrokerWatch, remember_secrets
from roostr.logs import get_logger
from roostr.settings import Settings

__all__ = [
    "RECORD_OVERHEAD_BYTES",
    "client_config",
    "commit_offsets",
    "coordinates",
    "ensure_topics",
    "log_refused_commits",
    "make_admin",
    "make_consumer",
    "make_producer",
    "max_payload_bytes",
    "require_broker",
    "watermark_offsets",
]

log = get_logger("roostr.kafka")

RECORD_OVERHEAD_BYTES = 1024
"""Room kept under ``settings.max_record_bytes`` for a record's framing: librdkafka counts up to
~40 bytes of record header (plus header bytes) against ``message.max.bytes``, and a record that
travels alone carries a 61-byte batch header to the broker."""

# How long a transaction may stay open: a crashed member's holds read_committed readers back
# until then, and batches take milliseconds.
_TRANSACTION_TIMEOUT_MS = 10_000


def max_payload_bytes(settings: Settings) -> int:
    """The most key + value bytes one produced record may carry and still be accepted."""
    return settings.max_record_bytes - RECORD_OVERHEAD_BYTES


def coordinates(message: Message) -> tuple[str, int, int]:
    """A consumed record's topic, partition and offset.

    librdkafka sets all three on every record a consumer returns; confluent-kafka types them
    Optional because a message built by hand or an error event may lack them.
    """
    topic, partition, offset = message.topic(), message.partition(), message.offset()
    if topic is None or partition is None or offset is None:
        raise ValueError(f"not a consumed record: {topic}/{partition}@{offset}")
    return topic, partition, offset


def client_config(settings: Settings) -> dict[str, Any]:
    """Where the brokers are and how to log in, with librdkafka's errors going to a
    ``BrokerWatch`` and its log to roostr's (``roostr.connection``), never raw to stderr. A
    caller that wants to know about outages passes its own watch: ``error_cb=watch.on_error``."""
    remember_secrets(settings)
    return {
        **settings.kafka_common(),
        "error_cb": BrokerWatch(settings).on_error,
        "logger": LIBRDKAFKA_LOG,
    }


def make_producer(settings: Settings, **overrides: Any) -> Producer:
    """An idempotent producer: acks from all in-sync replicas, no duplicates on internal retries."""
    config = {
        **client_config(settings),
        "enable.idempotence": True,  # implies acks=all and bounded in-flight requests
        "acks": "all",
        "linger.ms": settings.linger_ms,
        "request.timeout.ms": settings.request_timeout_ms,  # a produce's bound (librdkafka: 30 s)
        # The one record limit: the scoring service bounds every output to it (max_payload_bytes).
        "message.max.bytes": settings.max_record_bytes,
        **overrides,
    }
    return Producer(config)


def make_transactional_producer(settings: Settings, group: str, **overrides: Any) -> Producer:
    """A producer for the transactions of one member of ``group``, initialised.

    A fresh transactional.id per process: a zombie member is fenced by the consumer group
    metadata sent with its offsets (KIP-447), not by reusing an id. A crashed member's open
    transaction holds back read_committed readers until it times out (``_TRANSACTION_TIMEOUT_MS``).
    """
    transactional_id = f"{group}-{uuid.uuid4().hex}"
    transaction = {
        "transactional.id": transactional_id,
        "transaction.timeout.ms": _TRANSACTION_TIMEOUT_MS,
        # librdkafka wants the socket timeout at least 100 ms under the transaction timeout
        "socket.timeout.ms": min(settings.request_timeout_ms, _TRANSACTION_TIMEOUT_MS - 1_000),
    }
    producer = make_producer(settings, **transaction, **overrides)
    producer.init_transactions(30)
    return producer


def make_consumer(settings: Settings, group_id: str, **overrides: Any) -> Consumer:
    """A group member that commits only when told to, after its outputs are acknowledged."""
    config = {
        **client_config(settings),
        "group.id": group_id,
        "enable.auto.commit": False,  # offsets are committed by the processing loop, explicitly
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",  # a new group starts from the beginning: nothing skipped
        "partition.assignment.strategy": settings.assignment_strategy,
        "session.timeout.ms": settings.session_timeout_ms,
        "heartbeat.interval.ms": settings.heartbeat_interval_ms,
        "max.poll.interval.ms": settings.max_poll_interval_ms,
        "isolation.level": "read_committed",
        "fetch.wait.max.ms": settings.fetch_wait_ms,
        **overrides,
    }
    return Consumer(config)


def commit_offsets(
    consumer: Consumer, offsets: list[TopicPartition]
) -> list[tuple[TopicPartition, KafkaError]]:
    """Commit synchronously; returns the partitions that were not committed, each with why.

    A commit fails either whole (confluent-kafka raises) or per partition: it returns the
    TopicPartitions and sets ``.error`` on a refused one without raising. Both kinds are logged
    (``log_refused_commits``) and returned for the caller to count. Nothing is retried: a later
    commit of the same partition carries a later offset anyway, and a partition that moved in a
    rebalance is replayed by its next owner (duplicates, never a gap).
    """
    try:
        results = consumer.commit(offsets=offsets, asynchronous=False)
    except KafkaException as exc:
        return log_refused_commits(exc.args[0], offsets)
    return log_refused_commits(None, results or [])


def log_refused_commits(
    error: KafkaError | None, partitions: list[TopicPartition]
) -> list[tuple[TopicPartition, KafkaError]]:
    """The partitions a commit result refused (all of them when ``error`` is set), each logged
    as one ``commit_failed`` event; the shape of an ``on_commit`` callback's arguments."""
    refused = []
    for tp in partitions:
        why = error if error is not None else tp.error
        if why is None:
            continue
        refused.append((tp, why))
        log.warning(
            "commit_failed",
            topic=tp.topic,
            partition=tp.partition,
            offset=tp.offset,
            error=why.str() if isinstance(why, KafkaError) else str(why),
        )
    return refused


# Answers meaning "the partition's leader is not known here yet", not "no such partition": Apache
# Kafka gives them for a moment after CreateTopics (the brokers learn new leaders after the
# controller acknowledged the topic) and while a partition's leadership moves.
_LEADER_NOT_YET_KNOWN = frozenset(
    {
        KafkaError._UNKNOWN_PARTITION,
        KafkaError.UNKNOWN_TOPIC_OR_PART,
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.LEADER_NOT_AVAILABLE,
    }
)


def watermark_offsets(consumer: Consumer, tp: TopicPartition, timeout_s: float) -> tuple[int, int]:
    """A partition's low and high watermarks, asked of its leader (ListOffsets), retried while
    the leader is not known yet, up to ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            remaining = max(deadline - time.monotonic(), 0.1)
            low, high = consumer.get_watermark_offsets(tp, remaining, cached=False)
            return low, high
        except KafkaException as exc:
            if exc.args[0].code() not in _LEADER_NOT_YET_KNOWN or time.monotonic() > deadline:
                raise
        time.sleep(0.1)


def make_admin(settings: Settings, **overrides: Any) -> AdminClient:
    return AdminClient({**client_config(settings), **overrides})


def require_broker(settings: Settings) -> None:
    """Return once a broker answers a metadata request. Raise ``BrokerUnavailable`` when none
    does within ``settings.connect_timeout_s``, or as soon as the brokers refuse roostr's
    credentials or TLS: every command that talks to Kafka calls this first, so a wrong address
    or password is one clear line within seconds, not a minute of librdkafka retries."""
    watch = BrokerWatch(settings)
    admin = make_admin(settings, error_cb=watch.on_error)
    deadline = time.monotonic() + settings.connect_timeout_s
    while True:
        try:
            admin.list_topics(timeout=min(0.5, max(0.05, deadline - time.monotonic())))
            return
        except KafkaException:
            admin.poll(0)  # serves the error callback
        refused = watch.unavailable()
        if refused is not None and refused.problem != "unreachable":
            raise refused
        if time.monotonic() >= deadline:
            raise watch.problem()


def ensure_topics(settings: Settings, timeout_s: float = 30.0) -> dict[str, str]:
    """Create every configured topic that does not exist yet; returns topic → outcome.

    Idempotent: an existing topic is reported as ``exists`` and left untouched.
    """
    admin = make_admin(settings)
    existing = set(admin.list_topics(timeout=timeout_s).topics)
    wanted = settings.topic_partitions()
    results = {name: "exists" for name in wanted if name in existing}
    configs = settings.topic_configs()
    missing = [
        NewTopic(
            name,
            num_partitions=count,
            replication_factor=settings.replication_factor,
            config=configs.get(name, {}),
        )
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
