"""A partition scored by a ``roostr consume`` member alone, and the same partition scored beside
a partition whose signals are 30 days ahead in event time, give identical records per signal.

Real broker, separate processes: the member holding both partitions has seen the far-ahead
signals before the first signal of the other partition arrives.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from scoring_service_support import (
    ConsumerProcess,
    produce,
    read_outputs,
    without_scored_at,
)

from roostr.contracts import ScoredSignal
from roostr.kafka import ensure_topics
from roostr.settings import Settings
from roostr.synthetic.stream import encoded, synthetic_signals

pytestmark = pytest.mark.slow

START = datetime(2026, 1, 1, tzinfo=UTC)


def _mine() -> list[tuple[bytes, bytes]]:
    """400 signals of 4 tickers a minute apart; every 9th 5 hours late, every 50th 12 days late."""
    signals = []
    for i, signal in enumerate(synthetic_signals(400, tickers=4, seed=7, prefix="mine")):
        posted = datetime.fromisoformat(signal["posted_at"])
        if i % 50 == 49:
            posted -= timedelta(days=12)
        elif i % 9 == 8:
            posted -= timedelta(hours=5)
        signals.append(encoded(signal | {"posted_at": posted.isoformat()}))
    return signals


def _ahead() -> list[tuple[bytes, bytes]]:
    """200 signals of 4 other tickers, 30 days ahead of ``_mine``."""
    start = START + timedelta(days=30)
    return [
        encoded(signal | {"ticker": signal["ticker"].replace("TK", "AH")})
        for signal in synthetic_signals(200, tickers=4, seed=8, prefix="ahead", start=start)
    ]


def _score(settings: Settings, tmp_path: Path, name: str, ahead: bool) -> list[ScoredSignal]:
    """Run one member over its own topics; ``ahead`` is produced and scored first."""
    ensure_topics(settings)
    mine = _mine()
    consumer = ConsumerProcess(settings, tmp_path, name)
    try:
        if ahead:
            produce(settings, _ahead(), partition=1)
            read_outputs(settings, expected=len(_ahead()))
        produce(settings, mine, partition=0)
        expected = len(mine) + (len(_ahead()) if ahead else 0)
        scored, dead = read_outputs(settings, expected=expected, timeout_s=90)
        assert consumer.terminate() == 0, consumer.tail()
    finally:
        consumer.ensure_stopped()
    assert not dead
    ids = {orjson.loads(value)["signal_id"] for _key, value in mine}
    return [s for s in scored if s.signal_id in ids]


def test_a_partition_scores_the_same_alone_and_beside_one_30_days_ahead(
    settings: Settings, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"mode": "rules"})
    alone = _score(settings.namespaced("alone"), tmp_path, "alone", ahead=False)
    beside = _score(settings.namespaced("beside"), tmp_path, "beside", ahead=True)

    alone_by_id = {s.signal_id: without_scored_at(s) for s in alone}
    beside_by_id = {s.signal_id: without_scored_at(s) for s in beside}
    assert len(alone_by_id) == len(_mine())
    assert beside_by_id == alone_by_id
    weekly = [s.features["mentions_7d"] for s in alone]
    assert min(weekly) >= 1 and max(weekly) > 50  # windows filled up, never dropped to zero
