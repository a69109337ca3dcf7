"""A topic's ends as a fetch reports them (``roostr.topic_reader.fetched_ends``): the offset
after the last record, however the records were batched. The embedded Tansu broker lists a
partition's end (ListOffsets) as its last batch's first offset + 1: a hundred records written
as one batch listed as an end of 1. The outcome joiner seeds what its label cutoffs vouch for
from these ends when it takes partitions over, so a listed end there vouched for one outcome of
a hundred."""

from __future__ import annotations

import pytest

from roostr.delivery import Output, deliver
from roostr.kafka import make_producer
from roostr.settings import Settings
from roostr.topic_reader import fetched_ends

pytestmark = pytest.mark.broker


def test_an_end_counts_every_record_of_the_last_batch(settings: Settings) -> None:
    topic = settings.topic_outcomes
    records = [Output(topic, b"k", b"%d" % i, 0) for i in range(100)]
    deliver(make_producer(settings, **{"linger.ms": 200}), records, timeout_s=30)  # one batch
    ends = fetched_ends(settings, topic)
    assert ends[0] == 100
    assert set(ends.values()) == {0, 100}  # the other partitions are empty
