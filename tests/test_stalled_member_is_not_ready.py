"""A scoring member left without partitions while its group lags reports itself: `/readyz` 503,
`roostr_consumer_stalled` 1, `member_stalled`; it recovers once it gets the partition and scores.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition
from scoring_service_support import (
    ConsumerProcess,
    good_records,
    http_get,
    metric,
    produce,
    read_outputs,
    wait_until,
)

from roostr.kafka import ensure_topics, make_consumer
from roostr.settings import Settings

pytestmark = pytest.mark.slow


class PartitionHolder(threading.Thread):
    """A member of the scoring group that takes the partitions and sits on them: paused, but
    polling on, so it stays in the group and answers rebalances (the test's sticky assignor lets
    it keep what it holds; round robin would hand the partition to whichever member id sorts
    first)."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(daemon=True)
        self.held: list[TopicPartition] = []
        self._closing = threading.Event()
        self._consumer = make_consumer(settings, settings.group_scoring)  # the member's assignor
        self._consumer.subscribe([settings.topic_raw], on_assign=self._on_assign)

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        consumer.pause(partitions)
        self.held += partitions

    def run(self) -> None:
        while not self._closing.is_set():
            self._consumer.poll(0.2)  # returns nothing while paused; serves the group protocol

    def close(self) -> None:
        """Leave the group now (no session timeout to wait for)."""
        self._closing.set()
        self.join(10)
        self._consumer.close()


def test_member_without_partitions_is_not_ready_until_it_gets_one(
    settings: Settings, tmp_path: Path
) -> None:
    one = settings.model_copy(
        update={"topic_raw": f"{settings.topic_raw}-one", "partitions_raw": 1, "mode": "rules",
                "stall_after_s": 3.0, "assignment_strategy": "cooperative-sticky"}
    )  # fmt: skip
    ensure_topics(one)
    holder = PartitionHolder(one)
    holder.start()
    member = None
    try:
        wait_until(lambda: bool(holder.held), 60, "the holder to join")
        records = good_records(30)
        produce(one, records)
        member = ConsumerProcess(one, tmp_path, "member")
        port = member.wait_for_event("http_listening")["port"]

        wait_until(lambda: metric(port, "roostr_consumer_stalled") == 1.0, 60, "stall reported")
        assert http_get(port, "/readyz")[0] == 503
        assert http_get(port, "/healthz")[0] == 200  # alive: a restart is not what it needs
        stalled = member.wait_for_event("member_stalled")
        assert stalled["reason"] == "unassigned" and stalled["group_lag"] > 0
        assert not member.events("partitions_assigned")
        assert metric(port, "roostr_group_lag") > 0

        holder.close()
        scored, dead = read_outputs(one, len(records), timeout_s=90)
        assert {s.signal_id for s in scored} == {json.loads(v)["signal_id"] for _k, v in records}
        assert not dead
        wait_until(lambda: http_get(port, "/readyz")[0] == 200, 60, "ready again")
        assert metric(port, "roostr_consumer_stalled") == 0.0
        assert member.wait_for_event("member_recovered")["stalled_s"] > 0
        assert member.terminate() == 0, member.tail()
    finally:
        if holder.is_alive():
            holder.close()
        if member is not None:
            member.ensure_stopped()
