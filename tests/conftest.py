"""The one broker fixture for the whole suite, and per-test isolated settings.

Broker choice, in order: ``KAFKA_BOOTSTRAP_SERVERS`` if set; a testcontainers Kafka container when
a Docker engine answers; Apache Kafka run locally (``apache_kafka.py``) when Java and its Maven
artifacts can be had; else the embedded Tansu broker. ``ROOSTR_TEST_BROKER`` (``testcontainers``,
``kafka`` or ``tansu``) forces one, ahead of ``KAFKA_BOOTSTRAP_SERVERS`` too, so CI runs the
suite on the broker it names. Every test that reaches the broker is marked ``broker``
(``pytest -m broker``). The local Apache Kafka also serves SASL_SSL with ACLs, a SCRAM user per
role of ``roostr.acls`` (``sasl_ssl``); the other brokers do not, and tests needing it skip there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import apache_kafka
import pytest

from roostr.acls import ROLES
from roostr.embedded_broker import BrokerStartError, EmbeddedBroker, free_port
from roostr.kafka import ensure_topics
from roostr.settings import Settings

# How tests start the CLI: the interpreter running pytest, so no virtualenv needs activating.
ROOSTR = (sys.executable, "-m", "stack")


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:  # noqa: BLE001 - no engine, no socket, no permission: all mean "no"
        return False


def _apache_kafka_resolves() -> bool:
    """Java is there and the Kafka jars are cached or resolved now (once, then cached)."""
    if not apache_kafka.available():
        return False
    try:
        apache_kafka.classpath()
    except (OSError, subprocess.SubprocessError, BrokerStartError) as exc:
        warnings.warn(f"Apache Kafka unavailable, falling back: {exc}", stacklevel=1)
        return False
    return True


@dataclass(frozen=True)
class SessionBroker:
    """The session's broker: its PLAINTEXT address, on the local Apache Kafka its SASL_SSL
    listener, and which kind the fixture chose (a ``BROKERS`` name, or "external":
    ``KAFKA_BOOTSTRAP_SERVERS``, not started here)."""

    bootstrap_servers: str
    sasl_ssl: apache_kafka.SaslSsl | None = None
    kind: str = "external"


# The SCRAM user of each role: the principals deploy/kafka/acls.sh grants by default.
ROLE_USERS = {role: f"roostr-{role}" for role in ROLES}


@contextmanager
def _testcontainers(_: Path) -> Iterator[SessionBroker]:
    from testcontainers.kafka import KafkaContainer

    with KafkaContainer() as kafka:
        yield SessionBroker(kafka.get_bootstrap_server())


@contextmanager
def _apache_kafka(work_dir: Path) -> Iterator[SessionBroker]:
    with apache_kafka.ApacheKafka(work_dir, scram_users=ROLE_USERS.values()) as kafka:
        yield SessionBroker(kafka.bootstrap_servers, kafka.sasl_ssl)


@contextmanager
def _tansu(work_dir: Path) -> Iterator[SessionBroker]:
    with EmbeddedBroker(port=free_port(), log_path=work_dir / "tansu.log") as broker:
        yield SessionBroker(broker.bootstrap_servers)


# Name (ROOSTR_TEST_BROKER) → (whether it can run here, how to run it in a work directory), in the
# order the automatic choice tries them.
BROKERS: dict[
    str, tuple[Callable[[], bool], Callable[[Path], AbstractContextManager[SessionBroker]]]
] = {
    "testcontainers": (_docker_answers, _testcontainers),
    "kafka": (_apache_kafka_resolves, _apache_kafka),
    "tansu": (lambda: True, _tansu),
}


def chosen_broker() -> str:
    """The session broker's kind, decided without starting it: a ``BROKERS`` name, or
    "external" for ``KAFKA_BOOTSTRAP_SERVERS``."""
    forced = os.environ.get("ROOSTR_TEST_BROKER")
    if forced:
        if forced not in BROKERS:
            raise pytest.UsageError(f"ROOSTR_TEST_BROKER={forced}: one of {', '.join(BROKERS)}")
        return forced
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        return "external"
    return next(name for name, (runs_here, _) in BROKERS.items() if runs_here())


@pytest.fixture(scope="session")
def session_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SessionBroker]:
    """A real Kafka-protocol broker for this test session."""
    name = chosen_broker()
    if name == "external":
        yield SessionBroker(os.environ["KAFKA_BOOTSTRAP_SERVERS"])
        return
    with BROKERS[name][1](tmp_path_factory.mktemp(f"broker-{name}")) as started:
        yield replace(started, kind=name)


@pytest.fixture(scope="session")
def kafka_bootstrap(session_broker: SessionBroker) -> str:
    """Bootstrap address of the session's broker (PLAINTEXT: a super user where ACLs apply)."""
    return session_broker.bootstrap_servers


@pytest.fixture
def real_transactions(session_broker: SessionBroker) -> None:
    """Skips a test that needs aborted transactions hidden from read_committed readers: the
    embedded Tansu broker leaves them visible (consumer/README.md, "Brokers")."""
    if session_broker.kind == "tansu":
        pytest.skip(
            "the embedded Tansu broker leaves aborted transactional records visible to "
            "read_committed readers; run on Apache Kafka (ROOSTR_TEST_BROKER=kafka)"
        )


@pytest.fixture(scope="session")
def sasl_ssl(session_broker: SessionBroker) -> apache_kafka.SaslSsl:
    """The session broker's SASL_SSL listener; skips unless it is the local Apache Kafka."""
    if session_broker.sasl_ssl is None:
        pytest.skip("SASL_SSL and ACLs need the local Apache Kafka (tests/apache_kafka.py)")
    return session_broker.sasl_ssl


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks every test that uses the broker fixture, directly or through another, ``broker``."""
    for item in items:
        if "session_broker" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.broker)


def private_settings(kafka_bootstrap: str, folder: Path, **overrides: Any) -> Settings:
    """Settings whose topics, groups and local state (under ``folder``) belong to one test or
    module alone, topics created; ``overrides`` win over these defaults."""
    configured = Settings(bootstrap_servers=kafka_bootstrap).namespaced(
        uuid.uuid4().hex[:10],
        **{
            "partitions_raw": 4,
            "partitions_default": 2,
            "session_timeout_ms": 6_000,
            "heartbeat_interval_ms": 500,
            "registry_dir": folder / "models",
            "spool_dir": folder / "spool",
            **overrides,
        },
    )
    ensure_topics(configured)
    return configured


@pytest.fixture
def settings(kafka_bootstrap: str, tmp_path: Path) -> Settings:
    """Settings whose topics, groups and local state belong to this test alone (topics created)."""
    return private_settings(kafka_bootstrap, tmp_path)
