"""Each replayed signal's label: from ``signals.outcomes`` when it holds a resolved outcome for
it, else computed from ``prices`` as the outcome joiner's labeler (``roostr.labels``) would,
fed the ticks and the unlabelled signals merged in event time, then advanced to the newest
tick (``training.backtest.price_labels``, proven equal to it): signals whose horizon the prices
do not cover yet stay unlabelled, as they would live.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from roostr.contracts import Outcome
from roostr.labels import LabelRules
from training.backtest.price_labels import LabelledSignal, labels_from_prices
from training.backtest.tick_columns import TickColumns

__all__ = ["Labels", "label_signals"]


@dataclass
class Labels:
    """Resolved outcomes by signal id, and where the labels came from."""

    outcomes: dict[str, Outcome] = field(default_factory=dict)
    from_outcomes_topic: int = 0
    from_prices: int = 0
    unlabelled: int = 0


def label_signals(
    signals: Sequence[LabelledSignal],
    topic_outcomes: Iterable[Outcome],
    ticks: TickColumns,
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
    for outcome in labels_from_prices(missing, ticks, rules):
        if outcome.label is not None:
            labels.outcomes[outcome.signal_id] = outcome
            labels.from_prices += 1
    labels.unlabelled = len(signals) - len(labels.outcomes)
    return labels
