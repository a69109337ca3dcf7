"""A changelog partition restores the state as of its last marker, reading from the last snapshot:
records read stay proportional to the live state however long the history grows, and a batch cut
short by a crash (entries with no marker) is ignored."""

from __future__ import annotations

from consumer.changelog import PartitionLog, restore_partitions
from roostr.delivery import Output, deliver
from roostr.kafka import make_producer
from roostr.settings import Settings


def write(settings: Settings, records: list[Output]) -> None:
    deliver(make_producer(settings), records, 30)


def test_restore_reads_the_live_state_not_the_history(settings: Settings) -> None:
    topic = settings.topic_joiner_state
    log = PartitionLog(topic, partition=1)
    producer = make_producer(settings, **{"linger.ms": 0})
    state: dict[str, int | None] = {}
    for batch in range(150):  # 150 batches of 20 changes to 40 keys: a long history
        changes: list[tuple[str, int | None]] = [
            (f"k{(batch * 7 + i) % 40}", batch) for i in range(20)
        ]
        if batch % 30 == 29:
            changes.append((f"k{batch % 40}", None))  # a deletion
        state.update(changes)
        live = [(k, v) for k, v in state.items() if v is not None]
        records = log.batch(changes, {"in": batch + 1}, lambda live=live: live, len(live))
        deliver(producer, records, 30)

    restored = restore_partitions(settings, topic, [0, 1])[1]

    assert restored.entries == {k: v for k, v in state.items() if v is not None}
    assert restored.offsets == {"in": 150}
    assert restored.records_read <= 1_100  # the history holds over 3,000 records


def test_a_batch_without_its_marker_is_not_restored(settings: Settings) -> None:
    topic = settings.topic_joiner_state
    log = PartitionLog(topic, partition=0)
    first = [("a", 1), ("b", 2)]
    write(settings, log.batch(first, {"in": 10}, lambda: first, 2))  # the first is a snapshot
    write(settings, log.batch([("a", 3)], {"in": 20}, list, 2))
    cut_short = log.batch([("a", 99), ("c", 5)], {"in": 30}, list, 3)[:-1]  # no marker
    write(settings, cut_short)

    restored = restore_partitions(settings, topic, [0])[0]

    assert restored.entries == {"a": 3, "b": 2}
    assert restored.offsets == {"in": 20}


def test_an_empty_partition_restores_nothing(settings: Settings) -> None:
    restored = restore_partitions(settings, settings.topic_joiner_state, [0])[0]
    assert (restored.entries, restored.offsets) == ({}, None)


def test_one_snapshot_rule_bounds_what_either_member_restores_past_a_snapshot() -> None:
    """The joiner (changelog entries per batch) and the scoring member (inputs it would replay,
    ``count``) snapshot by the same rule: never before what a restore reads past the last
    snapshot reaches ``every`` and the live state's size, and never much after."""
    every, live_size, batch = 50, 120, 7
    threshold = max(every, live_size)
    joiner = PartitionLog("joiner-state", 0, every=every)
    scoring = PartitionLog("feature-state", 0, every=every, past_snapshot=0, size=live_size)
    live = [(f"k{i}", i) for i in range(live_size)]
    reached: dict[str, list[int]] = {"joiner": [], "scoring": []}  # past the snapshot, when taken
    for n in range(200):
        before = joiner.past_snapshot
        written = joiner.batch(live[:batch], {"in": n}, lambda: live, live_size)
        if written[0].key == b"__snapshot__" and before is not None:
            reached["joiner"].append(before)
        scoring.count(batch)
        if scoring.snapshot_due():
            reached["scoring"].append(scoring.past_snapshot or 0)
            scoring.snapshot(live, {"in": n})
    for member, pasts in reached.items():
        assert len(pasts) >= 5, member  # both wrote several
        assert min(pasts) >= threshold, member  # none early
        assert max(pasts) <= threshold + batch + 1, member  # none late (+ a batch and its marker)
