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
