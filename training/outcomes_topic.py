"""Read ``signals.outcomes`` from the beginning to its end as of the start of the read.

A fixed snapshot (``roostr.topic_reader``): records the joiner writes meanwhile are left for
the next run. No group is joined and nothing is committed: retraining reads the whole history
every time.
"""

from __future__ import annotations

from datetime import datetime

from roostr.contracts import LabelCutoff, Outcome
from roostr.cutoffs import LabelCutoffs
from roostr.settings import Settings
from roostr.topic_reader import Progress, read_parsed

__all__ = ["read_label_cutoff", "read_outcomes"]


def read_outcomes(
    settings: Settings, progress: Progress | None = None
) -> tuple[list[Outcome], int]:
    """Every Outcome on ``settings.topic_outcomes`` up to its end as of now, in partition order,
    and the count of records that are not valid Outcomes (kept out, never fatal). Raises
    TopicUnreadable."""
    return read_parsed(
        settings, settings.topic_outcomes, Outcome.model_validate_json,
        purpose="outcomes", progress=progress,
    )  # fmt: skip


def read_label_cutoff(settings: Settings) -> datetime | None:
    """The joiner's label cutoff as of now (``roostr.cutoffs``); None until it has published one
    for every partition. Read it *before* the outcomes: then they hold every outcome it vouches
    for."""
    records, _invalid = read_parsed(
        settings, settings.topic_label_cutoffs, LabelCutoff.model_validate_json,
        purpose="label-cutoffs",
    )  # fmt: skip
    return LabelCutoffs().extend(records).cutoff
