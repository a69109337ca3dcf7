"""Walk-forward retraining: before each test window, a model fitted on a rolling window of the
outcomes already *matured* when the window starts (``roostr.labels.matured_at``: the horizon's
end), never on one decided later. An outcome already won but still inside its horizon is left
out and counted (``immature``): taking early wins without their pending losses is what made
walk-forward models over-confident.

The training rows are Outcomes carrying the features and rule score the replay computed for
their signals, exactly what the joiner would have logged, and go through the retraining code:
``training.retrain.labelled_for_retrain`` (too few rows or one class: no new model, the
previous one keeps scoring) and ``training.trainer.fit_model``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from roostr.contracts import Outcome
from roostr.labels import matured_at
from roostr.model import ConvictionModel
from roostr.settings import Settings
from training.retrain import RetrainRefused, labelled_for_retrain
from training.trainer import fit_model

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
        """The outcomes a model for the window may learn from: posted within the training
        window and matured (horizon ended) by the window's start."""
        return [o for o in self._posted_in_window(logged, window_start) if _final(o, window_start)]

    def _posted_in_window(self, logged: Sequence[Outcome], window_start: datetime) -> list[Outcome]:
        since = window_start - self.train_window
        return [o for o in logged if o.label is not None and since <= o.posted_at < window_start]

    def fit(
        self, logged: Sequence[Outcome], window_start: datetime, settings: Settings
    ) -> tuple[ConvictionModel | None, dict[str, Any]]:
        """The window's model (None when the outcomes cannot support one) and what it saw."""
        posted = self._posted_in_window(logged, window_start)
        rows = [o for o in posted if _final(o, window_start)]
        record: dict[str, Any] = {
            "window_start": window_start.isoformat(),
            "train_outcomes": len(rows),
            "immature": len(posted) - len(rows),  # decided (mostly won) but not matured
            "positives": sum(o.label == 1 for o in rows),
            "first_posted_at": min((o.posted_at for o in rows), default=None),
            "last_matured_at": max((matured_at(o) for o in rows), default=None),
            "model_version": None,
            "refused": None,
        }
        for key in ("first_posted_at", "last_matured_at"):
            if record[key] is not None:
                record[key] = record[key].isoformat()
        try:
            data = labelled_for_retrain(
                rows, settings, source=f"walk-forward:{window_start}", cutoff=window_start
            )
        except RetrainRefused as exc:
            record["refused"] = str(exc)
            return None, record
        model = fit_model(data.X, data.y, seed=self.seed)
        model.version = f"walk-forward-{window_start:%Y%m%dT%H%M%SZ}"
        record["model_version"] = model.version
        return model, record


def _final(outcome: Outcome, cutoff: datetime) -> bool:
    return matured_at(outcome) <= cutoff
