"""The replayed signals without keeping them all decoded: a RawSignal costs about 5 KB of Python
objects, so a million of them do not fit in a bounded backtest.

What labels, selection and the report read of every signal is kept as ``SignalFacts`` (a few
hundred bytes); the full RawSignals are decoded again from the raw values, batch by batch in
event-time order, only while the live scorer featurises them. Validation is deterministic, so a
batch is exactly the signals the first read validated.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

from roostr.contracts import RawSignal

__all__ = ["ReplaySignals", "SignalFacts"]


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
    def of(cls, signal: RawSignal) -> SignalFacts:
        # names repeat across signals: one string object each, not one per signal
        author = None if signal.author is None else sys.intern(signal.author)
        return cls(
            signal.signal_id,
            sys.intern(signal.ticker),
            signal.posted_at,
            signal.price_usd,
            sys.intern(signal.source),
            author,
            signal.asset_class,
        )


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
    def from_values(cls, facts: Sequence[SignalFacts], values: pa.Array) -> ReplaySignals:
        """``values[i]``: the raw record ``facts[i]`` was validated from."""

        def decode(start: int, stop: int) -> list[RawSignal]:
            chunk = values.slice(start, stop - start).to_pylist()
            return [RawSignal.model_validate_json(value) for value in chunk]

        return cls(facts, decode)

    def __len__(self) -> int:
        return len(self.facts)

    def batch(self, start: int, stop: int) -> list[RawSignal]:
        """The RawSignals of rows ``[start, stop)``."""
        return self._decode(start, stop)
