"""Read ``signals.outcomes`` from the beginning to its end as of the start of the read.

A fixed snapshot (``training.topic_snapshot``): records the joiner writes meanwhile are left for
the next run. No group is joined and nothing is committed: retraining reads the whole history
every time.
"""

from __future__ import annotations

from datetime import datetime

from roostr.contracts import LabelCutoff, Outcome
from roostr.cutoffs import LabelCutoffs
from roostr.settings import Settings
from training.topic_snapshot import Progress, TopicUnreadable, read_parsed

__all__ = ["OutcomesUnreadable", "read_label_cutoff", "read_outcomes"]

OutcomesUnreadable = TopicUnreadable
"""The outcomes topic is missing or could not be read to its end in time."""


def read_outcomes(
    settings: Settings, timeout_s: float = 60.0, progress: Progress | None = None
) -> tuple[list[Outcome], int]:
    """Every Outcome on ``settings.topic_outcomes`` up to its end as of now, in partition order,
    and the count of records that are not valid Outcomes (kept out, never fatal)."""
    return read_parsed(
        settings, settings.topic_outcomes, Outcome.model_validate_json,
        purpose="outcomes", timeout_s=timeout_s, progress=progress,
    )  # fmt: skip


def read_label_cutoff(settings: Settings, timeout_s: float = 60.0) -> datetime | None:
    """The joiner's label cutoff as of now (``roostr.cutoffs``); None until it has published one
    for every partition. Read it *before* the outcomes: then they hold every outcome it vouches
    for."""
    records, _invalid = read_parsed(
        settings, settings.topic_label_cutoffs, LabelCutoff.model_validate_json,
        purpose="label-cutoffs", timeout_s=timeout_s,
    )  # fmt: skip
    return LabelCutoffs().extend(records).cutoff
