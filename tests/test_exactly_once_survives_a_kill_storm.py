"""``roostr consume --transactional`` is exactly-once through a kill -9 storm, on Apache Kafka.

Three members score a stream with poison records in it while members are killed (SIGKILL: no
drain, no abort, no group leave) at random moments and restarted. A read_committed reader must
then find every input exactly once in ``signals.scored`` ∪ ``signals.dlq`` (signal_id for a
scored record, source offset for a dead letter): no duplicate at all, nothing lost. The group's
committed offsets must stand at the end of ``signals.raw``, and a fresh member restoring from the
feature-state changelog must score new records as one clean in-process run does.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest
from scoring_service_support import (
    ConsumerProcess,
    SteadyProducer,
    assert_each_input_once_after_dedupe,
    assert_scored_as_one_clean_run,
    good_records,
    produce,
    read_outputs,
    train_tiny_model,
    wait_until,
)
from topic_reading import read_topic

from roostr.contracts import DeadLetter
from roostr.group_lag import GroupLagReader
from roostr.registry import ModelRegistry
from roostr.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("real_transactions")]

MEMBERS, STREAMED, LATER, KILLS = 3, 4000, 40, 8


def _poison(count: int) -> list[tuple[bytes, bytes]]:
    """Undecodable bytes, cut JSON and schema violations, on several keys (partitions)."""
    kinds = [
        lambda i: b"\xff\xfe not utf-8 %d" % i,
        lambda i: b'{"signal_id": "poison:cut:%d", "ticker": ' % i,
        lambda i: json.dumps({"signal_id": f"poison:{i}", "ticker": "TK1"}).encode(),
    ]
    return [(f"TK{i % 12}".encode(), kinds[i % len(kinds)](i)) for i in range(count)]


def _with_poison(
    good: list[tuple[bytes, bytes]], poison: list[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    stream = list(good)
    step = len(good) // (len(poison) + 1)
    for i, record in enumerate(poison):
        stream.insert((i + 1) * step + i, record)
    return stream


def _storm(
    members: list[ConsumerProcess], settings: Settings, tmp_path: Path, rng: random.Random
) -> list[ConsumerProcess]:
    """KILLS times: wait 1.5–4 s, kill -9 a random member, start its replacement at once."""
    killed = []
    for kill in range(KILLS):
        time.sleep(rng.uniform(1.5, 4.0))
        slot = rng.randrange(len(members))
        victim = members[slot]
        assert victim.process.poll() is None, f"exited on its own: {victim.tail()}"
        victim.kill()
        killed.append(victim)
        members[slot] = ConsumerProcess(
            settings, tmp_path, f"member-{slot}-after-kill-{kill}", "--transactional"
        )
    return killed


def _assert_each_poison_once(dead: list[DeadLetter], poison_count: int) -> None:
    """One dead letter per poison record: counted by source offset, none twice."""
    sources = [(letter.partition, letter.offset) for letter in dead]
    assert len(sources) == len(set(sources)), "a poison record was dead-lettered twice"
    assert len(sources) == poison_count, f"{len(sources)} dead letters for {poison_count} poison"


def test_kill_9_storm_leaves_each_input_exactly_once(settings: Settings, tmp_path: Path) -> None:
    settings = settings.model_copy(update={"feature_snapshot_every": 100})
    train_tiny_model(ModelRegistry(settings.registry_dir), seed=3)
    records = good_records(STREAMED + LATER, prefix="eos")
    poison = _poison(30)
    stream = SteadyProducer(settings, _with_poison(records[:STREAMED], poison), rate=200)
    started = time.monotonic()
    stream.start()
    members = [
        ConsumerProcess(settings, tmp_path, f"member-{i}", "--transactional")
        for i in range(MEMBERS)
    ]
    killed: list[ConsumerProcess] = []
    fresh = None
    try:
        wait_until(lambda: any(m.events("batch_scored") for m in members), 90, "scoring")
        killed = _storm(members, settings, tmp_path, random.Random(16))
        stream.join(120)
        read_outputs(settings, expected=STREAMED + len(poison), timeout_s=150)
        for member in members:
            assert member.terminate() == 0, member.tail()
        lag = GroupLagReader(settings, settings.group_scoring, settings.topic_raw, 10).read()
        assert lag is not None and all(p.lag == 0 for p in lag.values()), lag

        produce(settings, records[STREAMED:])  # on the tickers the storm's members scored
        fresh = ConsumerProcess(settings, tmp_path, "fresh", "--transactional")
        scored, dead = read_outputs(settings, expected=len(records) + len(poison), timeout_s=90)
        assert fresh.terminate() == 0, fresh.tail()
    finally:
        for process in [*members, *killed, *([fresh] if fresh else [])]:
            process.ensure_stopped()
    written = read_topic(
        settings, settings.topic_scored, len(scored), isolation_level="read_uncommitted"
    )
    print(
        f"exactly-once drill: {len(records) + len(poison)} inputs ({len(poison)} poison), "
        f"{len(killed)} kills, {time.monotonic() - started:.0f} s; {len(scored)} scored and "
        f"{len(dead)} dead letters read_committed; {len(written) - len(scored)} scored records "
        "of aborted transactions (read_uncommitted only)"
    )
    assert len(killed) == KILLS
    duplicates = assert_each_input_once_after_dedupe(
        scored, {f"eos:7:{i}" for i in range(len(records))}, allow_duplicates=False
    )
    assert duplicates == 0
    _assert_each_poison_once(dead, len(poison))
    model = ModelRegistry(settings.registry_dir).load()
    assert_scored_as_one_clean_run(scored, records, model, settings.mode)
    (restored,) = fresh.events("feature_state_restored")
    assert restored["snapshot_entries"] > 0  # state from the transactional snapshots...
    assert restored["tail_records"] < STREAMED  # ...plus a bounded tail, not the history
