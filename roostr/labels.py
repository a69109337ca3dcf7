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

State is O(1) per open signal (running max, last price) plus the per-ticker tick buffer; it
lives in ``roostr.label_state``, which also writes it as changelog entries.

An outcome *as logged* is a label carrying its signal's scored record (``LOGGED_FIELDS``, as
scored): ``as_logged`` builds it for the joiner, the backtest and the synthetic world alike.
``label_in_event_time`` is the labeler over a finished record of signals and prices.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from roostr.contracts import Outcome, OutcomeStatus, PriceTick, RawSignal
from roostr.label_state import LabelerState, OpenSignal, TickerState

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


class PartitionLabeler:
    """The label state of one partition (its tickers' prices and open signals), and the rules
    that decide labels from it."""

    def __init__(self, rules: LabelRules, state: LabelerState | None = None) -> None:
        """A labeler with empty state, or over a restored one (``LabelerState.from_entries``)."""
        self.rules = rules
        self.state = LabelerState() if state is None else state
        self.late_ticks = 0
        self.duplicates = 0
        self._horizon = rules.horizon.total_seconds()
        self._tolerance = rules.entry_tolerance.total_seconds()
        self._grace = rules.grace.total_seconds()
        self._lookback = rules.lookback.total_seconds()
        for signal in self.state.open.values():  # deadlines are the rules', not stored
            self._schedule(self.state.tickers[signal.ticker], signal)

    @property
    def stream_time(self) -> float:
        return self.state.stream_time

    @property
    def open_signals(self) -> int:
        return len(self.state.open)

    # --- inputs ----------------------------------------------------------------------------

    def add_signal(self, record: Mapping[str, Any]) -> list[Outcome]:
        """A scored record (ScoredSignal layout). Returns outcomes already decided."""
        signal_id = record["signal_id"]
        if signal_id in self.state.open or signal_id in self.state.done:
            self.duplicates += 1
            return []
        posted = _seconds(record["posted_at"])
        logged = logged_fields(record)
        # decoded to an exact-size str: orjson's bytes keep its whole growth buffer (~30 KB)
        payload = orjson.dumps({**logged, "posted_at": _datetime(posted).isoformat()}).decode()
        price = record.get("price_usd")
        signal = OpenSignal(signal_id, record["ticker"], posted, payload, price)
        ticker = self.state.add_open(signal)
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
        known = self.state.tickers.get(name)
        if known is not None and ts < known.newest - self._grace:
            self.late_ticks += 1
            return []
        ticker = self.state.accept_tick(name, ts, price, self._lookback)
        outcomes = []
        for signal_id in sorted(ticker.open):
            signal = self.state.open[signal_id]
            if (won := self._apply(signal, ts, price)) is not None:
                outcomes.append(won)
            else:
                self.state.moved(signal)
        return outcomes + self._resolve_due(ticker, ticker.newest)

    def advance(self, watermark: float = -math.inf) -> list[Outcome]:
        """Resolve the signals whose deadline passed on their ticker's clock or on ``watermark``.

        A ticker's clock is its newest tick. ``watermark`` is for tickers whose prices stopped:
        pass it only once the partition's prices were read to their end (else a ticker whose
        ticks are still unread would be resolved early). Call once per batch: it also forgets
        labelled ids too old to be redelivered (kept for horizon + lookback).
        """
        outcomes = []
        for ticker in self.state.tickers.values():
            if ticker.due:
                outcomes += self._resolve_due(ticker, max(ticker.newest, watermark))
        clock = max(self.state.stream_time, watermark)
        self.state.forget_done_before(clock - self._horizon - self._lookback - self._grace)
        return outcomes

    def _resolve_due(self, ticker: TickerState, clock: float) -> list[Outcome]:
        outcomes = []
        while ticker.due and ticker.due[0][0] <= clock:
            _deadline, signal_id = heapq.heappop(ticker.due)
            signal = self.state.open.get(signal_id)
            if signal is None:
                continue  # already won, or its other deadline came first
            if signal.entry is None:
                outcomes.append(self._resolve(signal, "unresolved", "no price within tolerance"))
            elif clock >= signal.posted + self._horizon + self._grace:
                outcomes.append(self._finish(signal))
        return outcomes

    def _schedule(self, ticker: TickerState, signal: OpenSignal) -> None:
        heapq.heappush(ticker.due, (signal.posted + self._horizon + self._grace, signal.signal_id))
        if signal.entry is None:
            deadline = signal.posted + self._tolerance + self._grace
            heapq.heappush(ticker.due, (deadline, signal.signal_id))

    # --- the label -------------------------------------------------------------------------

    def _apply(self, signal: OpenSignal, ts: float, price: float) -> Outcome | None:
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

    def _finish(self, signal: OpenSignal) -> Outcome:
        if signal.last_ts == -math.inf:
            return self._resolve(signal, "unresolved", "no price within the horizon")
        return self._resolve(signal, "lost")

    def _resolve(
        self,
        signal: OpenSignal,
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
        self.state.close(signal)
        return as_logged(label, logged)


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
