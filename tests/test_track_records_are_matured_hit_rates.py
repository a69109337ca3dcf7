"""A source's / author's track record is its hit rate over the outcomes *matured* (whole horizon
ended) a ``TRACK_RECORD_LAG`` before the signal was posted, shrunk toward its parent rate
(author → source → global): never an early win whose siblings' losses are still pending, never
an outcome from the signal's future, whatever order the outcomes were recorded in."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from signal_factory import T0, make_outcome, make_signal

from roostr.contracts import Outcome, RawSignal
from roostr.features import FeatureExtractor, feature_dict
from roostr.features.state import PRIOR_STRENGTH, TRACK_RECORD_LAG
from roostr.labels import matured_at

DAY = timedelta(days=1)
LAG = timedelta(seconds=TRACK_RECORD_LAG)
K = PRIOR_STRENGTH


def _features(extractor: FeatureExtractor, signal: RawSignal) -> dict[str, float | None]:
    return feature_dict(extractor.advance([signal])[0])


def _expected(outcomes: list[Outcome], signal: RawSignal) -> dict[str, float | None]:
    """The matured hit rates, counted by hand (the test's independent computation)."""
    when = signal.posted_at - LAG
    matured = [o for o in outcomes if matured_at(o) <= when]
    if not matured:
        return {"source_hit_rate": None, "author_hit_rate": None}

    def tally(rows: list[Outcome]) -> tuple[int, int]:
        return sum(o.label == 1 for o in rows), len(rows)

    wins, n = tally(matured)
    wins_s, n_s = tally([o for o in matured if o.source == signal.source])
    source = (wins_s + K * wins / n) / (n_s + K)
    wins_a, n_a = tally([o for o in matured if o.author == signal.author])
    author = (wins_a + K * source) / (n_a + K)
    return {
        "source_hit_rate": source,
        "source_resolved_signals": n_s,
        "author_hit_rate": author,
        "author_resolved_signals": n_a,
    }


def test_track_records_equal_the_matured_hit_rates_whatever_the_recording_order() -> None:
    rng = random.Random(5)
    signals = [
        make_signal(
            i,
            source=rng.choice(["Alpha", "Beta", "Gamma"]),
            author=rng.choice(["ana", "bo", "cy", "di"]),
            posted_at=T0 + timedelta(hours=rng.uniform(0, 24 * 200)),
        )
        for i in range(300)
    ]
    outcomes = []
    for signal in signals:
        won = rng.random() < 0.35
        hit_at = signal.posted_at + timedelta(days=rng.uniform(0.5, 29)) if won else None
        outcomes.append(make_outcome(signal, won=won, hit_at=hit_at))
    probes = [
        make_signal(1000 + i, source=s, author=a, posted_at=T0 + d * DAY)
        for i, (s, a, d) in enumerate(
            [("Alpha", "ana", 20), ("Beta", "bo", 45), ("Gamma", "zed", 90), ("Alpha", "di", 230)]
        )
    ]
    up_front = FeatureExtractor()
    for outcome in reversed(outcomes):
        up_front.record_outcome(outcome)
    for probe in probes:
        got, want = _features(up_front, probe), _expected(outcomes, probe)
        for name, value in want.items():
            expected = None if value is None else pytest.approx(value, rel=1e-6)
            assert got[name] == expected, (probe.posted_at, name)
    # recorded only as they are decided (a live consumer): the same features
    as_decided = FeatureExtractor()
    for probe in probes:
        for outcome in outcomes:
            decided = outcome.hit_at or matured_at(outcome)
            if decided <= probe.posted_at:
                as_decided.record_outcome(outcome)
        assert _features(as_decided, probe) == _features(up_front, probe)


def test_a_caller_with_recent_early_wins_is_rated_by_its_matured_record() -> None:
    now = T0 + 100 * DAY
    past = [make_signal(i, author="hot", posted_at=T0 + i * DAY) for i in range(6)]
    record = [make_outcome(s, won=i < 2, hit_at=s.posted_at + DAY) for i, s in enumerate(past)]
    # ten calls in the last three weeks: four already doubled, six still open (their losses
    # are not known yet)
    recent = [
        make_signal(10 + i, author="hot", posted_at=now - (21 - 2 * i) * DAY) for i in range(10)
    ]
    early_wins = [make_outcome(s, won=True, hit_at=s.posted_at + DAY) for s in recent[:4]]
    probe = make_signal(99, author="hot", posted_at=now)

    with_early_wins, matured_only = FeatureExtractor(), FeatureExtractor()
    for outcome in record + early_wins:
        with_early_wins.record_outcome(outcome)
    for outcome in record:
        matured_only.record_outcome(outcome)
    rated = _features(with_early_wins, probe)
    assert rated == _features(matured_only, probe)
    assert rated["author_resolved_signals"] == 6
    assert rated["author_hit_rate"] == pytest.approx(_expected(record, probe)["author_hit_rate"])
    # shrunk: two wins in six is not rated as 2/6 exactly, nor as four fresh wins would rate it
    assert 2 / 6 < rated["author_hit_rate"] < 0.5


def test_an_outcome_counts_only_once_its_horizon_ended_a_lag_before_posting() -> None:
    first = make_signal(0, author="dan")
    win = make_outcome(first, won=True, hit_at=T0 + 3 * DAY)
    extractor = FeatureExtractor()
    extractor.record_outcome(win)
    horizon_end: datetime = matured_at(win)
    before = _features(extractor, make_signal(1, author="dan", posted_at=horizon_end + LAG / 2))
    assert before["source_hit_rate"] is None and before["source_resolved_signals"] == 0
    after = _features(extractor, make_signal(2, author="dan", posted_at=horizon_end + LAG))
    assert after["source_resolved_signals"] == 1 and after["author_resolved_signals"] == 1
    assert after["source_hit_rate"] == pytest.approx(1.0)  # the global rate is its own


def test_other_sources_get_the_global_rate_and_unknown_authors_none() -> None:
    extractor = FeatureExtractor()
    for i, won in enumerate((True, False, False, False)):
        extractor.record_outcome(make_outcome(make_signal(i, author="dan"), won=won, hit_at=T0))
    late = T0 + 40 * DAY
    features = _features(extractor, make_signal(9, source="Elsewhere", posted_at=late))
    assert features["source_resolved_signals"] == 0
    assert features["source_hit_rate"] == pytest.approx(0.25)
    assert features["author_hit_rate"] is None
    assert features["author_resolved_signals"] is None  # no author on the signal: unknown


def test_redelivered_unresolved_and_sourceless_outcomes_do_not_count() -> None:
    extractor = FeatureExtractor()
    signal = make_signal(0, source="Alpha", author="ana")
    extractor.observe([signal])
    outcome = make_outcome(signal, won=True, hit_at=T0 + DAY)
    assert extractor.record_outcome(outcome)
    assert not extractor.record_outcome(outcome)
    unresolved = make_outcome(make_signal(1), won=False, status="unresolved", label=None)
    assert not extractor.record_outcome(unresolved)
    # members see only their own partitions' signals: attribution must not depend on that
    sourceless = make_outcome(make_signal(2), won=True, hit_at=T0, source=None, author=None)
    assert not extractor.record_outcome(sourceless)
    features = _features(extractor, make_signal(3, source="Alpha", posted_at=T0 + 40 * DAY))
    assert features["source_resolved_signals"] == 1
