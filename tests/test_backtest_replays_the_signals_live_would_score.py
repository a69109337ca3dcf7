"""The backtest's replay keeps only facts of each signal and decodes the signals again batch by
batch (``training.backtest.replay_signals``): it must replay exactly the signals the live
consumer would score, in event-time order, the first copy of an id, and count what it left out
as the consumer would (dead letters: tombstones, invalid JSON, contract violations, oversized
values)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa

from roostr.contracts import RawSignal
from roostr.decoding import Rejection, decode_signal
from training.backtest.replay_signals import ReplaySignals, signal_rows

T0 = datetime(2026, 3, 1, tzinfo=UTC)
END = T0 + timedelta(days=10)
MAX_BYTES = 2048


def signal(signal_id: str, days: float, **extra: object) -> bytes:
    posted = T0 + timedelta(days=days)
    fields = {"signal_id": signal_id, "ticker": "pepe", "source": "tg", "posted_at": posted}
    return RawSignal.model_validate(fields | extra).model_dump_json().encode()


def test_the_replay_holds_the_consumers_signals_in_event_time_order() -> None:
    values: list[bytes | None] = [
        signal("b", 2, author="ann", price_usd=1.5),
        signal("a", 2),  # same instant as b: the id orders them
        signal("c", 1, asset_class="equity"),
        signal("b", 0.5, message="a later copy in read order, earlier in event time"),
        signal("late", 10),  # posted at the end: after the range
        None,  # a tombstone
        b"{not json",
        b'{"signal_id": "x", "ticker": "pepe"}',  # no source, no posted_at
        signal("big", 3, message="x" * MAX_BYTES),  # over the consumer's size limit
    ]
    rows = signal_rows(values)
    n = len(values)
    partition = pa.array([0] * n, pa.int32())
    offset = pa.array(range(n), pa.int64())
    rows = pa.Table.from_arrays(
        [partition, offset, *rows.columns], ["partition", "offset", *rows.column_names]
    )

    replay, counts = ReplaySignals.from_rows(rows, END, MAX_BYTES)

    expected = [decode_signal(v, MAX_BYTES) for v in values]
    kept = sorted(
        (s for s in expected if isinstance(s, RawSignal) and s.posted_at < END),
        key=lambda s: (s.posted_at, s.signal_id),
    )
    assert [s.signal_id for s in kept] == ["b", "c", "a", "b"]
    kept = kept[:3]  # the second "b" in event time is the duplicate
    assert counts == {
        "read": n,
        "dead_lettered": sum(isinstance(s, Rejection) for s in expected),
        "after_range": 1,
        "duplicates": 1,
    }
    assert counts["dead_lettered"] == 4
    assert replay.batch(0, len(replay)) == kept
    assert replay.batch(1, 3) == kept[1:3]
    facts = [(f.signal_id, f.ticker, f.posted_at, f.price_usd, f.author) for f in replay.facts]
    assert facts == [(s.signal_id, s.ticker, s.posted_at, s.price_usd, s.author) for s in kept]
    assert [f.asset_class for f in replay.facts] == ["crypto", "equity", "crypto"]


def test_any_slice_of_a_long_replay_is_its_signals() -> None:
    """The values are kept compressed in blocks: a slice across blocks, inside one, at their
    edges or empty holds exactly the signals of those rows, from several read chunks."""
    values = [signal(f"s{i:05d}", (i * 7919 % 2500) / 300, mention_count=i) for i in range(2500)]
    chunks = [signal_rows(values[a : a + 900]) for a in range(0, len(values), 900)]
    rows = pa.concat_tables(chunks)
    partition = pa.array([0] * len(values), pa.int32())
    offset = pa.array(range(len(values)), pa.int64())
    rows = pa.Table.from_arrays(
        [partition, offset, *rows.columns], ["partition", "offset", *rows.column_names]
    )

    replay, _counts = ReplaySignals.from_rows(rows, END, MAX_BYTES)

    kept = sorted(
        (RawSignal.model_validate_json(v) for v in values), key=lambda s: (s.posted_at, s.signal_id)
    )
    assert len(replay) == len(kept) == 2500
    for start, stop in [(0, 2500), (999, 1001), (1000, 2000), (1500, 1500), (2400, 2500), (3, 7)]:
        assert replay.batch(start, stop) == kept[start:stop]
