"""An Outcome carries the shadow's score as it was logged with the scored signal (through the
labeler's changelog state too), so champion and shadow are judged on the same outcomes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from roostr.contracts import Outcome, PriceTick
from roostr.label_state import LabelerState
from roostr.labels import PartitionLabeler
from roostr.settings import Settings

POSTED = datetime(2026, 2, 1, tzinfo=UTC)


def _record(signal_id: str, shadow: bool) -> dict:
    return {
        "signal_id": signal_id,
        "ticker": "TAO",
        "posted_at": POSTED,
        "price_usd": 1.0,
        "features": {"x": 1.0},
        "feature_set_version": "fs",
        "rule_score": 4,
        "ml_probability": 0.35,
        "ml_score": 4,
        "final_score": 4,
        "model_version": "v0.1-champion",
        **(
            {"shadow_model_version": "v0.2-shadow", "shadow_probability": 0.85, "shadow_score": 9}
            if shadow
            else {}
        ),
    }


def test_outcomes_carry_the_shadow_fields_across_a_restore() -> None:
    rules = Settings().label_rules()
    labeler = PartitionLabeler(rules)
    assert labeler.add_signal(_record("a", shadow=True)) == []
    assert labeler.add_signal(_record("b", shadow=False)) == []
    restored = PartitionLabeler(rules, LabelerState.from_entries(dict(labeler.state.snapshot())))
    tick = PriceTick(ticker="TAO", ts=POSTED + timedelta(days=2), price_usd=2.5, source="feed")
    outcomes = {o.signal_id: o for o in restored.add_tick(tick)}
    shadowed, plain = outcomes["a"], outcomes["b"]
    assert (shadowed.status, shadowed.ml_score, shadowed.model_version) == (
        "won", 4, "v0.1-champion",
    )  # fmt: skip
    assert (shadowed.shadow_model_version, shadowed.shadow_probability, shadowed.shadow_score) == (
        "v0.2-shadow", 0.85, 9,
    )  # fmt: skip
    assert plain.shadow_model_version is None and plain.shadow_score is None
    assert Outcome.model_validate_json(shadowed.model_dump_json()) == shadowed
