"""Walk-forward retraining: before each test window, a model fitted on a rolling window of the
outcomes already resolved when the window starts (``roostr.labels.resolved_at``: ``hit_at``
for a win, the horizon's end for a loss), never on one resolved later.

The training rows are Outcomes carrying the features and rule score the replay computed for
their signals, exactly what the joiner would have logged, and go through the retraining code:
``training.retrain.labelled_for_retrain`` (too few rows or one class: no new model, the
previous one keeps scoring) and ``training.pipeline.fit_model``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from roostr.contracts import Outcome
from roostr.labels import resolved_at
from roostr.model import ConvictionModel
from roostr.settings import Settings
from training.pipeline import fit_model
from training.retrain import RetrainRefused, labelled_for_retrain

__all__ = ["WalkForward"]


@dataclass(frozen=True)
class WalkForward:
    """Test windows of ``every`` from the backtest's start; training on the ``train_window``
    of outcomes posted before each window start."""

    every: timedelta = timedelta(days=30)
    train_window: timedelta = timedelta(days=180)
    seed: int = 7

    def window_starts(self, start: datetime, end: datetime) -> list[datetime]:
        starts, at = [], start
        while at < end:
            starts.append(at)
            at += self.every
        return starts

    def training_outcomes(self, logged: Sequence[Outcome], window_start: datetime) -> list[Outcome]:
        """The outcomes a model for the window may learn from: resolved before it starts and
        posted within the training window."""
        since = window_start - self.train_window
        return [
            o
            for o in logged
            if o.label is not None and o.posted_at >= since and resolved_at(o) < window_start
        ]

    def fit(
        self, logged: Sequence[Outcome], window_start: datetime, settings: Settings
    ) -> tuple[ConvictionModel | None, dict[str, Any]]:
        """The window's model (None when the outcomes cannot support one) and what it saw."""
        rows = self.training_outcomes(logged, window_start)
        record: dict[str, Any] = {
            "window_start": window_start.isoformat(),
            "train_outcomes": len(rows),
            "positives": sum(o.label == 1 for o in rows),
            "first_posted_at": min((o.posted_at for o in rows), default=None),
            "last_resolved_at": max((resolved_at(o) for o in rows), default=None),
            "model_version": None,
            "refused": None,
        }
        for key in ("first_posted_at", "last_resolved_at"):
            if record[key] is not None:
                record[key] = record[key].isoformat()
        try:
            data = labelled_for_retrain(rows, settings, source=f"walk-forward:{window_start}")
        except RetrainRefused as exc:
            record["refused"] = str(exc)
            return None, record
        model = fit_model(data.X, data.y, seed=self.seed)
        model.version = f"walk-forward-{window_start:%Y%m%dT%H%M%SZ}"
        record["model_version"] = model.version
        return model, record
