"""Each replayed signal's label: from ``signals.outcomes`` when it holds a resolved outcome for
it, else computed from ``prices`` by the outcome joiner's own code (``roostr.labels``).

The joiner's ``PartitionLabeler`` is fed every ticker's ticks and the unlabelled signals merged
in event time (a tick before a signal at the same instant), then advanced to the newest tick:
signals whose horizon the prices do not cover yet stay unlabelled, as they would live.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from roostr.contracts import Outcome, PriceTick, RawSignal
from roostr.labels import LabelRules, PartitionLabeler

__all__ = ["Labels", "label_signals"]


@dataclass
class Labels:
    """Resolved outcomes by signal id, and where the labels came from."""

    outcomes: dict[str, Outcome] = field(default_factory=dict)
    from_outcomes_topic: int = 0
    from_prices: int = 0
    unlabelled: int = 0


def label_signals(
    signals: Sequence[RawSignal],
    topic_outcomes: Iterable[Outcome],
    ticks: Sequence[PriceTick],
    rules: LabelRules,
) -> Labels:
    """Labels for ``signals``; ``topic_outcomes`` in read order (the last copy of an id wins)."""
    logged: dict[str, Outcome] = {}
    for record in topic_outcomes:
        logged[record.signal_id] = record
    labels = Labels()
    missing = []
    for signal in signals:
        outcome = logged.get(signal.signal_id)
        if outcome is not None and outcome.label is not None:
            labels.outcomes[signal.signal_id] = outcome
            labels.from_outcomes_topic += 1
        else:
            missing.append(signal)
    for outcome in _from_prices(missing, ticks, rules):
        if outcome.label is not None:
            labels.outcomes[outcome.signal_id] = outcome
            labels.from_prices += 1
    labels.unlabelled = len(signals) - len(labels.outcomes)
    return labels


def _from_prices(
    signals: Sequence[RawSignal], ticks: Sequence[PriceTick], rules: LabelRules
) -> list[Outcome]:
    if not signals or not ticks:
        return []
    tickers = {s.ticker for s in signals}
    events: list[tuple[float, int, str, PriceTick | RawSignal]] = [
        (t.ts.timestamp(), 0, t.ticker, t) for t in ticks if t.ticker in tickers
    ]
    events += [(s.posted_at.timestamp(), 1, s.signal_id, s) for s in signals]
    events.sort(key=lambda e: e[:3])
    labeler = PartitionLabeler(rules)
    outcomes: list[Outcome] = []
    for _at, _kind, _key, item in events:
        if isinstance(item, PriceTick):
            outcomes += labeler.add_tick(item)
        else:
            outcomes += labeler.add_signal(_joiner_record(item))
    newest = max(t.ts.timestamp() for t in ticks)
    return outcomes + labeler.advance(watermark=newest)


def _joiner_record(signal: RawSignal) -> dict[str, object]:
    """The fields of a scored record the labeler reads: it labels signals, so no scores (the
    engine adds the replay's features to the outcomes it trains on)."""
    return {
        "signal_id": signal.signal_id,
        "ticker": signal.ticker,
        "posted_at": signal.posted_at,
        "price_usd": signal.price_usd,
        "source": signal.source,
        "author": signal.author,
        "features": {},
    }
