"""Outcome labels in event time: did a signal's price reach 2x its entry within the horizon?

THE definition of the label, shared by the live outcome joiner and by backtests. Everything here
is a function of the records given, in the order given per ticker; nothing reads a clock.

Per ticker, price ticks arrive in one fixed order (the ticker's partition of ``prices``):

- a tick is *late* when its ``ts`` is more than ``grace`` behind the newest tick of its ticker
  seen before it; late ticks are counted and dropped, all others are used;
- accepted ticks of the last ``lookback`` (by the ticker's newest tick) are buffered, so a signal
  read after the ticks that follow it still sees them ("a tick read before its signal counts").
  A signal posted before ticks were evicted from that buffer cannot be labelled exactly: it is
  ``unresolved`` with that reason, never guessed;
- entry = the signal's ``price_usd``, else the first accepted tick (in arrival order) with
  ``posted_at <= ts <= posted_at + entry_tolerance``;
- ``won`` as soon as an accepted tick with ``posted_at <= ts <= posted_at + horizon`` reaches
  ``target_multiple`` x entry (``hit_at`` = that tick's ts);
- ``lost`` once the clock passes ``posted_at + horizon + grace`` without a hit, with the
  highest multiple seen and the return at the last tick at or before the horizon;
- ``unresolved`` (with a reason) when no entry exists once the clock passes
  ``posted_at + entry_tolerance + grace``, or no tick fell inside the horizon.

The clock is event time: the newest accepted tick of the signal's partition, or a watermark
the caller passes to ``advance`` (e.g. over every partition it reads, for a partition whose
tickers all went quiet). So live, replayed and restarted runs label identically.

State is O(1) per open signal (running max, last price) plus the per-ticker tick buffer, and
serialises to key/value entries (``drain_changes`` / ``restore``) for a changelog.

An outcome *as logged* is a label carrying its signal's scored record (``LOGGED_FIELDS``, as
scored): ``as_logged`` builds it for the joiner, the backtest and the synthetic world alike.
``label_in_event_time`` is the labeler over a finished record of signals and prices.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from roostr.contracts import Outcome, OutcomeStatus, PriceTick, RawSignal

__all__ = [
    "LOGGED_FIELDS",
    "LabelRules",
    "PartitionLabeler",
    "as_logged",
    "label_in_event_time",
    "logged_fields",
    "matured_at",
    "resolved_at",
]

# What an Outcome carries from the scored record, exactly as logged at scoring time.
LOGGED_FIELDS = (
    "source",
    "author",
    "features",
    "feature_set_version",
    "rule_score",
    "ml_probability",
    "ml_score",
    "final_score",
    "model_version",
    "shadow_model_version",
    "shadow_probability",
    "shadow_score",
)
_CHUNK = 256  # ticks per changelog entry of a ticker's buffer


def logged_fields(scored: Mapping[str, Any]) -> dict[str, Any]:
    """What an Outcome carries from a scored record (ScoredSignal layout); absent ones are None."""
    return {name: scored.get(name) for name in LOGGED_FIELDS}


def as_logged(outcome: Outcome, scored: Mapping[str, Any]) -> Outcome:
    """``outcome``'s label carrying ``scored``'s fields as logged at scoring time: the record the
    outcome joiner emits, so whatever learns from outcomes sees what the model saw.

    ``scored`` is the signal's whole scored record (``Scorer.score_records``, or a decoded
    ScoredSignal's fields): a field it lacks is logged as None, not kept from ``outcome``.
    Its values are the scorer's, already within the contract, so they are not validated again.
    """
    return outcome.model_copy(update=logged_fields(scored))


def resolved_at(outcome: Outcome) -> datetime:
    """When a labelled outcome became known: ``hit_at`` for a win, the horizon's end otherwise.

    Whatever learns from outcomes (track records, walk-forward retraining) may use one only
    after this instant, or it would learn from the future.
    """
    if outcome.status == "won" and outcome.hit_at is not None:
        return outcome.hit_at
    return outcome.posted_at + timedelta(days=outcome.horizon_days)


def matured_at(outcome: Outcome) -> datetime:
    """When an outcome's label became final *whatever it turned out to be*: its horizon's end.

    At a cutoff, the outcomes already resolved but not yet matured are mostly early wins (a win
    is known at ``hit_at``, a loss only at the horizon's end), so anything that estimates rates
    or learns from outcomes (training sets, hold-outs, folds, track records) counts only those
    matured by then. ``resolved_at`` is when a trade on the signal would have closed.
    """
    return outcome.posted_at + timedelta(days=outcome.horizon_days)


@dataclass(frozen=True, slots=True)
class LabelRules:
    """The label's parameters (the seed's: 2x within 30 days)."""

    horizon: timedelta = timedelta(days=30)
    entry_tolerance: timedelta = timedelta(hours=1)
    grace: timedelta = timedelta(hours=1)
    lookback: timedelta = timedelta(days=400)
    target_multiple: float = 2.0

    @property
    def horizon_days(self) -> float:
        return self.horizon / timedelta(days=1)


@dataclass(slots=True)
class _Open:
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


class _Ticks:
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
class _Ticker:
    """A ticker's accepted ticks of the last ``lookback``, in arrival order."""

    newest: float = -math.inf
    accepted: int = 0  # ticks ever accepted: numbers the changelog chunks
    evicted_until: float = -math.inf  # newest ts among evicted ticks
    ticks: _Ticks = field(default_factory=_Ticks)
    first_index: int = 0  # ``accepted`` number of ticks[0]
    open: set[str] = field(default_factory=set)
    due: list[tuple[float, str]] = field(default_factory=list)  # (deadline, signal id), a heap


