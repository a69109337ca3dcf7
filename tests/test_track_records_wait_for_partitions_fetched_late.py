"""A partition the scoring member has not fetched yet holds back the track records of the others.

Source X calls TA on day 0 (raw partition 0) and TB on day 31.6 (raw partition 1). TA's outcome
matures on day 30, a day and more before TB's call, so TB's call is scored with X's record of
one matured signal, whatever order the partitions arrive in. Here partition 1 is fetched first
and held; then partition 0's record arrives, then the prices. The joiner, having read no signal
of partition 0, vouches for day 40 at once: only the member knows that its partition 0 holds a
record it has not been handed, and it must fetch that before it scores TB's call. Then TA's
call is delivered but unread by the joiner: TB's call waits for the joiner to vouch for it, in
both delivery modes (a transaction is acknowledged once committed).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from scoring_service_support import ConsumerProcess, metric, publish, wait_until
from topic_reading import read_topic

from roostr.contracts import PriceTick, RawSignal, ScoredSignal
from roostr.delivery import Output, deliver
from roostr.features.state import TRACK_RECORD_LAG
from roostr.kafka import make_producer
from roostr.settings import Settings
from training.outcomes_topic import read_label_cutoff

pytestmark = pytest.mark.slow

DAY0 = datetime(2026, 3, 1, tzinfo=UTC)


def _call(signal_id: str, ticker: str, day: float) -> RawSignal:
    posted = DAY0 + timedelta(days=day)
    return RawSignal(
        signal_id=signal_id, ticker=ticker, source="X", author="x", message=f"${ticker} looks good",
        posted_at=posted, observed_at=posted + timedelta(minutes=5), price_usd=1.0,
    )  # fmt: skip


def _to_partition(settings: Settings, signal: RawSignal, partition: int) -> None:
    output = Output(
        settings.topic_raw, signal.ticker.encode(), signal.model_dump_json().encode(), partition
    )
    deliver(make_producer(settings), [output], timeout_s=30)


def _scored(settings: Settings) -> dict[str, ScoredSignal]:
    records = read_topic(settings, settings.topic_scored, 0, 1.0, 0.5)
    return {(r := ScoredSignal.model_validate_json(m.value())).signal_id: r for m in records}


def _within(condition: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("delivery", ["at-least-once", "transactional"])
def test_a_partition_fetched_late_still_counts_in_the_track_records(
    settings: Settings, tmp_path: Path, delivery: str
) -> None:
    # the prices partitions without ticks stop holding the joiner's watermark back after 1 s
    settings = settings.model_copy(
        update={"mode": "rules", "track_record_max_wait_s": 60.0, "outcome_idle_partition_s": 1.0}
    )
    early, late = _call("x-ta", "TA", 0.0), _call("x-tb", "TB", 31.6)
    ticks = [
        PriceTick(ticker=ticker, ts=DAY0 + timedelta(hours=6 * i), price_usd=1.0, source="feed")
        for i in range(-4, 161)
        for ticker in ("TA", "TB")
    ]
    joiner = ConsumerProcess(settings, tmp_path, "joiner", command="join")
    consumer = None
    try:
        wait_until(lambda: read_label_cutoff(settings) is not None, 60, "a label cutoff")
        args = ["--transactional"] if delivery == "transactional" else []
        consumer = ConsumerProcess(settings, tmp_path, "consumer", *args)
        port = consumer.wait_for_event("http_listening")["port"]
        _to_partition(settings, late, 1)
        wait_until(lambda: metric(port, "roostr_track_records_held") == 1, 60, "TB's call held")
        _to_partition(settings, early, 0)
        # The member fetches partition 0 and holds both; a member that does not look at its
        # unread partitions keeps holding one, and is then caught below.
        _within(lambda: metric(port, "roostr_track_records_held") == 2, 10)
        publish(settings, settings.topic_prices, ticks)
        wait_until(lambda: len(_scored(settings)) == 2, 120, "both calls scored")
        assert consumer.terminate() == 0 and joiner.terminate() == 0
    finally:
        if consumer is not None:
            consumer.ensure_stopped()
        joiner.ensure_stopped()
    record = _scored(settings)["x-tb"]
    assert record.features["source_resolved_signals"] == 1.0
    assert record.features["author_resolved_signals"] == 1.0
    assert record.label_cutoff == late.posted_at - timedelta(seconds=TRACK_RECORD_LAG)
