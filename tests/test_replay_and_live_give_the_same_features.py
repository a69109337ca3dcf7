"""A replay gives every signal the features it gets live in event time. Here the whole history
is published at once (signals and four months of prices in seconds: an accelerated replay, as
the demo and a backfill do) to real `roostr join` and `roostr consume` processes. Each scored
signal must carry exactly the features the serving code computes when every outcome is known
in advance and the signals are taken in event time: what a slow live run, where the joiner's
cutoff is always ahead, gives. The consumer holds a batch until the joiner's label cutoff has
reached its posted_at − 1 day, so outcomes arriving late change nothing; with three members
too, each holding some partitions (``consumer.group_frontier``). On the embedded Tansu broker the
three-member runs failed now and then until a partition's end counted only once a fetch had
answered since its assignment (``tests/test_group_frontier_reads_each_end_afresh.py``)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from scoring_service_support import score_world_live
from topic_reading import read_topic

from roostr.contracts import Outcome, ScoredSignal
from roostr.features import FeatureExtractor, feature_dicts
from roostr.features.state import TRACK_RECORD_LAG
from roostr.settings import Settings
from roostr.synthetic.world import World, generate_world

pytestmark = pytest.mark.slow


def _scored(settings: Settings) -> list[ScoredSignal]:
    """Every scored record, redeliveries included."""
    return [
        ScoredSignal.model_validate_json(m.value())
        for m in read_topic(settings, settings.topic_scored, 0, 1.0, 0.5)
    ]


def _assert_event_time_features(settings: Settings, world: World) -> None:
    """Every scored record (a redelivery too) carries the features of event time, and names the
    label cutoff its track records are complete to: its posted_at − 1 day."""
    outcomes = [
        Outcome.model_validate_json(m.value())
        for m in read_topic(settings, settings.topic_outcomes, 0, 1.0, 0.5)
    ]
    extractor = FeatureExtractor()
    for outcome in outcomes:
        extractor.record_outcome(outcome)
    reference = extractor.advance(world.signals)
    expected = dict(
        zip((s.signal_id for s in world.signals), feature_dicts(reference), strict=True)
    )
    posted = {s.signal_id: s.posted_at for s in world.signals}
    lag = timedelta(seconds=TRACK_RECORD_LAG)
    records = _scored(settings)
    assert {r.signal_id for r in records} == set(expected)
    for record in records:
        assert record.features == expected[record.signal_id], record.signal_id
        # held until the joiner's cutoff had passed the outcomes it needs, and named as of
        # event time (a redelivery names the same), never the cutoff of the moment
        assert record.label_cutoff == posted[record.signal_id] - lag, record.signal_id
    with_records = {r.signal_id for r in records if r.features["source_resolved_signals"]}
    assert len(with_records) > 100  # track records were in play, not all empty


@pytest.mark.parametrize("members", [1, 3])
def test_an_accelerated_replay_scores_the_features_of_event_time(
    settings: Settings, tmp_path: Path, members: int
) -> None:
    settings = settings.model_copy(update={"mode": "rules", "track_record_max_wait_s": 60.0})
    world = generate_world(400, seed=5, span_days=120)
    score_world_live(settings, tmp_path, world, members=members)
    _assert_event_time_features(settings, world)


def test_a_member_killed_in_the_replay_changes_no_feature(
    settings: Settings, tmp_path: Path
) -> None:
    """kill -9 of one of three members halfway: its partitions move, what it had scored but not
    committed is scored again, and every record, first or again, is the event-time one. The
    others hold what needs the dead member's pending signals until its partitions move, and
    keep polling meanwhile: a member waiting inside its batch stalled that rebalance until its
    wait ran out."""
    settings = settings.model_copy(update={"mode": "rules", "track_record_max_wait_s": 60.0})
    world = generate_world(400, seed=6, span_days=120)
    score_world_live(settings, tmp_path, world, members=3, kill_after=150)
    _assert_event_time_features(settings, world)
