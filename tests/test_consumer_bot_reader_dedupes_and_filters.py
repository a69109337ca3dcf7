"""The bots' reader: each signal_id once (bounded memory), only the tiers and scores asked for."""

from __future__ import annotations

from datetime import UTC, datetime

from scoring_service_support import wait_until

from consumer.bot_reader import RecentIds, ScoredSignalReader
from roostr.contracts import RawSignal, ScoredSignal
from roostr.kafka import make_producer
from roostr.settings import Settings
from roostr.synthetic.stream import synthetic_signals


def _scored(signal: dict, score: int, tier: str) -> ScoredSignal:
    raw = RawSignal.model_validate(signal)
    return ScoredSignal(
        **raw.model_dump(), scored_at=datetime.now(UTC), features={}, feature_set_version="t",
        rule_score=score, final_score=score, tier=tier, mode="rules",
    )  # fmt: skip


def test_recent_ids_forget_the_oldest_beyond_capacity() -> None:
    ids = RecentIds(capacity=2)
    assert [ids.first_time(x) for x in ("a", "b", "a", "c", "a", "b")] == [
        True, True, False, True, False, True,
    ]  # fmt: skip


def test_reader_yields_each_signal_once_filtered(settings: Settings) -> None:
    signals = list(synthetic_signals(6))
    scores = [(9, "high"), (7, "medium"), (5, "low"), (2, "avoid"), (10, "high"), (8, "medium")]
    producer = make_producer(settings)
    records = [_scored(s, score, tier) for s, (score, tier) in zip(signals, scores, strict=True)]
    for record in [*records, records[0], records[1]]:  # two re-deliveries
        producer.produce(settings.topic_scored, key=record.ticker.encode(),
                         value=record.model_dump_json().encode())  # fmt: skip
    producer.produce(settings.topic_scored, key=b"TAO", value=b"not a scored signal")
    assert producer.flush(10) == 0

    got: list[ScoredSignal] = []
    with ScoredSignalReader(settings, tiers={"high", "medium"}, min_score=8) as reader:
        wait_until(lambda: got.extend(reader.read(timeout_s=0.5)) or reader.invalid == 1, 30,
                   "all records read")  # fmt: skip
        got.extend(reader.read(timeout_s=1.0))
    assert sorted(s.signal_id for s in got) == sorted(records[i].signal_id for i in (0, 4, 5))


def _read_at_least(reader: ScoredSignalReader, count: int) -> list[ScoredSignal]:
    got: list[ScoredSignal] = []
    wait_until(lambda: bool(got.extend(reader.read(0.5))) or len(got) >= count, 60, "records")
    return got


def test_group_reader_resumes_after_what_it_returned(settings: Settings) -> None:
    producer = make_producer(settings)
    records = [_scored(signal, 9, "high") for signal in synthetic_signals(4)]

    def publish(batch: list[ScoredSignal]) -> None:
        for record in batch:
            producer.produce(settings.topic_scored, key=b"K", partition=0,
                             value=record.model_dump_json().encode())  # fmt: skip
        assert producer.flush(10) == 0

    publish(records[:2])
    with ScoredSignalReader(settings, group_id=settings.group_joiner) as reader:
        assert len(_read_at_least(reader, 2)) == 2
    publish(records[2:])  # the first reader committed what it returned when it closed
    with ScoredSignalReader(settings, group_id=settings.group_joiner) as reader:
        later = _read_at_least(reader, 2)
    assert [s.signal_id for s in later] == [r.signal_id for r in records[2:]]
