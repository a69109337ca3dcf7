"""Each replayed signal's label: from ``signals.outcomes`` when it holds a resolved outcome for
it, else computed from ``prices`` as the outcome joiner's labeler (``roostr.labels``) would,
fed the ticks and the unlabelled signals merged in event time, then advanced to the newest
tick (``training.backtest.price_labels``, proven equal to it): signals whose horizon the prices
do not cover yet stay unlabelled, as they would live.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from roostr.contracts import Outcome
from roostr.labels import LabelRules
from training.backtest.price_labels import Decided, LabelledSignal, decide_from_prices
from training.backtest.tick_columns import TickColumns

__all__ = ["Labels", "label_signals"]


@dataclass
class Labels:
    """Resolved outcomes by signal id, and where the labels came from: the outcomes topic's as
    read, the prices' as ``Decided`` (an Outcome each only when asked for)."""

    rules: LabelRules
    logged: dict[str, Outcome] = field(default_factory=dict)
    decided: dict[str, Decided] = field(default_factory=dict)
    unlabelled: int = 0

    @property
    def from_outcomes_topic(self) -> int:
        return len(self.logged)

    @property
    def from_prices(self) -> int:
        return len(self.decided)

    def get(self, signal_id: str) -> Outcome | None:
        outcome = self.logged.get(signal_id)
        if outcome is None and (decided := self.decided.get(signal_id)) is not None:
            outcome = decided.outcome(self.rules)
        return outcome

    def label_of(self, signal_id: str) -> float:
        """The resolved label (1.0 or 0.0), NaN when there is none: ``get``'s label without
        making an Outcome."""
        outcome = self.logged.get(signal_id)
        if outcome is None and (decided := self.decided.get(signal_id)) is not None:
            return float(decided.label or 0)
        return math.nan if outcome is None else float(outcome.label or 0)

    def outcomes(self) -> Iterator[Outcome]:
        """Every resolved outcome: the topic's, then the prices' (each made as it is read)."""
        yield from self.logged.values()
        for decided in self.decided.values():
            yield decided.outcome(self.rules)


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
    labels = Labels(rules)
    missing = []
    for signal in signals:
        outcome = logged.get(signal.signal_id)
        if outcome is not None and outcome.label is not None:
            labels.logged[signal.signal_id] = outcome
        else:
            missing.append(signal)
    for decided in decide_from_prices(missing, ticks, rules):
        if decided.label is not None:
            labels.decided[decided.signal.signal_id] = decided
    labels.unlabelled = len(signals) - labels.from_outcomes_topic - labels.from_prices
    return labels
