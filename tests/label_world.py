"""A small world with known answers for the outcome-label tests: scored records, price ticks,
and an independent computation of every label (written from the Outcome contract's definition,
not from ``roostr.labels``)."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from roostr.contracts import PriceTick

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Expected:
    status: str
    hit_at: datetime | None
    max_multiple: float | None
    return_at_horizon: float | None


def scored_record(signal_id: str, ticker: str, posted: datetime, price: float | None) -> dict:
    """The fields of a ScoredSignal that the joiner reads."""
    return {
        "signal_id": signal_id,
        "ticker": ticker,
        "posted_at": posted.isoformat(),
        "price_usd": price,
        "source": "src-" + ticker,
        "author": None,
        "features": {"dan_endorsed": 1.0, "trends_now": None},
        "feature_set_version": "fs-test",
        "rule_score": 6,
        "ml_probability": 0.42,
        "ml_score": 5,
        "final_score": 6,
        "model_version": "v-test",
    }


def scored_json(record: dict) -> bytes:
    """A full ScoredSignal record around ``scored_record``'s fields, as the consumer emits it."""
    document = {**record, "source": record["source"], "scored_at": T0.isoformat(),
                "tier": "low", "mode": "parallel", "reasons": [], "degraded": False}  # fmt: skip
    if document["price_usd"] is None:
        del document["price_usd"]
    return json.dumps(document).encode()


def world(seed: int, tickers: int = 4, days: int = 90) -> tuple[list[dict], list[PriceTick]]:
    """Signals and hourly-ish ticks per ticker with jitter, a few late ticks and quiet tickers.

    Ticker 0 doubles early, ticker 1 drifts, the others random-walk; the last ticker's prices
    stop after day 40 (its later signals must still resolve, as unresolved).
    """
    rng = random.Random(seed)
    signals: list[dict] = []
    ticks: list[PriceTick] = []
    for t in range(tickers):
        name = f"TK{t}"
        price, ts = 1.0 + t, T0
        drift = {0: 0.01, 1: 0.0}.get(t, 0.002)
        stop = T0 + timedelta(days=40) if t == tickers - 1 else T0 + timedelta(days=days)
        while ts < stop:
            price *= 1 + drift + rng.gauss(0, 0.03)
            price = max(price, 0.01)
            jitter = timedelta(minutes=rng.choice([0, 0, 0, -20, -50, -200]))  # -200 min: late
            ticks.append(PriceTick(ticker=name, ts=ts + jitter, price_usd=price, source="feed"))
            ts += timedelta(hours=rng.choice([1, 2, 3]))
        for i in range(12):
            posted = T0 + timedelta(hours=rng.randrange(0, 24 * (days - 35)))
            entry = None if i % 3 == 0 else round(rng.uniform(0.5, 2.0) * (1 + t), 4)
            signals.append(scored_record(f"{name}-{i}", name, posted, entry))
    return signals, ticks


def expected_labels(
    signals: list[dict], ticks: list[PriceTick], horizon: timedelta, tolerance: timedelta,
    grace: timedelta,
) -> dict[str, Expected]:  # fmt: skip
    """The label of each signal from the ticker's whole tick history, by the contract's rules."""
    accepted: dict[str, list[PriceTick]] = {}
    newest: dict[str, datetime] = {}
    for tick in ticks:  # arrival order: a tick > grace behind its ticker's newest is late
        top = newest.get(tick.ticker)
        if top is not None and tick.ts < top - grace:
            continue
        newest[tick.ticker] = max(top, tick.ts) if top else tick.ts
        accepted.setdefault(tick.ticker, []).append(tick)
    answers = {}
    for s in signals:
        posted = datetime.fromisoformat(s["posted_at"])
        entry: float | None = s["price_usd"]
        high, last = None, None
        answer = None
        for tick in accepted.get(s["ticker"], []):
            if not posted <= tick.ts <= posted + horizon:
                continue
            if entry is None:
                if tick.ts > posted + tolerance:
                    continue
                entry = tick.price_usd
            high = max(high or 0.0, tick.price_usd)
            if last is None or tick.ts >= last.ts:
                last = tick
            if tick.price_usd >= 2 * entry:
                answer = Expected("won", tick.ts, high / entry, None)
                break
        if answer is None:
            if entry is None or last is None or high is None:
                answer = Expected("unresolved", None, None, None)
            else:
                answer = Expected("lost", None, high / entry, last.price_usd / entry - 1)
        answers[s["signal_id"]] = answer
    return answers


def interleave(signals: list[dict], ticks: list[PriceTick], seed: int) -> list[Any]:
    """Both inputs merged at random: a signal may come long before or after its ticks."""
    rng = random.Random(seed)
    merged: list[Any] = list(ticks)
    for s in signals:
        merged.insert(rng.randrange(len(merged) + 1), s)
    return merged
