"""The Apache Kafka the tests run (tests/apache_kafka.py) is the release deploy/compose.yaml
deploys; it keeps its log in its work directory and leaves no storage behind."""

from __future__ import annotations

from pathlib import Path

import apache_kafka
import pytest
from confluent_kafka.admin import AdminClient
from deploy_files import compose

pytestmark = pytest.mark.skipif(
    not apache_kafka.available(), reason="needs Java, and Maven or the cached Kafka jars"
)


def test_the_broker_started_is_the_release_compose_pins(tmp_path: Path) -> None:
    image = compose()["services"]["kafka"]["image"]
    with apache_kafka.ApacheKafka(tmp_path) as kafka:
        cluster = AdminClient({"bootstrap.servers": kafka.bootstrap_servers}).list_topics(
            timeout=10
        )
        assert list(cluster.brokers) == [kafka.node_id]
        assert (tmp_path / "data").is_dir()
    assert image == f"apache/kafka:{kafka.version}"
    assert f"Kafka version: {kafka.version}" in kafka.server_log.read_text()
    assert " INFO " not in (tmp_path / "stdout.log").read_text()  # the log goes to its file only
    assert not (tmp_path / "data").exists()
