"""What a partition's labeler remembers between records, and that memory as changelog entries.

``roostr.labels`` decides labels; this module keeps what deciding them needs later (signals
still open, each ticker's recent ticks, the ids already labelled) and writes it as key/value
entries for a changelog partition (``consumer/changelog.py``): the keys a batch changed, or a
full snapshot, and the state back from the latest value per key. Keys:

- ``open/<id>``: an open signal's running state; ``payload/<id>``: its logged fields;
- ``done/<id>``: a labelled signal's ``posted_at`` (redeliveries are recognised until forgotten);
- ``ticker/<name>``: a ticker's clock and buffer bounds; ``ticks/<name>/<n>``: its n-th
  ``CHUNK`` of accepted ticks (so a new tick rewrites one small entry, not the whole buffer);
- ``clock``: the partition's stream time.

A value of None deletes its key. JSON has no infinity or NaN: an unset time or price travels as
None.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

__all__ = ["CHUNK", "LabelerState", "OpenSignal", "TickBuffer", "TickerState"]

CHUNK = 256  # ticks per changelog entry of a ticker's buffer
Entries = list[tuple[str, Any]]


@dataclass(slots=True)
class OpenSignal:
    """One signal waiting for its label: the logged payload (JSON, ~2.5 KB; a dict would take
    ten times that) plus O(1) running state."""

    signal_id: str
    ticker: str
    posted: float
    payload: str
    entry: float | None
    max_price: float = -math.inf
    last_ts: float = -math.inf
    last_price: float = math.nan


class TickBuffer:
    """Accepted ticks in arrival order, as two float arrays (16 bytes a tick, not ~100 as tuples:
    a year of hourly ticks is ~140 KB per ticker)."""

    __slots__ = ("price", "ts")

    def __init__(self, pairs: Iterable[tuple[float, float]] = ()) -> None:
        self.ts, self.price = array("d"), array("d")
        for ts, price in pairs:
            self.append(ts, price)

    def append(self, ts: float, price: float) -> None:
        self.ts.append(ts)
        self.price.append(price)

    def __len__(self) -> int:
        return len(self.ts)

    def __iter__(self) -> Iterator[tuple[float, float]]:
        return zip(self.ts, self.price, strict=True)

    def pairs(self, start: int, stop: int) -> list[tuple[float, float]]:
        return list(zip(self.ts[start:stop], self.price[start:stop], strict=True))

    def drop_before(self, cutoff: float) -> tuple[int, float]:
        """Drop the leading ticks older than ``cutoff``: (how many, the newest ts dropped)."""
        count = 0
        while count < len(self.ts) and self.ts[count] < cutoff:
            count += 1
        newest = max(self.ts[:count], default=-math.inf)
        del self.ts[:count], self.price[:count]
        return count, newest


@dataclass(slots=True)
class TickerState:
    """A ticker's accepted ticks of the last ``lookback``, in arrival order, and its open
    signals with their deadlines (the deadlines are the labeler's, rebuilt on restore)."""

    newest: float = -math.inf
    accepted: int = 0  # ticks ever accepted: numbers the changelog chunks
    evicted_until: float = -math.inf  # newest ts among evicted ticks
    ticks: TickBuffer = field(default_factory=TickBuffer)
    first_index: int = 0  # ``accepted`` number of ticks[0]
    open: set[str] = field(default_factory=set)
    due: list[tuple[float, str]] = field(default_factory=list)  # (deadline, signal id), a heap


class LabelerState:
    """One partition's label state; every change goes through a method that notes its key."""

    def __init__(self) -> None:
        self.stream_time = -math.inf
        self.tickers: dict[str, TickerState] = {}
        self.open: dict[str, OpenSignal] = {}
        self.done: dict[str, float] = {}  # labelled signal id → posted (dedupe of redeliveries)
        self._forget: list[tuple[float, str]] = []  # (posted, labelled signal id), a heap
        self._dirty: set[str] = set()

    # --- changes -----------------------------------------------------------------------------

    def ticker(self, name: str) -> TickerState:
        """The ticker's state, created on first use."""
        ticker = self.tickers.get(name)
        if ticker is None:
            ticker = self.tickers[name] = TickerState()
            self._dirty.add(f"ticker/{name}")
        return ticker

    def add_open(self, signal: OpenSignal) -> TickerState:
        """A new open signal; returns its ticker."""
        ticker = self.ticker(signal.ticker)
        self.open[signal.signal_id] = signal
        ticker.open.add(signal.signal_id)
        self._dirty.update((f"open/{signal.signal_id}", f"payload/{signal.signal_id}"))
        return ticker

    def moved(self, signal: OpenSignal) -> None:
        """An open signal's running state changed."""
        self._dirty.add(f"open/{signal.signal_id}")

    def close(self, signal: OpenSignal) -> None:
        """A signal was labelled: no longer open, remembered as done."""
        del self.open[signal.signal_id]
        self.tickers[signal.ticker].open.discard(signal.signal_id)
        self.done[signal.signal_id] = signal.posted
        heapq.heappush(self._forget, (signal.posted, signal.signal_id))
        self._dirty.update(f"{kind}/{signal.signal_id}" for kind in ("open", "payload", "done"))

    def accept_tick(self, name: str, ts: float, price: float, lookback: float) -> TickerState:
        """Buffer an accepted tick of ``name`` and drop its ticks more than ``lookback`` seconds
        older than its newest; the partition's stream time follows the tick."""
        ticker = self.ticker(name)
        ticker.newest = max(ticker.newest, ts)
        ticker.ticks.append(ts, price)
        ticker.accepted += 1
        self.stream_time = max(self.stream_time, ts)
        self._dirty.update((f"ticks/{name}/{(ticker.accepted - 1) // CHUNK}", f"ticker/{name}"))
        count, newest = ticker.ticks.drop_before(ticker.newest - lookback)
        if count:
            first = ticker.first_index
            ticker.first_index += count
            ticker.evicted_until = max(ticker.evicted_until, newest)
            for chunk in range(first // CHUNK, ticker.first_index // CHUNK):
                self._dirty.add(f"ticks/{name}/{chunk}")  # wholly evicted: deleted from the log
        return ticker

    def forget_done_before(self, posted: float) -> None:
        """Forget labelled ids posted before ``posted`` (no redelivery of them can come)."""
        while self._forget and self._forget[0][0] < posted:
            _posted, signal_id = heapq.heappop(self._forget)
            del self.done[signal_id]
            self._dirty.add(f"done/{signal_id}")

    # --- entries -----------------------------------------------------------------------------

    def changes(self) -> Entries:
        """(key, value or None for deleted) for every entry changed since the last call."""
        changes = [(key, self._entry(key)) for key in sorted(self._dirty)]
        self._dirty.clear()
        if changes:
            changes.append(("clock", _json_float(self.stream_time)))
        return changes

    def snapshot(self) -> Entries:
        """Every live entry (what ``from_entries`` needs from nothing); clears pending changes."""
        self._dirty.clear()
        keys = [f"{kind}/{i}" for i in self.open for kind in ("open", "payload")]
        keys += [f"done/{i}" for i in self.done]
        for name, ticker in self.tickers.items():
            keys.append(f"ticker/{name}")
            chunks = range(ticker.first_index // CHUNK, (ticker.accepted - 1) // CHUNK + 1)
            keys += [f"ticks/{name}/{chunk}" for chunk in chunks if ticker.ticks]
        return [(key, self._entry(key)) for key in keys] + [
            ("clock", _json_float(self.stream_time))
        ]

    def size(self) -> int:
        """About how many entries ``snapshot`` would write."""
        chunks = sum(len(t.ticks) // CHUNK + 1 for t in self.tickers.values())
        return len(self.open) + len(self.done) + len(self.tickers) + chunks

    def _entry(self, key: str) -> Any:
        kind, _, rest = key.partition("/")
        if kind == "open":
            s = self.open.get(rest)
            if s is None:
                return None
            state = [s.entry, s.max_price, s.last_ts, s.last_price]
            return {"ticker": s.ticker, "posted": s.posted,
                    "state": [_json_float(v) for v in state]}  # fmt: skip
        if kind == "payload":
            s = self.open.get(rest)
            return None if s is None else orjson.loads(s.payload)
        if kind == "done":
            return self.done.get(rest)
        if kind == "ticker":
            t = self.tickers[rest]
            return [_json_float(t.newest), t.accepted, _json_float(t.evicted_until), t.first_index]
        name, _, chunk = rest.rpartition("/")
        ticker = self.tickers[name]
        start = max(int(chunk) * CHUNK, ticker.first_index)
        stop = (int(chunk) + 1) * CHUNK
        if stop <= start:
            return None  # wholly evicted
        ticks = ticker.ticks.pairs(start - ticker.first_index, stop - ticker.first_index)
        return {"start": start, "ticks": ticks} if ticks else None

    @classmethod
    def from_entries(cls, entries: Mapping[str, Any]) -> LabelerState:
        """The state that ``changes`` and ``snapshot`` described (latest value per key)."""
        state = cls()
        by_index: dict[str, dict[int, tuple[float, float]]] = {}
        payloads = {
            key.partition("/")[2]: orjson.dumps(value).decode()
            for key, value in entries.items()
            if key.startswith("payload/") and value is not None
        }
        for key, value in entries.items():
            kind, _, rest = key.partition("/")
            if value is None:
                continue
            if kind == "clock":
                state.stream_time = _float(value)
            elif kind == "done":
                state.done[rest] = value
                heapq.heappush(state._forget, (value, rest))
            elif kind == "ticker":
                ticker = state.tickers.setdefault(rest, TickerState())
                ticker.newest, ticker.evicted_until = _float(value[0]), _float(value[2])
                ticker.accepted, ticker.first_index = value[1], value[3]
            elif kind == "ticks":
                name = rest.rpartition("/")[0]
                ticks = by_index.setdefault(name, {})
                for i, (ts, price) in enumerate(value["ticks"], start=value["start"]):
                    ticks[i] = (ts, price)
            elif kind == "open":
                entry, max_price, last_ts, last_price = value["state"]
                last_price = math.nan if last_price is None else last_price
                state.open[rest] = OpenSignal(
                    rest, value["ticker"], value["posted"], payloads[rest], entry,
                    _float(max_price), _float(last_ts), last_price,
                )  # fmt: skip
        for name, ticker in state.tickers.items():
            ticks = by_index.get(name, {})
            ticker.ticks = TickBuffer(ticks[i] for i in range(ticker.first_index, ticker.accepted))
        for signal in state.open.values():
            state.tickers.setdefault(signal.ticker, TickerState()).open.add(signal.signal_id)
        return state


def _json_float(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value


def _float(value: float | None) -> float:
    """Inverse of ``_json_float`` for times, whose unset value is -inf."""
    return -math.inf if value is None else value
