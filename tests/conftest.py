"""The one broker fixture for the whole suite, and per-test isolated settings.

Broker choice, in order: ``KAFKA_BOOTSTRAP_SERVERS`` if set; a testcontainers Kafka container when
a Docker engine answers; else the embedded Tansu broker, started as a subprocess on a free port.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from roostr.embedded_broker import EmbeddedBroker, free_port
from roostr.kafka import ensure_topics
from roostr.settings import Settings

# How tests start the CLI: the interpreter running pytest, so no virtualenv needs activating.
ROOSTR = (sys.executable, "-m", "roostr")


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:  # noqa: BLE001 - no engine, no socket, no permission: all mean "no"
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap address of a real Kafka-protocol broker for this test session."""
    if servers := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield servers
        return
    if _docker_answers():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer() as kafka:
            yield kafka.get_bootstrap_server()
        return
    log = tmp_path_factory.mktemp("broker") / "tansu.log"
    with EmbeddedBroker(port=free_port(), log_path=log) as broker:
        yield broker.bootstrap_servers


@pytest.fixture
def settings(kafka_bootstrap: str, tmp_path: Path) -> Settings:
    """Settings whose topics, groups and local state belong to this test alone (topics created)."""
    configured = Settings(bootstrap_servers=kafka_bootstrap).namespaced(
        uuid.uuid4().hex[:10],
        partitions_raw=4,
        partitions_default=2,
        session_timeout_ms=6_000,
        heartbeat_interval_ms=500,
        registry_dir=tmp_path / "models",
        spool_dir=tmp_path / "spool",
    )
    ensure_topics(configured)
    return configured