class PartitionLabeler:
    """The label state of one partition (its tickers' prices and open signals)."""

    def __init__(self, rules: LabelRules) -> None:
        self.rules = rules
        self.stream_time = -math.inf
        self.late_ticks = 0
        self.duplicates = 0
        self._tickers: dict[str, _Ticker] = {}
        self._open: dict[str, _Open] = {}
        self._done: dict[str, float] = {}  # labelled signal id → posted (dedupe of redeliveries)
        self._forget: list[tuple[float, str]] = []  # (posted, labelled signal id), a heap
        self._dirty: set[str] = set()
        self._horizon = rules.horizon.total_seconds()
        self._tolerance = rules.entry_tolerance.total_seconds()
        self._grace = rules.grace.total_seconds()
        self._lookback = rules.lookback.total_seconds()

    @property
    def open_signals(self) -> int:
        return len(self._open)

    # --- inputs ----------------------------------------------------------------------------

    def add_signal(self, record: Mapping[str, Any]) -> list[Outcome]:
        """A scored record (ScoredSignal layout). Returns outcomes already decided."""
        signal_id = record["signal_id"]
        if signal_id in self._open or signal_id in self._done:
            self.duplicates += 1
            return []
        posted = _seconds(record["posted_at"])
        logged = logged_fields(record)
        # decoded to an exact-size str: orjson's bytes keep its whole growth buffer (~30 KB)
        payload = orjson.dumps({**logged, "posted_at": _datetime(posted).isoformat()}).decode()
        price = record.get("price_usd")
        signal = _Open(signal_id, record["ticker"], posted, payload, price)
        ticker = self._ticker(signal.ticker)
        self._open[signal_id] = signal
        ticker.open.add(signal_id)
        self._mark(f"open/{signal_id}")
        self._mark(f"payload/{signal_id}")
        if posted <= ticker.evicted_until:
            return [self._resolve(signal, "unresolved", "ticks after posted_at left the buffer")]
        for ts, tick_price in ticker.ticks:
            if (won := self._apply(signal, ts, tick_price)) is not None:
                return [won]
        self._schedule(ticker, signal)
        return self._resolve_due(ticker, ticker.newest)

    def add_tick(self, tick: PriceTick) -> list[Outcome]:
        """One price tick; returns the signals it decided (wins, and any now past the clock)."""
        return self.add_price(tick.ticker, tick.ts.timestamp(), tick.price_usd)

    def add_price(self, name: str, ts: float, price: float) -> list[Outcome]:
        """``add_tick`` of a tick given as its ticker, epoch seconds and price."""
        ticker = self._ticker(name)
        if ts < ticker.newest - self._grace:
            self.late_ticks += 1
            return []
        ticker.newest = max(ticker.newest, ts)
        ticker.ticks.append(ts, price)
        ticker.accepted += 1
        self._evict(name, ticker)
        self._mark(f"ticks/{name}/{(ticker.accepted - 1) // _CHUNK}")
        self._mark(f"ticker/{name}")
        self.stream_time = max(self.stream_time, ts)
        outcomes = []
        for signal_id in sorted(ticker.open):
            signal = self._open[signal_id]
            if (won := self._apply(signal, ts, price)) is not None:
                outcomes.append(won)
            else:
                self._mark(f"open/{signal_id}")
        return outcomes + self._resolve_due(ticker, ticker.newest)

    def advance(self, watermark: float = -math.inf) -> list[Outcome]:
        """Resolve the signals whose deadline passed on their ticker's clock or on ``watermark``.

        A ticker's clock is its newest tick. ``watermark`` is for tickers whose prices stopped:
        pass it only once the partition's prices were read to their end (else a ticker whose
        ticks are still unread would be resolved early). Call once per batch: it also forgets
        labelled ids too old to be redelivered.
        """
        outcomes = []
        for ticker in self._tickers.values():
            if ticker.due:
                outcomes += self._resolve_due(ticker, max(ticker.newest, watermark))
        self._forget_done(max(self.stream_time, watermark))
        return outcomes

    def _resolve_due(self, ticker: _Ticker, clock: float) -> list[Outcome]:
        outcomes = []
        while ticker.due and ticker.due[0][0] <= clock:
            _deadline, signal_id = heapq.heappop(ticker.due)
            signal = self._open.get(signal_id)
            if signal is None:
                continue  # already won, or its other deadline came first
            if signal.entry is None:
                outcomes.append(self._resolve(signal, "unresolved", "no price within tolerance"))
            elif clock >= signal.posted + self._horizon + self._grace:
                outcomes.append(self._finish(signal))
        return outcomes

    def _schedule(self, ticker: _Ticker, signal: _Open) -> None:
        heapq.heappush(ticker.due, (signal.posted + self._horizon + self._grace, signal.signal_id))
        if signal.entry is None:
            deadline = signal.posted + self._tolerance + self._grace
            heapq.heappush(ticker.due, (deadline, signal.signal_id))

    # --- the label -------------------------------------------------------------------------

    def _apply(self, signal: _Open, ts: float, price: float) -> Outcome | None:
        """Fold one accepted tick into a signal's running state; the Outcome if it won."""
        if ts < signal.posted or ts > signal.posted + self._horizon:
            return None
        if signal.entry is None:
            if ts > signal.posted + self._tolerance:
                return None
            signal.entry = price
        signal.max_price = max(signal.max_price, price)
        if ts >= signal.last_ts:
            signal.last_ts, signal.last_price = ts, price
        if price >= self.rules.target_multiple * signal.entry:
            return self._resolve(signal, "won", hit_at=ts)
        return None

    def _finish(self, signal: _Open) -> Outcome:
        if signal.last_ts == -math.inf:
            return self._resolve(signal, "unresolved", "no price within the horizon")
        return self._resolve(signal, "lost")

    def _resolve(
        self,
        signal: _Open,
        status: OutcomeStatus,
        reason: str | None = None,
        hit_at: float | None = None,
    ) -> Outcome:
        entry = signal.entry
        seen = entry is not None and signal.max_price > -math.inf
        logged = orjson.loads(signal.payload)
        label = Outcome(
            signal_id=signal.signal_id,
            ticker=signal.ticker,
            posted_at=datetime.fromisoformat(logged["posted_at"]),
            entry_price=entry,
            label={"won": 1, "lost": 0}.get(status),
            status=status,
            reason=reason,
            hit_at=None if hit_at is None else _datetime(hit_at),
            max_multiple=signal.max_price / entry if seen and entry else None,
            return_at_horizon=(
                signal.last_price / entry - 1 if status == "lost" and seen and entry else None
            ),
            horizon_days=self.rules.horizon_days,
        )
        outcome = as_logged(label, logged)
        del self._open[signal.signal_id]
        self._tickers[signal.ticker].open.discard(signal.signal_id)
        self._done[signal.signal_id] = signal.posted
        heapq.heappush(self._forget, (signal.posted, signal.signal_id))
        self._mark(f"open/{signal.signal_id}")
        self._mark(f"payload/{signal.signal_id}")
        self._mark(f"done/{signal.signal_id}")
        return outcome

    # --- housekeeping ----------------------------------------------------------------------

    def _ticker(self, name: str) -> _Ticker:
        ticker = self._tickers.get(name)
        if ticker is None:
            ticker = self._tickers[name] = _Ticker()
            self._mark(f"ticker/{name}")
        return ticker

    def _evict(self, name: str, ticker: _Ticker) -> None:
        count, newest = ticker.ticks.drop_before(ticker.newest - self._lookback)
        if not count:
            return
        before = ticker.first_index
        ticker.first_index += count
        ticker.evicted_until = max(ticker.evicted_until, newest)
        for chunk in range(before // _CHUNK, ticker.first_index // _CHUNK):
            self._mark(f"ticks/{name}/{chunk}")  # wholly evicted: deleted from the changelog

    def _forget_done(self, clock: float) -> None:
        """Labelled ids are kept while a redelivery could still arrive (horizon + lookback)."""
        keep_after = clock - self._horizon - self._lookback - self._grace
        while self._forget and self._forget[0][0] < keep_after:
            _posted, signal_id = heapq.heappop(self._forget)
            del self._done[signal_id]
            self._mark(f"done/{signal_id}")

    def _mark(self, key: str) -> None:
        self._dirty.add(key)

    # --- persistence -----------------------------------------------------------------------

    def drain_changes(self) -> list[tuple[str, Any]]:
        """(key, value or None for deleted) for every entry changed since the last drain."""
        changes = [(key, self._entry(key)) for key in sorted(self._dirty)]
        self._dirty.clear()
        if changes:
            changes.append(("clock", _json_float(self.stream_time)))
        return changes

    def snapshot(self) -> list[tuple[str, Any]]:
        """Every live entry (what ``restore`` needs from nothing); clears the pending changes."""
        self._dirty.clear()
        keys = [f"{kind}/{i}" for i in self._open for kind in ("open", "payload")]
        keys += [f"done/{i}" for i in self._done]
        for name, ticker in self._tickers.items():
            keys.append(f"ticker/{name}")
            chunks = range(ticker.first_index // _CHUNK, (ticker.accepted - 1) // _CHUNK + 1)
            keys += [f"ticks/{name}/{chunk}" for chunk in chunks if ticker.ticks]
        return [(key, self._entry(key)) for key in keys] + [
            ("clock", _json_float(self.stream_time))
        ]

    def size(self) -> int:
        """About how many entries ``snapshot`` would write."""
        chunks = sum(len(t.ticks) // _CHUNK + 1 for t in self._tickers.values())
        return len(self._open) + len(self._done) + len(self._tickers) + chunks

    def _entry(self, key: str) -> Any:
        kind, _, rest = key.partition("/")
        if kind == "open":
            s = self._open.get(rest)
            if s is None:
                return None
            state = [s.entry, s.max_price, s.last_ts, s.last_price]
            return {"ticker": s.ticker, "posted": s.posted,
                    "state": [_json_float(v) for v in state]}  # fmt: skip
        if kind == "payload":
            s = self._open.get(rest)
            return None if s is None else orjson.loads(s.payload)
        if kind == "done":
            return self._done.get(rest)
        if kind == "ticker":
            t = self._tickers[rest]
            return [_json_float(t.newest), t.accepted, _json_float(t.evicted_until), t.first_index]
        name, _, chunk = rest.rpartition("/")
        ticker = self._tickers[name]
        start = max(int(chunk) * _CHUNK, ticker.first_index)
        stop = (int(chunk) + 1) * _CHUNK
        if stop <= start:
            return None  # wholly evicted
        ticks = ticker.ticks.pairs(start - ticker.first_index, stop - ticker.first_index)
        return {"start": start, "ticks": ticks} if ticks else None

    @classmethod
    def restore(cls, rules: LabelRules, entries: Mapping[str, Any]) -> PartitionLabeler:
        """The labeler that ``drain_changes`` described (latest value per key; None = deleted)."""
        labeler = cls(rules)
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
                labeler.stream_time = _float(value)
            elif kind == "done":
                labeler._done[rest] = value
                heapq.heappush(labeler._forget, (value, rest))
            elif kind == "ticker":
                ticker = labeler._tickers.setdefault(rest, _Ticker())
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
                labeler._open[rest] = _Open(
                    rest, value["ticker"], value["posted"], payloads[rest], entry,
                    _float(max_price), _float(last_ts), last_price,
                )  # fmt: skip
        for name, ticker in labeler._tickers.items():
            ticks = by_index.get(name, {})
            ticker.ticks = _Ticks(ticks[i] for i in range(ticker.first_index, ticker.accepted))
        for signal in labeler._open.values():
            ticker = labeler._tickers.setdefault(signal.ticker, _Ticker())
            ticker.open.add(signal.signal_id)
            labeler._schedule(ticker, signal)
        return labeler


def label_in_event_time(
    signals: Iterable[RawSignal],
    prices: Iterable[tuple[str, float, float]],
    rules: LabelRules,
    watermark: float | None = None,
) -> list[Outcome]:
    """The outcomes the labeler decides from a finished record, in the order it decides them.

    ``prices`` are ticks as (ticker, epoch seconds, price): a world of years holds millions,
    too many to build as records. Ticks and signals are merged in event time (a tick before a
    signal at the same instant; ties by ticker and signal id, ticks otherwise in the order
    given), then the clock is advanced to ``watermark`` (epoch seconds; the newest tick if
    None, ``math.inf`` when no price comes after these): what the joiner emits when the prices
    arrive in time. The signals are unscored (their outcomes log only source and author; see
    ``as_logged``); a signal whose deadline the clock does not reach stays open, unlabelled.

    In that order no tick is read before a signal it counts for but at the signal's own
    instant, so the tick buffer keeps only the newest instant (``lookback`` 0): the same
    outcomes, at a cost linear in the ticks instead of in ticks x buffered ticks.
    """
    events: list[tuple[float, int, str, float | RawSignal]] = [
        (ts, 0, name, price) for name, ts, price in prices
    ]
    events += [(s.posted_at.timestamp(), 1, s.signal_id, s) for s in signals]
    events.sort(key=lambda event: event[:3])
    labeler = PartitionLabeler(replace(rules, lookback=timedelta(0)))
    outcomes: list[Outcome] = []
    newest = -math.inf
    for at, _kind, key, item in events:
        if isinstance(item, RawSignal):
            outcomes += labeler.add_signal({**vars(item), "features": {}})
        else:
            newest = max(newest, at)
            outcomes += labeler.add_price(key, at, item)
    return outcomes + labeler.advance(newest if watermark is None else watermark)


def _seconds(value: datetime | str) -> float:
    when = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return when.timestamp()


def _datetime(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _json_float(value: float | None) -> float | None:
    """JSON has no infinity or NaN: an unset time or price travels as None."""
    return None if value is None or not math.isfinite(value) else value


def _float(value: float | None) -> float:
    """Inverse of ``_json_float`` for times, whose unset value is -inf."""
    return -math.inf if value is None else value
