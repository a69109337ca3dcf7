"""``roostr backtest --cache DIR``: a later run reads only what was appended to each topic and
reports exactly what a run without the cache reports; when the topic changed in a way that is
not an append (deleted and created again with other records, records deleted from the head of
a partition), the cache is dropped, never used stale."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from confluent_kafka import TopicPartition
from conftest import ROOSTR, SessionBroker
from scoring_service_support import publish, wait_until

from roostr.contracts import PriceTick
from roostr.kafka import ensure_topics, make_admin
from roostr.settings import Settings
from roostr.synthetic.world import generate_world


def backtest(settings: Settings, *extra: str) -> bytes:
    result = subprocess.run(
        [*ROOSTR, "backtest", "--from", "2024-02-01", "--to", "2024-04-01", "--json",
         "--no-progress", *extra],
        env=settings.child_env(), capture_output=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout


def segment_rows(cache: Path, topic: str) -> list[int]:
    manifest = json.loads((cache / topic / "manifest.json").read_text())
    return [pq.read_metadata(cache / topic / name).num_rows for name in manifest["segments"]]


def recreate_topic(settings: Settings, topic: str) -> None:
    """Delete ``topic`` and create it again, empty (offsets start over)."""
    admin = make_admin(settings)  # held: the futures complete on its thread
    admin.delete_topics([topic])[topic].result(timeout=60)
    wait_until(lambda: topic not in admin.list_topics(timeout=10).topics, 60, "topic deleted")
    wait_until(lambda: ensure_topics(settings)[topic] == "created", 60, "topic created")


def test_a_cached_run_reads_only_appends_and_a_changed_topic_drops_the_cache(
    settings: Settings, tmp_path: Path
) -> None:
    world = generate_world(300, seed=5, span_days=90)
    ticks = [t for path in list(world.prices.values())[:40] for t in path.ticks()]
    half = len(ticks) // 2
    publish(settings, settings.topic_raw, world.signals)
    publish(settings, settings.topic_prices, ticks[:half])
    cache = tmp_path / "cache"
    backtest(settings, "--cache", str(cache))
    assert segment_rows(cache, settings.topic_prices) == [half]

    publish(settings, settings.topic_prices, ticks[half:])
    cached = backtest(settings, "--cache", str(cache))
    assert cached == backtest(settings)
    # the second run read the appended ticks (and each partition's anchor) only
    assert segment_rows(cache, settings.topic_prices) == [half, len(ticks) - half]
    assert segment_rows(cache, settings.topic_raw) == [len(world.signals)]

    recreate_topic(settings, settings.topic_prices)
    changed = [PriceTick(**(t.model_dump() | {"price_usd": t.price_usd * 3})) for t in ticks]
    publish(settings, settings.topic_prices, changed)
    fresh = backtest(settings)
    assert fresh != cached  # the prices changed what the labels are
    assert backtest(settings, "--cache", str(cache)) == fresh
    assert segment_rows(cache, settings.topic_prices) == [len(changed)]


def test_records_deleted_from_a_partitions_head_drop_the_cache(
    settings: Settings, tmp_path: Path, session_broker: SessionBroker
) -> None:
    if session_broker.kind == "tansu":
        pytest.skip(
            "the embedded Tansu broker does not implement DeleteRecords (it drops the "
            "connection); run on Apache Kafka (ROOSTR_TEST_BROKER=kafka)"
        )
    world = generate_world(200, seed=6, span_days=60)
    ticks = [t for path in list(world.prices.values())[:30] for t in path.ticks()]
    publish(settings, settings.topic_raw, world.signals)
    publish(settings, settings.topic_prices, ticks)
    cache = tmp_path / "cache"
    whole = backtest(settings, "--cache", str(cache))
    assert segment_rows(cache, settings.topic_prices) == [len(ticks)]

    # every partition loses its first half (whole tickers' paths: they were published one
    # after the other); the anchors, each partition's last record, are still there
    admin = make_admin(settings)
    ends = json.loads((cache / settings.topic_prices / "manifest.json").read_text())["anchors"]
    cut = [TopicPartition(settings.topic_prices, int(p), (a[0] + 1) // 2) for p, a in ends.items()]
    for future in admin.delete_records(cut).values():
        future.result(timeout=60)
    shorter = backtest(settings)
    assert shorter != whole  # fewer signals have prices to be labelled with
    assert backtest(settings, "--cache", str(cache)) == shorter
    left = sum(a[0] + 1 - (a[0] + 1) // 2 for a in ends.values())
    assert segment_rows(cache, settings.topic_prices) == [left]
