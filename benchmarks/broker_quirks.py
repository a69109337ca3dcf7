"""Which of the embedded broker's known quirks a broker shows (ARCHITECTURE.md, "Brokers").

roostr's code must be correct on Apache Kafka and must not depend on a quirk; this says which
quirks are still there on a given broker, so the workarounds and notes stay honest:

    python benchmarks/broker_quirks.py --bootstrap-servers 127.0.0.1:9092 [--json]

Start the broker first (``roostr broker`` for Tansu, ``python tests/apache_kafka.py`` for Apache
Kafka). Each check uses its own topics and groups; it prints what it measured and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

Check = Callable[[str], dict[str, Any]]


def _topic(bootstrap: str, partitions: int = 1, config: dict[str, str] | None = None) -> str:
    name = f"quirks-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    topic = NewTopic(name, num_partitions=partitions, replication_factor=1, config=config or {})
    admin.create_topics([topic])[name].result()
    return name


def _produce(bootstrap: str, topic: str, count: int, start_ms: int = 0, **config: Any) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 50, **config})
    for i in range(count):
        producer.produce(topic, value=f"r{i}".encode(), partition=0, timestamp=start_ms + i * 1000)
    producer.flush(30)


def _reader(bootstrap: str, **config: Any) -> Consumer:
    return Consumer(
        {"bootstrap.servers": bootstrap, "group.id": uuid.uuid4().hex, **config}
        | {"enable.auto.commit": False, "auto.offset.reset": "earliest"}
    )


def offsets_for_times(bootstrap: str) -> dict[str, Any]:
    """Tansu answered offset 0 for any timestamp; the right answer here is offset 60."""
    topic = _topic(bootstrap)
    start_ms = int(time.time() * 1000) - 3_600_000
    _produce(bootstrap, topic, 100, start_ms)
    reader = _reader(bootstrap)
    (found,) = reader.offsets_for_times([TopicPartition(topic, 0, start_ms + 60_000)], 10)
    reader.close()
    return {"expected": 60, "answered": found.offset}


def list_offsets_end(bootstrap: str) -> dict[str, Any]:
    """Tansu's ListOffsets(LATEST) under-reported a topic made by CreateTopics."""
    topic = _topic(bootstrap)
    _produce(bootstrap, topic, 1597)
    reader = _reader(bootstrap)
    _, high = reader.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    reader.close()
    return {"produced": 1597, "high_watermark": high}


def aborted_transactions(bootstrap: str) -> dict[str, Any]:
    """Tansu left aborted records visible to read_committed readers."""
    topic = _topic(bootstrap)
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": uuid.uuid4().hex})
    producer.init_transactions(30)
    producer.begin_transaction()
    for i in range(10):
        producer.produce(topic, value=f"aborted{i}".encode(), partition=0)
    producer.flush(30)
    producer.abort_transaction(30)
    _produce(bootstrap, topic, 5)  # committed, non-transactional: the reader's end marker
    reader = _reader(bootstrap, **{"isolation.level": "read_committed"})
    reader.assign([TopicPartition(topic, 0, 0)])
    values: list[bytes] = []
    deadline = time.monotonic() + 10
    while b"r4" not in values and time.monotonic() < deadline:
        values += [m.value() or b"" for m in reader.consume(100, 1) if m.error() is None]
    reader.close()
    return {"read": len(values), "aborted_visible": sum(v.startswith(b"aborted") for v in values)}


def first_group_join(bootstrap: str) -> dict[str, Any]:
    """Tansu took ~3.6 s (session.timeout.ms 6000) to ~23 s (librdkafka's 45 s) to join."""
    topic = _topic(bootstrap, partitions=2)
    _produce(bootstrap, topic, 1)
    seconds = {}
    for session_ms in (6_000, 45_000):
        reader = _reader(bootstrap, **{"session.timeout.ms": session_ms})
        began = time.monotonic()
        reader.subscribe([topic])
        while not reader.consume(1, 0.1):
            pass
        seconds[f"session_{session_ms}ms_s"] = round(time.monotonic() - began, 2)
        reader.close()
    return seconds


def describe_config_defaults(bootstrap: str) -> dict[str, Any]:
    """Tansu's DescribeConfigs left out default configs such as retention.ms."""
    topic = _topic(bootstrap)
    admin = AdminClient({"bootstrap.servers": bootstrap})
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    configs = admin.describe_configs([resource])[resource].result()
    retention = configs.get("retention.ms")
    return {"configs": len(configs), "retention.ms": retention.value if retention else None}


def _accepted(producer: Producer, topic: str, size: int) -> bool:
    outcome: list[KafkaError | None] = []
    producer.produce(topic, value=b"x" * size, on_delivery=lambda err, _msg: outcome.append(err))
    producer.flush(30)
    return len(outcome) == 1 and outcome[0] is None  # KafkaError == None raises


def max_message(bootstrap: str) -> dict[str, Any]:
    """Which single-record sizes are accepted (noted as ~1 MB on Tansu; Kafka: 1048588 bytes)."""
    topic = _topic(bootstrap)
    producer = Producer({"bootstrap.servers": bootstrap, "message.max.bytes": 10_000_000})
    return {
        str(size): _accepted(producer, topic, size)
        for size in (900_000, 1_040_000, 1_100_000, 8_000_000)
    }


CHECKS: dict[str, Check] = {
    "offsets_for_times": offsets_for_times,
    "list_offsets_end": list_offsets_end,
    "aborted_transactions": aborted_transactions,
    "first_group_join": first_group_join,
    "describe_config_defaults": describe_config_defaults,
    "max_message": max_message,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check(args.bootstrap_servers)
        except KafkaException as exc:
            results[name] = {"error": str(exc)}
        if not args.json:
            print(f"{name}: {results[name]}", flush=True)
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
