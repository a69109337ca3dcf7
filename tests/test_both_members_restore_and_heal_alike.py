"""The scoring service and the outcome joiner run on one runtime (``consumer.runtime``), so they
restore, retry and report readiness the same way, and both heal a stall the same way:

- a state restore that fails is retried with readiness off, and nothing is processed on partial
  state (the scoring member's side: tests/test_feature_restore_failure_is_retried.py; the
  joiner's here, with the same events);
- a member whose group cannot assign it anything, while the group lags, is reported stalled,
  joins again with a fresh consumer a bounded number of times, then exits 4 for its supervisor.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from confluent_kafka import Consumer
from scoring_service_support import (
    ConsumerProcess,
    failing_once,
    good_records,
    produce,
    wait_until,
)
from structlog.testing import capture_logs
from test_outcome_joiner_labels_every_scored_signal import (
    assert_labels,
    join_settings,  # noqa: F401 - the fixture, shared
    outcomes_by_id,
    publish_world,
)

import consumer.joiner
from consumer.joiner import OutcomeJoiner
from consumer.runtime import EXIT_STALLED
from roostr.settings import Settings


def test_a_failed_joiner_restore_is_retried_unready_and_labels_everything(
    join_settings: Settings,  # noqa: F811 - the fixture imported above
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = join_settings.model_copy(update={"joiner_http_port": 0})
    signals, ticks, _rest = publish_world(settings, seed=5)
    monkeypatch.setattr(
        consumer.joiner, "restore_partitions", failing_once(consumer.joiner.restore_partitions)
    )
    joiner = OutcomeJoiner(settings)
    thread = threading.Thread(target=joiner.run, daemon=True)
    with capture_logs() as events:
        thread.start()
        try:
            wait_until(
                lambda: any(e["event"] == "joiner_state_restore_failed" for e in events),
                60,
                "the injected restore failure",
            )
            assert not joiner.ready()
            found = outcomes_by_id(settings, len(signals))
            wait_until(joiner.ready, 30, "the joiner ready after the retry")
        finally:
            joiner.stop()
            thread.join(60)
    assert not thread.is_alive()
    names = [e["event"] for e in events]
    failed = names.index("joiner_state_restore_failed")
    assert "joiner_state_restore_recovered" in names[failed:]
    restored = [e["partition"] for e in events if e["event"] == "joiner_state_restored"]
    assert sorted(restored) == list(
        range(settings.partitions_raw)
    )  # each pair once, after the retry
    assert_labels(found, signals, ticks)


def _hog(settings: Settings, group: str, topics: list[str], strategy: str) -> Consumer:
    """A member of ``group`` that takes the only partitions and never processes them: its member
    id sorts first (client.id "aaa"), so the round-robin and range assignors give it everything."""
    hog = Consumer(
        {
            **settings.kafka_common(),
            "group.id": group,
            "client.id": "aaa-hog",
            "partition.assignment.strategy": strategy,
            "enable.auto.commit": False,
            "session.timeout.ms": settings.session_timeout_ms,
            "heartbeat.interval.ms": settings.heartbeat_interval_ms,
        }
    )
    hog.subscribe(topics)
    return hog


@pytest.mark.slow
@pytest.mark.parametrize("member", ["consume", "join"])
def test_a_member_left_without_partitions_rejoins_then_exits_for_its_supervisor(
    kafka_bootstrap: str, tmp_path: Path, member: str
) -> None:
    from conftest import private_settings

    settings = private_settings(
        kafka_bootstrap,
        tmp_path,
        partitions_raw=1,
        partitions_default=1,
        stall_after_s=1.0,
        stall_rejoin_after_s=1.0,
        stall_rejoins=2,
    )
    if member == "consume":
        group, topics, strategy = settings.group_scoring, [settings.topic_raw], "roundrobin"
        produce(settings, good_records(50, prefix="stall"))
    else:
        group, strategy = settings.group_joiner, "range"
        topics = [settings.topic_scored, settings.topic_prices]
        publish_world(settings, seed=3)
    hog = _hog(settings, group, topics, strategy)
    stop = threading.Event()

    def keep_membership() -> None:
        while not stop.is_set():
            hog.poll(0.2)

    keeper = threading.Thread(target=keep_membership)
    keeper.start()
    process = ConsumerProcess(settings, tmp_path, member, command=member)
    try:
        status = process.wait(150)
        assert status == EXIT_STALLED, process.tail()
        rejoins = process.events("member_rejoining")
        assert [e["rejoin"] for e in rejoins] == [1, 2]
        assert len(process.events("member_joining")) == 3  # the first consumer and two fresh ones
        assert process.events("member_gave_up")
        assert {e["reason"] for e in process.events("member_stalled")} == {"unassigned"}
        assert not process.events("partitions_assigned")  # the hog held everything throughout
    finally:
        process.ensure_stopped()
        stop.set()
        keeper.join(10)
        hog.close()
