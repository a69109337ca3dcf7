"""The event time up to which every label is final: the outcome joiner's published cutoffs.

The joiner writes a ``LabelCutoff`` per input partition to ``signals.outcomes.cutoffs`` once the
outcomes it vouches for are acknowledged. The labels are final up to the lowest cutoff over all
partitions, each partition's latest claim counting (a member that just took a partition over
may claim less than its previous owner: its claim is the one that holds for what it reads
next). Until every partition has reported there is no cutoff. Retraining and the
scoring consumer's track records all read it, so none of them decides maturity by the wall clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from roostr.contracts import LabelCutoff

__all__ = ["LabelCutoffs"]


class LabelCutoffs:
    """Folds LabelCutoff records into the topic-wide cutoff."""

    def __init__(self) -> None:
        self.latest: dict[int, LabelCutoff] = {}  # per partition, its latest claim
        self._partitions = 0

    def add(self, record: LabelCutoff) -> None:
        self.latest[record.partition] = record
        self._partitions = max(self._partitions, record.partitions)

    def extend(self, records: Iterable[LabelCutoff]) -> LabelCutoffs:
        for record in records:
            self.add(record)
        return self

    @property
    def cutoff(self) -> datetime | None:
        """The lowest per-partition cutoff, or None while a partition has not reported."""
        if not self._partitions or any(p not in self.latest for p in range(self._partitions)):
            return None
        return min(self.latest[p].cutoff for p in range(self._partitions))
