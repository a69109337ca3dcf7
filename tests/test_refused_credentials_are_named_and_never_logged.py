"""A broker that refuses roostr's SASL login is named, as an authentication failure, within
seconds by every command; and no output line of any command ever carries the password.

The embedded broker speaks no SASL, so a SASL client is refused in the handshake with librdkafka's
``_AUTHENTICATION`` error: the code a wrong password gets from a SASL broker, through the same
path (``roostr.connection``; synthetic errors in test_broker_errors_are_classified_and_named.py).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from acl_support import as_user
from apache_kafka import SaslSsl
from cli_runs import run_cli
from pydantic import SecretStr

from roostr.connection import EXIT_BROKER_UNAVAILABLE
from roostr.embedded_broker import EmbeddedBroker, free_port
from roostr.settings import Settings

PASSWORD = f"pw-{uuid.uuid4().hex}"
SIGNALS = "".join(
    json.dumps({"signal_id": f"s:{i}", "ticker": "TAO", "source": "X",
                "posted_at": "2026-03-01T12:00:00Z"}) + "\n"
    for i in range(3)
)  # fmt: skip


@pytest.fixture(scope="module")
def refusing_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("sasl-broker") / "tansu.log"
    with EmbeddedBroker(port=free_port(), log_path=log) as broker:
        yield broker.bootstrap_servers


def sasl_settings(servers: str, tmp_path: Path) -> Settings:
    return Settings(
        bootstrap_servers=servers,
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="scorer",
        sasl_password=PASSWORD,
        connect_timeout_s=3,
        registry_dir=tmp_path / "models",
        spool_dir=tmp_path / "spool",
    )


@pytest.mark.parametrize(
    "command", [("topics", "create"), ("retrain",), ("consume", "--http-port", "0")], ids=" ".join
)
def test_refused_credentials_are_named_authentication(
    command: tuple[str, ...], refusing_broker: str, tmp_path: Path
) -> None:
    run = run_cli(sasl_settings(refusing_broker, tmp_path), *command)
    assert run.returncode == EXIT_BROKER_UNAVAILABLE, run.output
    assert run.seconds < 20
    [line] = run.lines_naming(refusing_broker)
    assert line.startswith(
        f"roostr: error: authentication to Kafka broker {refusing_broker} failed"
    )
    assert "check the SASL mechanism, username and password" in line
    assert "%3|" not in run.output and "Traceback" not in run.output


def test_publish_keeps_what_a_refusing_broker_did_not_take(
    refusing_broker: str, tmp_path: Path
) -> None:
    settings = sasl_settings(refusing_broker, tmp_path)
    run = run_cli(settings, "publish", "-", stdin=SIGNALS)
    assert run.returncode == 3, run.output
    [line] = run.lines_naming(refusing_broker)
    assert line.startswith(f"roostr: error: authentication to Kafka broker {refusing_broker}")
    assert f"3 records kept in the spool {(settings.spool_dir / 'signals.raw').resolve()}" in line


def test_no_output_line_carries_the_password(refusing_broker: str, tmp_path: Path) -> None:
    commands = [
        ("topics", "create"),
        ("publish", "-"),
        ("spool", "flush"),
        ("monitor",),
        ("models", "rollback"),
        ("consume", "--http-port", "0"),
    ]
    for servers in (refusing_broker, f"127.0.0.1:{free_port()}"):  # refused, unreachable
        settings = sasl_settings(servers, tmp_path / servers.replace(":", "-"))
        for command in commands:
            run = run_cli(settings, *command, "--log-level", "DEBUG", stdin=SIGNALS)
            assert run.returncode != 0, (command, run.output)
            assert '"event": "librdkafka"' in run.stderr, "librdkafka's own lines were checked too"
            assert PASSWORD not in run.output, command


@pytest.mark.parametrize(
    "command",
    [("topics", "create"), ("publish", "-"), ("retrain",), ("monitor",), ("join",)],
    ids=" ".join,
)
def test_a_wrong_password_on_real_kafka_is_named_authentication(
    command: tuple[str, ...], settings: Settings, sasl_ssl: SaslSsl, tmp_path: Path
) -> None:
    """The same through Apache Kafka's SASL_SSL listener (SCRAM-SHA-512, TLS): a real user
    with a wrong password."""
    user = next(iter(sasl_ssl.users))
    wrong = as_user(settings, sasl_ssl, user).model_copy(
        update={"sasl_password": SecretStr(PASSWORD), "connect_timeout_s": 5}
    )
    run = run_cli(wrong, *command, stdin=SIGNALS)
    assert run.returncode in (EXIT_BROKER_UNAVAILABLE, 3), run.output  # publish: 3, spooled
    assert run.seconds < 20
    [line] = run.lines_naming(sasl_ssl.bootstrap_servers)
    assert "authentication to Kafka broker" in line, line
    assert "%3|" not in run.output and "Traceback" not in run.output
    assert PASSWORD not in run.output and sasl_ssl.users[user] not in run.output
