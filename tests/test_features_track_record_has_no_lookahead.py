"""A source's / author's track record only counts outcomes known at the signal's posted_at."""

from __future__ import annotations

from datetime import timedelta

from signal_factory import T0, make_outcome, make_signal

from roostr.features import FeatureExtractor, feature_dict

DAY = timedelta(days=1)


def _record(extractor: FeatureExtractor, signal) -> dict[str, float | None]:
    return feature_dict(extractor.transform([signal])[0])


def test_an_outcome_resolved_after_posted_at_is_not_used() -> None:
    extractor = FeatureExtractor()
    earlier = make_signal(0, author="dan")
    extractor.record_outcome(make_outcome(earlier, won=True, hit_at=T0 + 10 * DAY))
    features = _record(extractor, make_signal(1, author="dan", posted_at=T0 + 5 * DAY))
    assert features["source_hit_rate"] is None
    assert features["source_resolved_signals"] == 0
    assert features["author_hit_rate"] is None
    assert features["author_resolved_signals"] == 0


def test_an_outcome_resolved_before_posted_at_is_used() -> None:
    extractor = FeatureExtractor()
    first, second = make_signal(0, author="dan"), make_signal(1, author="dan")
    extractor.record_outcome(make_outcome(first, won=True, hit_at=T0 + 3 * DAY))
    extractor.record_outcome(make_outcome(second, won=False))  # resolves at posted_at + 30 d
    at_day_5 = _record(extractor, make_signal(2, author="dan", posted_at=T0 + 5 * DAY))
    assert at_day_5["source_hit_rate"] == 1.0
    assert at_day_5["source_resolved_signals"] == 1
    assert at_day_5["author_hit_rate"] == 1.0
    at_day_40 = _record(extractor, make_signal(3, author="dan", posted_at=T0 + 40 * DAY))
    assert at_day_40["source_hit_rate"] == 0.5
    assert at_day_40["source_resolved_signals"] == 2


def test_recording_order_does_not_leak_the_future_into_a_replay() -> None:
    """Training replays with every outcome already recorded; past signals must not see them."""
    extractor = FeatureExtractor()
    old = make_signal(0)
    extractor.record_outcome(make_outcome(old, won=True, hit_at=T0 + 2 * DAY))
    replayed = _record(extractor, make_signal(1, posted_at=T0 + DAY))
    assert replayed["source_hit_rate"] is None


def test_other_sources_and_unknown_authors_do_not_borrow_a_record() -> None:
    extractor = FeatureExtractor()
    extractor.record_outcome(make_outcome(make_signal(0, author="dan"), won=True, hit_at=T0 + DAY))
    features = _record(extractor, make_signal(1, source="Elsewhere", posted_at=T0 + 2 * DAY))
    assert features["source_hit_rate"] is None
    assert features["author_hit_rate"] is None
    assert features["author_resolved_signals"] is None  # no author on the signal: unknown


def test_redelivered_and_unresolved_outcomes_do_not_count() -> None:
    extractor = FeatureExtractor()
    signal = make_signal(0)
    outcome = make_outcome(signal, won=True, hit_at=T0 + DAY)
    assert extractor.record_outcome(outcome)
    assert not extractor.record_outcome(outcome)
    unresolved = make_outcome(make_signal(1), won=False, status="unresolved", label=None)
    assert not extractor.record_outcome(unresolved)
    features = _record(extractor, make_signal(2, posted_at=T0 + 40 * DAY))
    assert features["source_resolved_signals"] == 1


def test_an_outcome_without_source_does_not_count_even_for_a_seen_signal() -> None:
    """Members see only their own partitions' signals: attribution must not depend on that."""
    extractor = FeatureExtractor()
    signal = make_signal(0, source="Alpha", author="ana")
    extractor.observe([signal])
    outcome = make_outcome(signal, won=True, hit_at=T0 + DAY, source=None, author=None)
    assert not extractor.record_outcome(outcome)
    features = _record(
        extractor, make_signal(1, source="Alpha", author="ana", posted_at=T0 + 2 * DAY)
    )
    assert features["source_resolved_signals"] == 0
    assert features["source_hit_rate"] is None
