"""The seed's 1–10 scale, tiers and hybrid blend, at and around every boundary."""

import numpy as np
import pytest

from roostr.scale import hybrid_score, probability_to_score, round_score, tier_for_score


@pytest.mark.parametrize(
    ("p", "score"),
    [
        (0.0, 1),
        (0.0999, 1),
        (0.1, 2),
        (0.3999, 4),
        (0.4, 5),  # not "< 0.4"
        (0.5999, 6),
        (0.6, 7),
        (0.8, 8),  # "0.6–0.8", not "> 0.8"
        (0.8001, 9),
        (0.9, 9),
        (0.9001, 10),
        (1.0, 10),
    ],
)
def test_probability_bands_follow_the_seed(p: float, score: int) -> None:
    assert probability_to_score(p) == score


def test_scale_is_vectorised_and_monotone() -> None:
    p = np.linspace(0, 1, 1001)
    scores = probability_to_score(p)
    assert scores.shape == (1001,)
    assert np.all(np.diff(scores) >= 0)
    assert set(scores.tolist()) == set(range(1, 11))


def test_nan_probability_is_refused() -> None:
    with pytest.raises(ValueError, match="NaN"):
        probability_to_score(np.array([0.5, np.nan]))


@pytest.mark.parametrize(
    ("score", "tier"),
    [(1, "avoid"), (4, "avoid"), (5, "low"), (6, "low"), (7, "medium"), (8, "medium"), (9, "high")],
)
def test_tiers(score: int, tier: str) -> None:
    assert tier_for_score(score) == tier
    assert tier_for_score(np.array([score, 10])).tolist() == [tier, "high"]


def test_tier_refuses_scores_off_the_scale() -> None:
    with pytest.raises(ValueError):
        tier_for_score(0)
    with pytest.raises(ValueError):
        tier_for_score(np.array([5, 11]))


def test_hybrid_is_three_tenths_rule_seven_tenths_ml_rounded_half_up() -> None:
    blended = hybrid_score(np.array([3, 10, 1]), np.array([8, 5, 1]))
    np.testing.assert_allclose(blended, [6.5, 6.5, 1.0])
    assert round_score(blended).tolist() == [7, 7, 1]
    assert round_score([6.49, 9.6, 0.2]).tolist() == [6, 10, 1]
