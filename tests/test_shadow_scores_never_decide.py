"""A shadow (challenger) model rides along in every scored record and never decides anything:
the records of a batch are the same with and without it, apart from the ``shadow_*`` fields;
a shadow that fails leaves those out and changes nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from roostr.contracts import Mode, RawSignal, ScoredSignal
from roostr.features import FEATURE_NAMES, FEATURE_SET_VERSION, FeatureExtractor
from roostr.model import ConvictionModel
from roostr.scale import probability_to_score
from roostr.scoring import Scorer, scored_signals
from training.synthetic import generate

NOW = datetime(2026, 3, 1, tzinfo=UTC)
SHADOW_FIELDS = {"shadow_model_version", "shadow_probability", "shadow_score"}


def _signals() -> list[RawSignal]:
    return list(generate(120, seed=11).signals)


def _model(seed: int, version: str) -> ConvictionModel:
    data = generate(300, seed=seed)
    X = FeatureExtractor().advance(data.signals)
    model = ConvictionModel(n_estimators=20, max_depth=3, random_state=seed).fit(
        X, data.labels, feature_names=FEATURE_NAMES, feature_set_version=FEATURE_SET_VERSION
    )
    model.version = version
    return model


@pytest.fixture(scope="module")
def champion() -> ConvictionModel:
    return _model(1, "v0.1-champion")


@pytest.fixture(scope="module")
def challenger() -> ConvictionModel:
    return _model(2, "v0.2-challenger")


class FailingModel(ConvictionModel):
    def predict_proba(self, X: object) -> np.ndarray:
        raise RuntimeError("challenger booster corrupted")


def _without_shadow(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in SHADOW_FIELDS}


def _score(mode: Mode, champion: ConvictionModel, shadow: ConvictionModel | None) -> list[dict]:
    scorer = Scorer(FeatureExtractor(), model=champion, mode=mode)
    scorer.set_shadow(shadow)
    return [s.model_dump() for s in scored_signals(scorer.score_records(_signals(), NOW))]


@pytest.mark.parametrize("mode", ["parallel", "hybrid", "ml"])
def test_shadow_rides_along_without_changing_any_other_field(
    mode: Mode, champion: ConvictionModel, challenger: ConvictionModel
) -> None:
    alone = _score(mode, champion, None)
    with_shadow = _score(mode, champion, challenger)
    assert all(record[f] is None for record in alone for f in SHADOW_FIELDS)
    for plain, shadowed in zip(alone, with_shadow, strict=True):
        assert _without_shadow(shadowed) == _without_shadow(plain)
    probabilities = np.array([r["shadow_probability"] for r in with_shadow])
    expected = challenger.predict_proba(FeatureExtractor().advance(_signals()))[:, 1]
    np.testing.assert_allclose(probabilities, expected)
    assert [r["shadow_score"] for r in with_shadow] == probability_to_score(expected).tolist()
    assert {r["shadow_model_version"] for r in with_shadow} == {"v0.2-challenger"}
    # the two models disagree somewhere, so equal final scores are not a coincidence
    assert any(r["shadow_score"] != r["ml_score"] for r in with_shadow)


def test_a_failing_shadow_changes_nothing(
    champion: ConvictionModel, challenger: ConvictionModel
) -> None:
    broken = FailingModel(**challenger.get_params())
    broken.__dict__.update(challenger.__dict__)
    assert _score("hybrid", champion, broken) == _score("hybrid", champion, None)


def test_rules_mode_touches_no_model_at_all(
    champion: ConvictionModel, challenger: ConvictionModel
) -> None:
    records = _score("rules", champion, challenger)
    assert all(r[f] is None for r in records for f in SHADOW_FIELDS)


def test_shadow_fields_round_trip_and_only_when_set(
    champion: ConvictionModel, challenger: ConvictionModel
) -> None:
    scorer = Scorer(FeatureExtractor(), model=champion, mode="parallel")
    signals = _signals()
    before = scorer.score_records(signals[:10], NOW)
    scorer.set_shadow(challenger)
    during = scorer.score_records(signals[10:20], NOW)
    scorer.set_shadow(None)
    after = scorer.score_records(signals[20:30], NOW)
    assert not any(SHADOW_FIELDS & set(r) for r in [*before, *after])  # type: ignore[arg-type]
    for record in during:
        assert set(record) >= SHADOW_FIELDS  # type: ignore[arg-type]
        parsed = ScoredSignal.model_validate(record)
        assert ScoredSignal.model_validate_json(parsed.model_dump_json()) == parsed


def test_a_raw_signal_may_not_carry_shadow_fields() -> None:
    """The fields are reserved for the scorer: a scraper's value would be taken for the model's."""
    with pytest.raises(ValueError, match="shadow_score"):
        RawSignal.model_validate(
            {
                "signal_id": "x:1",
                "ticker": "TAO",
                "source": "s",
                "posted_at": (NOW + timedelta(hours=1)).isoformat(),
                "shadow_score": 9,
            }
        )
