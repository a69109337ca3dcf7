"""Multi-source and mention windows use event time (posted_at) and forget what is too old."""

from __future__ import annotations

from datetime import timedelta

from signal_factory import T0, make_signal

from roostr.features import FeatureExtractor, feature_dict
from roostr.features.state import RETAINED, MentionHistory

HOUR = timedelta(hours=1)


def _last(signals) -> dict[str, float | None]:
    return feature_dict(FeatureExtractor().advance(signals)[-1])


def test_distinct_sources_in_the_last_24h_and_7d() -> None:
    signals = [
        make_signal(0, source="A", posted_at=T0),
        make_signal(1, source="B", posted_at=T0 + 2 * 24 * HOUR),
        make_signal(2, source="B", posted_at=T0 + 2 * 24 * HOUR + HOUR),
        make_signal(3, source="C", posted_at=T0 + 3 * 24 * HOUR - HOUR),
        make_signal(4, source="D", ticker="ASTS", posted_at=T0 + 3 * 24 * HOUR - HOUR),
        make_signal(5, source="C", posted_at=T0 + 3 * 24 * HOUR),
    ]
    features = _last(signals)
    assert features["sources_24h"] == 2  # B (exactly 24 h ago: inclusive) and C; A is 3 days old
    assert features["sources_7d"] == 3  # A, B, C; D mentioned another ticker
    assert features["multi_source"] == 1
    assert features["mentions_24h"] == 4
    assert features["mentions_7d"] == 5
    assert features["hours_since_first_mention"] == 72
    assert features["hours_since_prev_mention"] == 1
    assert features["dan_x_multisource"] == 0  # not endorsed


def test_mentions_older_than_the_window_drop_out() -> None:
    features = _last(
        [make_signal(0, source="A"), make_signal(1, source="B", posted_at=T0 + 8 * 24 * HOUR)]
    )
    assert features["sources_7d"] == 1
    assert features["multi_source"] == 0
    assert features["hours_since_prev_mention"] is None
    assert features["hours_since_first_mention"] == 8 * 24  # first-seen is kept forever


def test_a_late_signal_sees_the_window_around_its_own_posted_at() -> None:
    """Windows are evaluated at posted_at (event time), not the newest time or the wall clock."""
    late = make_signal(2, source="C", posted_at=T0 + HOUR)
    features = _last(
        [make_signal(0, source="A"), make_signal(1, source="B", posted_at=T0 + 30 * HOUR), late]
    )
    assert features["sources_24h"] == 2  # A and C; B is in its future
    assert features["mentions_7d"] == 2
    assert features["hours_since_prev_mention"] == 1


def test_memory_is_bounded_by_each_tickers_own_last_eight_days() -> None:
    history = MentionHistory()
    start = T0.timestamp()
    posted: dict[str, list[float]] = {}
    for i in range(10_000):
        ticker, at = f"T{i % 500}", start + i * 600  # 10 minutes apart, ~69 days
        history.add(ticker, f"S{i % 7}", f"id:{i}", at)
        posted.setdefault(ticker, []).append(at)
    for ticker, times in posted.items():
        entry = history._tickers[ticker]
        assert entry.times == [t for t in times if t >= times[-1] - RETAINED]
        assert len(entry.ids) <= 2 * len(entry.times)
        assert entry.first == times[0]  # first-seen is kept forever
