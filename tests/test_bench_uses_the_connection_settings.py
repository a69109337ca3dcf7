"""`roostr bench` runs every client and child process on the command's connection settings.

A benchmark against a secured cluster must log in like the service does: the security flags
(or ``ROOSTR_*`` variables) reach the producers, consumers and admin client it makes and the
``roostr consume`` processes it starts. The embedded broker speaks only PLAINTEXT.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from roostr.settings import Settings
from stack.bench import measurement_settings
from stack.cli import build_parser, main, settings_from_args

FLAGS = {
    "--bootstrap-servers": "kafka-1.internal:9093",
    "--security-protocol": "SASL_SSL",
    "--sasl-mechanism": "SCRAM-SHA-512",
    "--sasl-username": "bench",
    "--sasl-password": "s3cret",
    "--ssl-ca-location": "/etc/roostr/ca.pem",
}
LIBRDKAFKA = {
    "bootstrap.servers": "kafka-1.internal:9093",
    "security.protocol": "SASL_SSL",
    "sasl.mechanism": "SCRAM-SHA-512",
    "sasl.username": "bench",
    "sasl.password": "s3cret",
    "ssl.ca.location": "/etc/roostr/ca.pem",
}


def _bench_settings(tmp_path: Path) -> Settings:
    argv = ["bench", *(part for item in FLAGS.items() for part in item), "--messages", "10"]
    return measurement_settings(settings_from_args(build_parser().parse_args(argv)), tmp_path, 3)


def test_the_clients_of_a_measurement_log_in_with_the_flags(tmp_path: Path) -> None:
    settings = _bench_settings(tmp_path)
    assert settings.kafka_common().items() >= LIBRDKAFKA.items()
    assert settings.partitions_raw == 3 and settings.topic_raw.startswith("signals.raw-bench-")


def test_the_consumer_processes_it_starts_log_in_with_the_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _bench_settings(tmp_path)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "somewhere-else:9092")  # must not win
    child_env = settings.child_env()
    for name in set(os.environ) - set(child_env):  # the child gets exactly child_env
        monkeypatch.delenv(name)
    for name, value in child_env.items():
        monkeypatch.setenv(name, value)
    child = Settings()  # what `roostr consume` reads from that environment
    assert child.kafka_common().items() >= LIBRDKAFKA.items()
    assert (child.topic_raw, child.group_scoring) == (settings.topic_raw, settings.group_scoring)


def test_security_flags_without_a_named_broker_are_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "ROOSTR_BOOTSTRAP_SERVERS"):
        monkeypatch.delenv(name, raising=False)
    assert main(["bench", "--security-protocol", "SASL_SSL", "--messages", "10"]) == 2
    assert "embedded broker is PLAINTEXT" in capsys.readouterr().err
