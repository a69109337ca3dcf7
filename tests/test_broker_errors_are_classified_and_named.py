"""What librdkafka reports about the brokers becomes one readable verdict naming the servers.

Synthetic ``KafkaError``s stand for what a real SASL broker sends (a wrong password is
``_AUTHENTICATION`` / "SASL authentication error"); the code path is the one every client uses.
"""

from __future__ import annotations

import time

import pytest
from confluent_kafka import KafkaError, KafkaException
from structlog.testing import capture_logs

from roostr import connection
from roostr.connection import BrokerWatch, LibrdkafkaLog, classify, redact, remember_secrets
from roostr.settings import Settings

SERVERS = "kafka-1:9093,kafka-2:9093"
WRONG_PASSWORD = KafkaError(
    KafkaError._AUTHENTICATION,
    "sasl_ssl://kafka-1:9093/bootstrap: SASL authentication error: Authentication failed during "
    "authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512",
)
REFUSED = KafkaError(
    KafkaError._TRANSPORT,
    "kafka-1:9093/bootstrap: Connect to ipv4#10.0.0.1:9093 failed: Connection refused",
)
ALL_DOWN = KafkaError(KafkaError._ALL_BROKERS_DOWN, "2/2 brokers are down")


def watch(connect_timeout_s: float = 10.0) -> BrokerWatch:
    return BrokerWatch(
        Settings(
            bootstrap_servers=SERVERS,
            security_protocol="SASL_SSL",
            sasl_mechanism="SCRAM-SHA-512",
            sasl_username="scorer",
            sasl_password="hunter2-do-not-log",
            connect_timeout_s=connect_timeout_s,
        )
    )


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        (KafkaError._TRANSPORT, "unreachable"),
        (KafkaError._ALL_BROKERS_DOWN, "unreachable"),
        (KafkaError._RESOLVE, "unreachable"),
        (KafkaError._AUTHENTICATION, "authentication"),
        (KafkaError.SASL_AUTHENTICATION_FAILED, "authentication"),
        (KafkaError._SSL, "tls"),
        (KafkaError._MAX_POLL_EXCEEDED, None),
    ],
)
def test_errors_are_classified_by_code(code: int, problem: str | None) -> None:
    assert classify(KafkaError(code)) == problem


def test_a_wrong_password_is_named_authentication_at_once() -> None:
    broker = watch()
    broker.on_error(WRONG_PASSWORD)
    verdict = broker.unavailable()
    assert verdict is not None and verdict.problem == "authentication"
    assert verdict.event == "broker_authentication_failed"
    message = str(verdict)
    assert message.startswith(f"authentication to Kafka broker {SERVERS} failed")
    assert "SASL authentication error" in message
    assert "sasl_ssl://kafka-1:9093/bootstrap: " not in message  # the prefix is not repeated
    assert "hunter2" not in message


def test_unreachable_is_a_verdict_only_once_all_brokers_were_down_for_the_bound() -> None:
    broker = watch(connect_timeout_s=600)
    broker.on_error(REFUSED)
    assert not broker.down, "one refused connection (a broker restarting) is not an outage"
    broker.on_error(ALL_DOWN)
    assert broker.down
    assert broker.unavailable() is None, "not before the bound"
    message = str(broker.problem())
    assert message == (
        f"Kafka broker {SERVERS} unreachable: no answer within 600 s "
        "(Connect to ipv4#10.0.0.1:9093 failed: Connection refused)"
    )
    broker.reached()
    assert not broker.down and broker.unavailable() is None


class Metadata:
    """A client whose metadata requests fail until ``up``."""

    up = False

    def list_topics(self, topic: str | None = None, timeout: float = -1) -> object:
        if not self.up:
            raise KafkaException(REFUSED)
        return object()


def test_an_outage_past_the_bound_is_logged_once_per_interval_and_cleared_by_an_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(connection, "_PROBE_INTERVAL_S", 0.0)  # probe at every check
    broker, client = watch(connect_timeout_s=0.01), Metadata()
    broker.on_error(REFUSED)
    broker.on_error(ALL_DOWN)
    time.sleep(0.05)
    with capture_logs() as logs:
        for _ in range(5):
            broker.check(client)
        assert broker.down
        client.up = True
        broker.check(client)
    assert not broker.down
    assert [e["event"] for e in logs] == ["broker_unreachable", "broker_reachable"]
    assert logs[0]["servers"] == SERVERS and logs[0]["log_level"] == "warning"


def test_other_client_errors_are_logged_rate_limited_without_secrets() -> None:
    broker = watch()
    with capture_logs() as logs:
        for _ in range(50):
            broker.on_error(KafkaError(KafkaError._MAX_POLL_EXCEEDED, "poll interval exceeded"))
    assert [e["event"] for e in logs] == ["kafka_error"]
    assert not broker.down


class _Recorder:
    """Stands in for the module's logger: the process's one may already filter below INFO (a
    CLI test configured it), and structlog caches that on first use."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, dict[str, object]]] = []

    def __getattr__(self, level: str) -> object:
        return lambda event, **fields: self.events.append((level, event, fields))


def test_librdkafka_lines_become_rate_limited_events_with_the_password_redacted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    remember_secrets(Settings(sasl_password="hunter2-do-not-log"))
    line = "[thrd:main]: sasl.password=hunter2-do-not-log, sasl.username=scorer"
    recorder = _Recorder()
    monkeypatch.setattr(connection, "log", recorder)
    librdkafka = LibrdkafkaLog()  # a fresh one: the clients' shared one may have logged already
    for _ in range(100):
        librdkafka.log(30, "%s [%s] %s", "CONFWARN", "roostr#consumer-1", line)
        librdkafka.log(40, "%s [%s] %s", "FAIL", "roostr#consumer-1", REFUSED.str())
    assert [(level, event, f["facility"]) for level, event, f in recorder.events] == [
        ("warning", "librdkafka", "CONFWARN"),
        ("debug", "librdkafka", "FAIL"),  # the error callback reports it, classified
    ]
    assert "hunter2" not in str(recorder.events)
    assert redact("x hunter2-do-not-log y") == "x *** y"
