"""A joiner that dies while an outcome is still in flight loses no outcome.

The broker is sent each partition's records on its own, so a crash can land a batch's state
(and the marker a restore trusts) while one of its outcomes never arrives. The joiner therefore
writes a batch's state only once its outcomes are acknowledged (``OutcomeJoiner._process``).
Here the producer never hands the broker one outcome, as if the process had died with it in
flight: the joiner must exit without writing that batch's state, and a restart must emit it.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar

import pytest
from confluent_kafka import Producer
from scoring_service_support import wait_until
from test_outcome_joiner_labels_every_scored_signal import (
    assert_labels,
    join_settings,  # noqa: F401 - the fixture, shared
    outcomes_by_id,
    publish_world,
)

import consumer.joiner
import roostr.kafka
from consumer.joiner import OutcomeJoiner
from consumer.runtime import EXIT_DELIVERY_FAILED
from roostr.settings import Settings


class _LosesAnOutcome(Producer):
    """A producer that never hands the broker the third outcome (its acknowledgement never
    comes) and records what it was asked to produce after it."""

    outcomes_topic: ClassVar[str] = ""
    lost: ClassVar[list[bytes]] = []
    after_loss: ClassVar[list[str]] = []
    _outcomes = 0

    def produce(self, topic: str, *args: Any, **kwargs: Any) -> None:
        if self.lost:
            self.after_loss.append(topic)
        if topic == self.outcomes_topic:
            self._outcomes += 1
            if self._outcomes == 3:
                self.lost.append(kwargs.get("key", args[1] if len(args) > 1 else b""))
                return
        super().produce(topic, *args, **kwargs)


def _run(joiner: OutcomeJoiner) -> tuple[threading.Thread, list[int]]:
    status: list[int] = []
    thread = threading.Thread(target=lambda: status.append(joiner.run()), daemon=True)
    thread.start()
    return thread, status


def test_a_joiner_dying_with_an_outcome_unacknowledged_writes_no_state_past_it(
    join_settings: Settings,  # noqa: F811 - the fixture imported above
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = join_settings.model_copy(update={"joiner_http_port": 0, "batch_size": 50})
    signals, ticks, _rest = publish_world(settings, seed=12)
    lost: list[bytes] = []
    after_loss: list[str] = []
    monkeypatch.setattr(_LosesAnOutcome, "outcomes_topic", settings.topic_outcomes)
    monkeypatch.setattr(_LosesAnOutcome, "lost", lost)
    monkeypatch.setattr(_LosesAnOutcome, "after_loss", after_loss)
    monkeypatch.setattr(roostr.kafka, "Producer", _LosesAnOutcome)
    monkeypatch.setattr(consumer.joiner, "_FLUSH_TIMEOUT_S", 10.0)  # the wait for the lost one

    thread, status = _run(OutcomeJoiner(settings))
    thread.join(120)
    assert status == [EXIT_DELIVERY_FAILED]
    assert lost, "no outcome was held back"
    assert settings.topic_joiner_state not in after_loss  # no state vouches for the lost one

    monkeypatch.undo()  # the restart: a producer that delivers everything
    restarted = OutcomeJoiner(settings)
    thread, status = _run(restarted)
    try:
        found = outcomes_by_id(settings, len(signals), timeout_s=60)
        assert_labels(found, signals, ticks)  # the lost outcome among them
        wait_until(restarted.ready, 30, "the restarted joiner ready")
    finally:
        restarted.stop()
        thread.join(60)
    assert status == [0]
