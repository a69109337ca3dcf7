"""One signal failing in its features or its record is dead-lettered as ``processing``; every
other signal of the batch, and of later batches, is scored exactly as in a clean run (the
feature state is never read twice for a signal, so no retry sees later signals' mentions)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from confluent_kafka import Message
from signal_factory import T0, make_signal

import roostr.features.extractor
import roostr.scoring
from consumer.pipeline import score_batch
from roostr.contracts import RawSignal, ScoredSignal
from roostr.features import FeatureExtractor
from roostr.scoring import Scorer

NOW = datetime(2026, 3, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
BAD = "test:5"


def _batch() -> list[RawSignal]:
    """One ticker, posted out of order: a re-read of the state would count later offsets."""
    minutes = [0, 50, 10, 40, 20, 30, 5, 45, 15, 35, 25, 55]
    return [
        make_signal(i, source=f"S{i % 3}", message=f"$TAO call {i}", posted_at=T0 + m * MINUTE)
        for i, m in enumerate(minutes)
    ]


LATER = [make_signal(100 + i, posted_at=T0 + (30 + i) * MINUTE) for i in range(3)]


def _features(records: list) -> dict[str, dict[str, float | None]]:
    return {r["signal_id"]: r["features"] for r in records if isinstance(r, dict)}


def _clean_run() -> tuple[dict, dict]:
    scorer = Scorer(FeatureExtractor(), mode="rules")
    first = _features(scorer.score_records(_batch(), NOW))
    return first, _features(scorer.score_records(LATER, NOW))


def _fail_for_bad_signal(original: Callable, pick: Callable) -> Callable:
    def failing(*args, **kwargs):
        if pick(*args, **kwargs):
            raise RuntimeError("injected failure")
        return original(*args, **kwargs)

    return failing


def _inject_in_features(monkeypatch: pytest.MonkeyPatch) -> None:
    original = roostr.features.extractor.text_features
    monkeypatch.setattr(
        roostr.features.extractor,
        "text_features",
        _fail_for_bad_signal(original, lambda message: message == "$TAO call 5"),
    )


def _inject_in_records(monkeypatch: pytest.MonkeyPatch) -> None:
    original = roostr.scoring.rule_scores  # fails for every batch holding the bad signal
    monkeypatch.setattr(
        roostr.scoring,
        "rule_scores",
        _fail_for_bad_signal(
            original, lambda _rule_set, signals, _X: any(s.signal_id == BAD for s in signals)
        ),
    )


@pytest.mark.parametrize("inject", [_inject_in_features, _inject_in_records])
def test_the_failing_signal_alone_is_dead_lettered_and_the_rest_match_a_clean_run(
    monkeypatch: pytest.MonkeyPatch, inject: Callable[[pytest.MonkeyPatch], None]
) -> None:
    clean, clean_later = _clean_run()
    inject(monkeypatch)
    scorer = Scorer(FeatureExtractor(), mode="rules")
    messages = [
        Message(topic="raw", partition=0, offset=i, key=b"TAO", value=s.model_dump_json().encode())
        for i, s in enumerate(_batch())
    ]
    batch = score_batch(
        messages,
        scorer,
        scored_topic="scored",
        dlq_topic="dlq",
        max_bytes=1 << 20,
        max_payload_bytes=1 << 20,
        now=NOW,
    )

    (letter,) = batch.dead
    assert (letter.signal_id, letter.offset, letter.error_kind) == (BAD, 5, "processing")
    assert "injected failure" in letter.error
    assert [output.topic for output in batch.outputs].count("scored") == len(messages) - 1
    assert _features(batch.scored) == {k: v for k, v in clean.items() if k != BAD}
    for output in batch.outputs:  # the records are valid ScoredSignals
        if output.topic == "scored":
            ScoredSignal.model_validate(orjson.loads(output.value))
    # The failed signal still counted as a mention: later batches see the clean run's state.
    assert _features(scorer.score_records(LATER, NOW)) == clean_later


def test_a_scorer_failing_as_a_whole_dead_letters_the_batch_without_rescoring() -> None:
    class Broken:
        calls = 0

        def score_records(self, signals, scored_at):
            Broken.calls += 1
            raise RuntimeError("scorer bug")

        def set_model(self, model):  # pragma: no cover - part of the protocol only
            pass

        def set_mode(self, mode):  # pragma: no cover - part of the protocol only
            pass

    messages = [
        Message(topic="raw", partition=0, offset=i, key=b"TAO", value=s.model_dump_json().encode())
        for i, s in enumerate(_batch()[:3])
    ]
    batch = score_batch(
        messages,
        Broken(),
        scored_topic="scored",
        dlq_topic="dlq",
        max_bytes=1 << 20,
        max_payload_bytes=1 << 20,
        now=NOW,
    )
    assert Broken.calls == 1
    assert [d.error_kind for d in batch.dead] == ["processing"] * 3
    assert all("scorer bug" in d.error for d in batch.dead)
