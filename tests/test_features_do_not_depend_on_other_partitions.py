"""A signal's features depend on its own ticker's history only: not on which other partitions
(tickers) the member holds, how far ahead in event time they are, or how they interleave."""

from __future__ import annotations

import random
from datetime import timedelta

import numpy as np
from signal_factory import T0, make_signal

from roostr.contracts import RawSignal
from roostr.features import FeatureExtractor, feature_dict

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def _partition(tickers: list[str], start, n: int, seed: int) -> list[RawSignal]:
    """One partition's signals over ~9 days: mostly in order, some late, very late and repeated."""
    rng = random.Random(seed)
    signals = []
    for i in range(n):
        posted = start + i * 40 * timedelta(minutes=1)
        roll = rng.random()
        if roll < 0.1:
            posted -= rng.uniform(1, 20) * HOUR  # late, within the grace day
        elif roll < 0.15:
            posted -= rng.uniform(2, 6) * DAY  # late, windows cut at the horizon
        elif roll < 0.18:
            posted -= rng.uniform(9, 30) * DAY  # very late
        ident = rng.randrange(i) if i and rng.random() < 0.05 else i  # a redelivery
        signals.append(
            make_signal(
                ident,
                signal_id=f"p{seed}:{ident}",
                ticker=rng.choice(tickers),
                source=rng.choice(["A", "B", "C"]),
                posted_at=posted,
            )
        )
    return signals


def _own_rows(signals: list[RawSignal], mine: list[RawSignal]) -> list[np.ndarray]:
    """The rows of ``mine`` (in their order) when the extractor sees ``signals``."""
    X = FeatureExtractor().advance(signals)
    ids = {id(s) for s in mine}
    return [X[i] for i, s in enumerate(signals) if id(s) in ids]


def test_a_partition_alone_and_beside_one_30_days_ahead_gives_identical_rows() -> None:
    mine = _partition(["TAO", "ASTS"], T0, 330, seed=1)
    ahead = _partition(["PEPE", "WIF", "BONK"], T0 + 30 * DAY, 330, seed=2)
    alone = np.vstack(_own_rows(mine, mine))
    assert np.isfinite(alone[:, 8]).all()  # mentions_24h is always known
    rng = random.Random(5)
    interleavings = {
        "ahead first": ahead + mine,
        "alternating": [s for pair in zip(ahead, mine, strict=True) for s in pair],
        "random merge": _random_merge(mine, ahead, rng),
        "batches of 100": [*ahead[:100], *mine[:100], *ahead[100:], *mine[100:]],
    }
    for name, stream in interleavings.items():
        beside = np.vstack(_own_rows(stream, mine))
        np.testing.assert_array_equal(beside, alone, err_msg=name)


def _random_merge(a: list[RawSignal], b: list[RawSignal], rng: random.Random) -> list[RawSignal]:
    """Both lists merged at random, each keeping its own order (two partitions fetched)."""
    merged, i, j = [], 0, 0
    while i < len(a) or j < len(b):
        if j == len(b) or (i < len(a) and rng.random() < 0.5):
            merged.append(a[i])
            i += 1
        else:
            merged.append(b[j])
            j += 1
    return merged


def _features(signals: list[RawSignal]) -> list[dict[str, float | None]]:
    return [feature_dict(row) for row in FeatureExtractor().advance(signals)]


def test_a_signal_late_within_a_day_sees_complete_windows() -> None:
    early = make_signal(0, source="A", posted_at=T0)
    newest = make_signal(1, source="B", posted_at=T0 + 7 * DAY)
    late = make_signal(2, source="C", posted_at=T0 + 6 * DAY + 12 * HOUR)  # 12 h late
    *_, features = _features([early, newest, late])
    assert features["mentions_7d"] == 2  # itself and `early`, 6.5 days before it
    assert features["sources_7d"] == 2
    assert features["hours_since_prev_mention"] == 6 * 24 + 12


def test_a_signal_later_than_the_grace_day_sees_windows_cut_at_the_horizon() -> None:
    early = make_signal(0, source="A", posted_at=T0)
    newest = make_signal(1, source="B", posted_at=T0 + 10 * DAY)
    late = make_signal(2, source="C", posted_at=T0 + 5 * DAY)  # horizon: newest - 8 days
    *_, features = _features([early, newest, late])
    assert features["mentions_7d"] == 1  # `early` is before the horizon: forgotten
    assert features["hours_since_prev_mention"] is None
    assert features["hours_since_first_mention"] == 5 * 24  # first-seen is kept forever


def test_a_very_late_signal_sees_only_itself_and_changes_no_later_count() -> None:
    recent = [make_signal(i, source=f"S{i}", posted_at=T0 + 20 * DAY + i * HOUR) for i in range(3)]
    very_late = make_signal(9, source="Old", posted_at=T0 + 2 * DAY)  # 18 days before the newest
    after = make_signal(10, source="S0", posted_at=T0 + 20 * DAY + 5 * HOUR)
    with_it = _features([*recent, very_late, after])
    without_it = _features([*recent, after])
    late = with_it[3]
    assert (late["mentions_24h"], late["mentions_7d"]) == (1, 1)
    assert (late["sources_24h"], late["sources_7d"]) == (1, 1)
    assert late["hours_since_prev_mention"] is None
    assert late["hours_since_first_mention"] == 0  # it is now the ticker's earliest mention
    for name in ("mentions_24h", "mentions_7d", "sources_24h", "sources_7d"):
        assert with_it[-1][name] == without_it[-1][name]
    assert with_it[-1]["hours_since_first_mention"] == 18 * 24 + 5  # first-seen moved back


def test_a_signal_id_on_two_tickers_counts_for_each() -> None:
    """A message naming two tickers is one mention of each, whichever members hold them."""
    one = make_signal(0, ticker="TAO")
    other = make_signal(0, ticker="ASTS")  # same signal_id
    tao, asts = _features([one, other])
    assert tao["mentions_24h"] == asts["mentions_24h"] == 1
    again = make_signal(0, ticker="TAO", posted_at=T0 + HOUR)  # a re-scrape, posted_at moved
    *_, repeat = _features([one, other, again])
    assert repeat["mentions_7d"] == 1  # counted once, at its first posted_at
