"""A scoring member whose principal lacks a grant says so and commits nothing it has not
delivered: without its group it waits unready; without the dead-letter topic it exits naming
the refusal (a supervisor restarts it). Once the grant is given, every record is scored or
dead-lettered, exactly once after dedupe."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from acl_support import PRINCIPALS, as_role, assert_no_password_in, grant
from apache_kafka import SaslSsl
from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AclBinding, AclOperation, ResourceType
from scoring_service_support import (
    ConsumerProcess,
    assert_each_input_once_after_dedupe,
    good_records,
    http_get,
    produce,
    read_outputs,
    wait_until,
)
from topic_reading import read_topic

from roostr.acls import acl_bindings
from roostr.settings import Settings

pytestmark = pytest.mark.slow

GOOD = good_records(80)
BAD = [(b"AAA", b"{not json"), (b"BBB", b"[]")]
EXIT_DELIVERY_FAILED = 3


def committed(settings: Settings) -> dict[int, int]:
    """The scoring group's committed offsets on the raw topic (negative: none), asked until the
    group's coordinator answers (right after a broker starts it may still be loading)."""
    partitions = [TopicPartition(settings.topic_raw, p) for p in range(settings.partitions_raw)]
    reader = Consumer({**settings.kafka_common(), "group.id": settings.group_scoring})
    found: dict[int, int] = {}

    def answered() -> bool:
        try:
            found.update({tp.partition: tp.offset for tp in reader.committed(partitions, 10)})
        except KafkaException:
            return False
        return True

    try:
        wait_until(answered, 60, "the scoring group's committed offsets")
        return found
    finally:
        reader.close()


def withhold(
    settings: Settings, sasl_ssl: SaslSsl, missing: Callable[[AclBinding], bool]
) -> list[AclBinding]:
    """Grant the scoring role all but the bindings ``missing`` picks; returns those."""
    bindings = list(acl_bindings(settings, {"scoring": PRINCIPALS["scoring"]}))
    withheld = [b for b in bindings if missing(b)]
    assert withheld
    grant(settings, sasl_ssl, [b for b in bindings if b not in withheld])
    return withheld


def assert_every_record_once(settings: Settings) -> None:
    scored, dead = read_outputs(settings, len(GOOD) + len(BAD), timeout_s=90)
    ids = {s.signal_id for s in scored}
    assert len(ids) == len(GOOD), f"{len(ids)} of {len(GOOD)} scored"
    assert len({(d.partition, d.offset) for d in dead}) == len(BAD)
    assert_each_input_once_after_dedupe(scored, ids, allow_duplicates=True)


def test_without_read_on_its_group_scoring_waits_unready_then_scores_everything_once(
    settings: Settings, sasl_ssl: SaslSsl, tmp_path: Path
) -> None:
    withheld = withhold(settings, sasl_ssl, lambda b: b.restype == ResourceType.GROUP)
    produce(settings, GOOD + BAD)
    consumer = ConsumerProcess(as_role(settings, sasl_ssl, "scoring"), tmp_path, "consume")
    try:
        port = consumer.wait_for_event("http_listening")["port"]
        for _ in range(15):
            assert consumer.process.poll() is None, consumer.tail()
            assert http_get(port, "/readyz")[0] == 503
            time.sleep(1)
        refusals = [e for e in consumer.events() if "GROUP_AUTHORIZATION_FAILED" in str(e)]
        assert refusals, consumer.tail()
        assert all(offset < 0 for offset in committed(settings).values())
        grant(settings, sasl_ssl, withheld)
        assert_every_record_once(settings)
        wait_until(lambda: http_get(port, "/readyz")[0] == 200, 30, "readiness once granted")
        assert consumer.terminate() == 0, consumer.tail()
    finally:
        consumer.ensure_stopped()
    assert_no_password_in(sasl_ssl, [], [consumer.log_path])


def test_without_write_on_the_dlq_scoring_exits_naming_it_and_a_restart_loses_nothing(
    settings: Settings, sasl_ssl: SaslSsl, tmp_path: Path
) -> None:
    withheld = withhold(
        settings,
        sasl_ssl,
        lambda b: b.name == settings.topic_dlq and b.operation == AclOperation.WRITE,
    )
    produce(settings, GOOD + BAD)
    scoring = as_role(settings, sasl_ssl, "scoring")
    first = ConsumerProcess(scoring, tmp_path, "refused")
    try:
        assert first.wait(90) == EXIT_DELIVERY_FAILED, first.tail()
    finally:
        first.ensure_stopped()
    failures = first.events("delivery_failed")
    assert failures and "TOPIC_AUTHORIZATION_FAILED" in failures[0]["error"], first.tail()
    raw = read_topic(settings, settings.topic_raw, len(GOOD) + len(BAD))
    dead_letters = [m for m in raw if m.value() in {value for _key, value in BAD}]
    offsets = committed(settings)
    for message in dead_letters:  # nothing committed past a record whose output was refused
        assert offsets[message.partition()] <= message.offset(), offsets
    grant(settings, sasl_ssl, withheld)
    second = ConsumerProcess(scoring, tmp_path, "granted")
    try:
        assert_every_record_once(settings)
        assert second.terminate() == 0, second.tail()
    finally:
        second.ensure_stopped()
    assert_no_password_in(sasl_ssl, [], [first.log_path, second.log_path])
