"""RawSignal builders for the feature and rule tests: seed-style defaults, overridable per test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from roostr.contracts import Outcome, RawSignal

T0 = datetime(2026, 2, 5, 12, 0, tzinfo=UTC)


def make_signal(n: int = 0, **fields: Any) -> RawSignal:
    """Signal number ``n`` (posted n minutes after T0 unless ``posted_at`` is given)."""
    values: dict[str, Any] = {
        "signal_id": f"test:{n}",
        "ticker": "TAO",
        "source": "Yieldschool-YieldHub",
        "message": "",
        "posted_at": T0 + timedelta(minutes=n),
    }
    values.update(fields)
    return RawSignal(**values)


def make_outcome(
    signal: RawSignal, *, won: bool, hit_at: datetime | None = None, **fields: Any
) -> Outcome:
    """The outcome of ``signal``: a win at ``hit_at``, a loss at posted_at + 30 days."""
    values: dict[str, Any] = {
        "signal_id": signal.signal_id,
        "ticker": signal.ticker,
        "posted_at": signal.posted_at,
        "source": signal.source,
        "author": signal.author,
        "status": "won" if won else "lost",
        "label": 1 if won else 0,
        "hit_at": hit_at if won else None,
        "horizon_days": 30,
    }
    values.update(fields)
    return Outcome(**values)
