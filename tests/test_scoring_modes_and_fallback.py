"""The Scorer's final score per mode (rules / parallel / hybrid / ml), and its fallback to the
rules, flagged degraded, when the model is missing or broken."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from roostr.contracts import RawSignal, ScoredSignal
from roostr.features import FEATURE_NAMES, FEATURE_SET_VERSION, FeatureExtractor
from roostr.model import ConvictionModel
from roostr.scale import probability_to_score, round_score, tier_for_score
from roostr.scoring import Scorer, scored_signals

NOW = datetime(2026, 1, 10, tzinfo=UTC)


def _signals(n: int = 40) -> list[RawSignal]:
    rng = np.random.default_rng(5)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        RawSignal(
            signal_id=f"t:{i}",
            ticker=f"T{i % 7}",
            source=("YieldHub", "CT", "Degens")[i % 3],
            message=("High conviction, mainnet live", "presale 100x guaranteed", "")[i % 3],
            reactions={"🔥": int(rng.integers(0, 60)), "🚀": int(rng.integers(0, 20))},
            dan_endorsed=bool(i % 4 == 0),
            posted_at=start + timedelta(hours=i),
            trends={"google_trends_now": 50, "google_trends_7d_ago": float(i % 90)},
        )
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def model() -> ConvictionModel:
    """A small model whose probabilities spread over the whole scale."""
    X = FeatureExtractor().advance(_signals(200))
    rng = np.random.default_rng(0)
    y = np.nan_to_num(X[:, FEATURE_NAMES.index("dan_endorsed")]) + rng.random(200) > 0.9
    fitted = ConvictionModel(n_estimators=30, max_depth=3, learning_rate=0.3)
    fitted = fitted.fit(
        X, y.astype(int), feature_names=FEATURE_NAMES, feature_set_version=FEATURE_SET_VERSION
    )
    fitted.version = "v0.1-test"
    return fitted


class ExplodingModel(ConvictionModel):
    def predict_proba(self, X: object) -> np.ndarray:
        raise RuntimeError("booster corrupted")


class NanModel(ConvictionModel):
    def predict_proba(self, X: object) -> np.ndarray:
        return np.full((len(X), 2), np.nan)  # type: ignore[arg-type]


def _score(mode: str, model: ConvictionModel | None) -> list[ScoredSignal]:
    scorer = Scorer(FeatureExtractor(), model=model, mode=mode)  # type: ignore[arg-type]
    return scored_signals(scorer.score_records(_signals(), NOW))


def test_rules_mode_ignores_the_model(model: ConvictionModel) -> None:
    for s in _score("rules", model):
        assert s.final_score == s.rule_score
        assert s.ml_probability is None and s.ml_score is None and s.reasons == []
        assert s.model_version is None and not s.degraded
        assert s.tier == tier_for_score(s.final_score)


@pytest.mark.parametrize("mode", ["parallel", "hybrid", "ml"])
def test_final_score_arithmetic_per_mode(model: ConvictionModel, mode: str) -> None:
    scored = _score(mode, model)
    rule = np.array([s.rule_score for s in scored])
    prob = np.array([s.ml_probability for s in scored])
    ml = np.array([s.ml_score for s in scored])
    final = np.array([s.final_score for s in scored])
    assert np.array_equal(ml, probability_to_score(prob))
    np.testing.assert_allclose([s.hybrid_score for s in scored], 0.3 * rule + 0.7 * ml)
    expected = {"parallel": rule, "hybrid": round_score(0.3 * rule + 0.7 * ml), "ml": ml}[mode]
    assert np.array_equal(final, expected)
    assert len(set(ml.tolist())) > 1  # the test model does separate signals
    for s in scored:
        assert s.mode == mode and s.model_version == "v0.1-test" and not s.degraded
        assert s.tier == tier_for_score(s.final_score)
        assert 1 <= len(s.reasons) <= 3 and all(r.feature in model.input_names for r in s.reasons)


def test_output_is_a_valid_contract_with_every_feature(model: ConvictionModel) -> None:
    scored = _score("hybrid", model)
    assert [s.signal_id for s in scored] == [s.signal_id for s in _signals()]
    for s in scored:
        assert list(s.features) == list(FEATURE_NAMES)
        assert s.feature_set_version == FEATURE_SET_VERSION
        again = ScoredSignal.model_validate_json(s.model_dump_json())  # validates every bound
        assert again == s
    assert any(v is None for v in scored[0].features.values())  # NaN is logged as null


@pytest.mark.parametrize("broken_class", [ExplodingModel, NanModel])
@pytest.mark.parametrize("mode", ["parallel", "hybrid", "ml"])
def test_broken_model_degrades_to_rules(
    model: ConvictionModel, broken_class: type[ConvictionModel], mode: str
) -> None:
    broken = broken_class(**model.get_params())
    broken.__dict__.update(
        {k: v for k, v in model.__dict__.items() if k.endswith("_") or k.startswith("feature")}
    )
    scorer = Scorer(FeatureExtractor(), model=broken, mode=mode)  # type: ignore[arg-type]
    scored = scored_signals(scorer.score_records(_signals(), NOW))
    assert scorer.last_model_error is not None
    for s in scored:
        assert s.degraded and s.final_score == s.rule_score
        assert s.ml_probability is None and s.model_version is None
    scorer.set_model(model)
    assert not scored_signals(scorer.score_records(_signals()[:1], NOW))[0].degraded
    assert scorer.last_model_error is None


@pytest.mark.parametrize(("mode", "degraded"), [("rules", False), ("parallel", True), ("ml", True)])
def test_without_a_model_rules_decide(mode: str, degraded: bool) -> None:
    for s in _score(mode, None):
        assert s.final_score == s.rule_score and s.degraded is degraded


def test_mode_switch_applies_to_the_next_batch(model: ConvictionModel) -> None:
    scorer = Scorer(FeatureExtractor(), model=model, mode="parallel")
    signals = _signals()
    first = scored_signals(scorer.score_records(signals[:20], NOW))
    scorer.set_mode("ml")
    second = scored_signals(scorer.score_records(signals[20:], NOW))
    assert {s.mode for s in first} == {"parallel"} and {s.mode for s in second} == {"ml"}
    assert all(s.final_score == s.ml_score for s in second)
    with pytest.raises(ValueError):
        scorer.set_mode("yolo")  # type: ignore[arg-type]


def test_empty_batch() -> None:
    assert scored_signals(Scorer(FeatureExtractor()).score_records([], NOW)) == []
