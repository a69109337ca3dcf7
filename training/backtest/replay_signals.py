"""The replayed signals without keeping them all decoded: a RawSignal costs about 5 KB of Python
objects, so a million of them do not fit in a bounded backtest.

Each raw record is validated once while the topic is read (``signal_rows``: the rows that
``--cache`` keeps) into what the backtest reads of it outside the scorer: whether the contract
takes it, and its facts (id, ticker, posted_at, price, source, author, asset class) beside the
raw value. The full RawSignals are decoded again from the raw values, batch by batch in
event-time order, only while the live scorer featurises them. Validation is deterministic, so a
batch is exactly the signals the first validation accepted.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from roostr.contracts import RawSignal
from roostr.decoding import decode_signal

__all__ = ["SIGNAL_ROWS", "ReplaySignals", "SignalFacts", "signal_rows"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_BLOCK = 1000  # values compressed together (the engine decodes 1,000 signals at a time)
_GROUP = 10 * _BLOCK  # values taken into replay order at a time (each a copy while packed)
_CODEC = pa.Codec("zstd")
SIGNAL_ROWS = "signals-1"  # names the rows ``signal_rows`` makes: change it when they change
_FACTS = ("signal_id", "ticker", "posted_at", "price_usd", "source", "author", "asset_class")
_SCHEMA = pa.schema(
    [
        ("value", pa.binary()),
        ("valid", pa.bool_()),
        ("signal_id", pa.string()),
        ("ticker", pa.string()),
        ("posted_at", pa.timestamp("us", tz="UTC")),
        ("price_usd", pa.float64()),
        ("source", pa.string()),
        ("author", pa.string()),
        ("asset_class", pa.string()),
    ]
)


def signal_rows(values: Sequence[bytes | None]) -> pa.Table:
    """One row per value: the value, ``valid`` (the contract takes it; the size limit is the
    reader's to apply) and, when valid, the signal's facts (null otherwise)."""
    columns: dict[str, list[object]] = {name: [] for name in ("valid", *_FACTS)}
    for value in values:
        decoded = decode_signal(value, sys.maxsize)  # the live consumer's rule, size aside
        signal = decoded if isinstance(decoded, RawSignal) else None
        columns["valid"].append(signal is not None)
        for name in _FACTS:
            columns[name].append(None if signal is None else getattr(signal, name))
    arrays = [pa.array(values, pa.binary())]
    arrays += [pa.array(columns[f.name], f.type) for f in list(_SCHEMA)[1:]]
    return pa.Table.from_arrays(arrays, schema=_SCHEMA)


@dataclass(frozen=True, slots=True)
class SignalFacts:
    """The fields of a RawSignal that a backtest reads outside the scorer."""

    signal_id: str
    ticker: str
    posted_at: datetime
    price_usd: float | None
    source: str
    author: str | None
    asset_class: str

    @classmethod
    def interned(
        cls,
        signal_id: str,
        ticker: str,
        posted_at: datetime,
        price_usd: float | None,
        source: str,
        author: str | None,
        asset_class: str,
    ) -> SignalFacts:
        """The facts, names interned: they repeat across signals, so one string object each."""
        author = None if author is None else sys.intern(author)
        return cls(
            signal_id, sys.intern(ticker), posted_at, price_usd, sys.intern(source), author,
            asset_class,
        )  # fmt: skip

    @classmethod
    def of(cls, signal: RawSignal) -> SignalFacts:
        return cls.interned(*(getattr(signal, name) for name in _FACTS))


class ReplaySignals:
    """Signals in replay order: their facts, and the RawSignals of any slice of them."""

    def __init__(
        self, facts: Sequence[SignalFacts], decode: Callable[[int, int], list[RawSignal]]
    ) -> None:
        self.facts = facts
        self._decode = decode

    @classmethod
    def in_memory(cls, signals: Sequence[RawSignal]) -> ReplaySignals:
        """Signals already decoded (tests, small replays)."""
        return cls([SignalFacts.of(s) for s in signals], lambda a, b: list(signals[a:b]))

    @classmethod
    def from_values(
        cls, facts: Sequence[SignalFacts], values: pa.ChunkedArray, order: npt.NDArray[np.int64]
    ) -> ReplaySignals:
        """``values[order[i]]``: the raw record ``facts[i]`` was validated from."""
        packed = _PackedValues(values, order)
        return cls(facts, lambda start, stop: [
            RawSignal.model_validate_json(value) for value in packed.slice(start, stop)
        ])  # fmt: skip

    @classmethod
    def from_rows(
        cls, rows: pa.Table, end: datetime, max_bytes: int
    ) -> tuple[ReplaySignals, dict[str, int]]:
        """The signals of ``signal_rows`` rows (with ``partition`` and ``offset``, in any order)
        posted before ``end``, in event-time order (posted_at, signal_id, partition, offset),
        the first copy of an id kept; and counts of what was left out. A value the contract
        refuses or over ``max_bytes`` is what the live consumer would dead-letter."""
        size = pc.fill_null(pc.binary_length(rows["value"]), 0).to_numpy()
        valid = rows["valid"].to_numpy() & (size <= max_bytes)
        posted = pc.fill_null(rows["posted_at"].cast(pa.int64()), 0).to_numpy()
        before = posted < (end - _EPOCH) // timedelta(microseconds=1)
        found = np.flatnonzero(valid & before)
        keys = rows.select(["posted_at", "signal_id", "partition", "offset"]).take(found)
        ranked = found[pc.sort_indices(keys, [(k, "ascending") for k in keys.column_names])]
        seen: set[str] = set()
        first = []
        for i, signal_id in zip(
            ranked.tolist(), rows["signal_id"].take(ranked).to_pylist(), strict=True
        ):
            if signal_id not in seen:
                seen.add(signal_id)
                first.append(i)
        kept = rows.select(_FACTS).take(pa.array(first, pa.int64()))
        counts = {
            "read": rows.num_rows,
            "dead_lettered": int((~valid).sum()),
            "after_range": int((valid & ~before).sum()),
            "duplicates": int(found.size - len(first)),
        }
        names = {name: kept[name].to_pylist() for name in _FACTS}
        facts = [SignalFacts.interned(*row) for row in zip(*names.values(), strict=True)]
        return cls.from_values(facts, rows["value"], np.array(first, dtype=np.int64)), counts

    def __len__(self) -> int:
        return len(self.facts)

    def batch(self, start: int, stop: int) -> list[RawSignal]:
        """The RawSignals of rows ``[start, stop)``."""
        return self._decode(start, stop)


class _PackedValues:
    """Raw values in replay order, zstd-compressed ``_BLOCK`` at a time (about an eighth of
    their size: the raw values were the largest part of a backtest's memory that grows with
    the signals), taken into that order ``_GROUP`` at a time."""

    def __init__(self, values: pa.ChunkedArray, order: npt.NDArray[np.int64]) -> None:
        self._blocks: list[tuple[pa.Buffer, int, npt.NDArray[np.int64]]] = []
        starts = np.cumsum([0, *(len(chunk) for chunk in values.chunks)])
        for group in range(0, order.size, _GROUP):
            taken = _take(values.chunks, starts, order[group : group + _GROUP])
            for start in range(0, len(taken), _BLOCK):
                block = taken.slice(start, _BLOCK).to_pylist()
                data = b"".join(block)
                ends = np.cumsum([len(value) for value in block], dtype=np.int64)
                self._blocks.append((_CODEC.compress(data), len(data), ends))

    def slice(self, start: int, stop: int) -> list[bytes]:
        """The values of rows ``[start, stop)``."""
        out: list[bytes] = []
        if stop <= start:
            return out
        for number in range(start // _BLOCK, (stop - 1) // _BLOCK + 1):
            packed, size, ends = self._blocks[number]
            data = _CODEC.decompress(packed, decompressed_size=size).to_pybytes()
            first = number * _BLOCK
            lo, hi = max(start - first, 0), min(stop - first, ends.size)
            bounds = [0, *ends.tolist()]
            out += [data[bounds[i] : bounds[i + 1]] for i in range(lo, hi)]
        return out


def _take(
    chunks: Sequence[pa.Array], starts: npt.NDArray[np.int64], rows: npt.NDArray[np.int64]
) -> pa.Array:
    """The values at ``rows`` (indices into the chunks laid end to end, ``starts`` their
    offsets), taken chunk by chunk: a ``ChunkedArray.take`` first joins every chunk, a copy of
    all the values for each call."""
    chunk_of = np.searchsorted(starts, rows, side="right") - 1
    grouped = np.argsort(chunk_of, kind="stable")  # by chunk, then as in ``rows``
    parts = [chunks[c].take(pa.array(rows[chunk_of == c] - starts[c])) for c in np.unique(chunk_of)]
    back = np.empty(rows.size, dtype=np.int64)
    back[grouped] = np.arange(rows.size)
    return pa.concat_arrays(parts).take(pa.array(back))
