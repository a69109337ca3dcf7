"""A backtest replays the raw topic without touching the live scoring group: its committed
offsets stay where they were and nothing is written to ``signals.scored``."""

from __future__ import annotations

import subprocess

from confluent_kafka import Consumer, TopicPartition
from conftest import ROOSTR
from scoring_service_support import publish
from signal_factory import T0, make_signal
from topic_reading import read_topic

from roostr.settings import Settings


def live_group(settings: Settings) -> Consumer:
    return Consumer({**settings.kafka_common(), "group.id": settings.group_scoring,
                     "enable.auto.commit": False})  # fmt: skip


def test_replay_leaves_committed_offsets_and_scored_topic_untouched(settings: Settings) -> None:
    signals = [make_signal(n, ticker=f"T{n % 5}", price_usd=1.0) for n in range(40)]
    publish(settings, settings.topic_raw, signals)
    topic = settings.topic_raw
    partitions = range(settings.partitions_raw)
    committed = [TopicPartition(topic, p, 1) for p in partitions]  # the live group's progress
    group = live_group(settings)
    try:
        group.commit(offsets=committed, asynchronous=False)
        before = {tp.partition: tp.offset for tp in group.committed(committed, timeout=10)}
    finally:
        group.close()
    assert before == dict.fromkeys(partitions, 1)

    run = subprocess.run(
        [*ROOSTR, "backtest", "--from", T0.date().isoformat(), "--to", "2027-01-01",
         "--json", "--no-progress"],
        env=settings.child_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert '"in_range": 40' in run.stdout

    group = live_group(settings)
    try:
        after = {tp.partition: tp.offset for tp in group.committed(committed, timeout=10)}
    finally:
        group.close()
    assert after == before
    assert read_topic(settings, settings.topic_scored, expected=0, settle_s=1.0) == []
