"""One settings object: environment, then flags; secrets never printed."""

from __future__ import annotations

import pytest

from roostr.settings import Settings
from stack.cli import build_parser, settings_from_args


def test_kafka_bootstrap_servers_env_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "broker-a:9092,broker-b:9092")
    assert Settings().bootstrap_servers == "broker-a:9092,broker-b:9092"


@pytest.mark.parametrize("variable", ["BOOTSTRAP_SERVERS", "bootstrap_servers"])
def test_only_the_two_documented_variables_name_the_brokers(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    for documented in ("KAFKA_BOOTSTRAP_SERVERS", "ROOSTR_BOOTSTRAP_SERVERS"):
        monkeypatch.delenv(documented, raising=False)
    monkeypatch.setenv(variable, "stray:9092")
    assert Settings().bootstrap_servers == "127.0.0.1:9092"
    assert "bootstrap_servers" not in Settings().model_fields_set
    monkeypatch.setenv("ROOSTR_BOOTSTRAP_SERVERS", "roostr:9092")
    assert Settings().bootstrap_servers == "roostr:9092"
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")
    assert Settings().bootstrap_servers == "kafka:9092"
    assert Settings(bootstrap_servers="given:9092").bootstrap_servers == "given:9092"


def test_a_flag_overrides_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "from-env:9092")
    monkeypatch.setenv("ROOSTR_TOPIC_RAW", "custom.raw")
    args = build_parser().parse_args(["topics", "create", "--bootstrap-servers", "from-flag:9092"])
    settings = settings_from_args(args)
    assert settings.bootstrap_servers == "from-flag:9092"
    assert settings.topic_raw == "custom.raw"


def test_security_settings_reach_librdkafka_but_not_the_repr() -> None:
    settings = Settings(
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="scorer",
        sasl_password="hunter2",
        ssl_ca_location="/etc/ssl/ca.pem",
    )
    config = settings.kafka_common()
    assert config["security.protocol"] == "SASL_SSL"
    assert config["sasl.mechanism"] == "SCRAM-SHA-512"
    assert config["sasl.password"] == "hunter2"
    assert config["ssl.ca.location"] == "/etc/ssl/ca.pem"
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings.model_dump())


def test_settings_survive_the_trip_to_a_child_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = Settings(bootstrap_servers="x:1", sasl_password="s3cret", partitions_raw=3)
    for name, value in original.to_env().items():
        monkeypatch.setenv(name, value)
    assert Settings() == original


def test_an_invalid_setting_is_a_clear_cli_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from stack.cli import main

    monkeypatch.setenv("ROOSTR_PARTITIONS_RAW", "0")
    with pytest.raises(SystemExit) as exit_info:
        main(["topics", "create"])
    assert exit_info.value.code == 2


def test_a_namespaced_copy_renames_every_topic_and_group_and_nothing_else() -> None:
    base = Settings(bootstrap_servers="b:1")
    copy = base.namespaced("t1", partitions_raw=3)
    assert copy.topic_raw == "signals.raw-t1" and copy.group_scoring == "roostr-scoring-t1"
    assert set(copy.topic_partitions()).isdisjoint(base.topic_partitions())
    assert copy.partitions_raw == 3 and copy.bootstrap_servers == "b:1"


def test_raw_records_larger_than_the_producer_limit_are_refused() -> None:
    """Publishers would accept records their producer cannot send."""
    with pytest.raises(ValueError, match="max_record_bytes"):
        Settings(max_message_bytes=2_000_000)
    assert (
        Settings(max_message_bytes=2_000_000, max_record_bytes=2_000_000).max_message_bytes
        == 2_000_000
    )


def test_min_insync_replicas_reaches_every_created_topic_and_never_exceeds_the_replicas() -> None:
    """With acks=all producers, a write is told done once this many replicas hold it."""
    assert all(
        config.get("min.insync.replicas") is None for config in Settings().topic_configs().values()
    )
    replicated = Settings(replication_factor=3, min_insync_replicas=2)
    configs = replicated.topic_configs()
    assert set(configs) == set(replicated.topic_partitions())
    assert {config["min.insync.replicas"] for config in configs.values()} == {"2"}
    assert configs[replicated.topic_feature_state]["cleanup.policy"] == "compact"
    with pytest.raises(ValueError, match="min_insync_replicas"):
        Settings(replication_factor=1, min_insync_replicas=2)
