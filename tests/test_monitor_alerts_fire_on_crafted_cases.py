"""Each of the seed's alerts fires on a world crafted to trip it, alone, and none fires on a
healthy one; the monitor's numbers (event-time windows, win rate by bucket, champion vs shadow)
are the hand-computed ones, and the exported gauges say the same."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from roostr.contracts import Outcome, ScoredSignal
from roostr.drift import feature_reference
from roostr.settings import Settings
from training.monitoring.alerts import ALERTS, check_alerts
from training.monitoring.evaluation import Champion, evaluate
from training.monitoring.exporter import MonitorMetrics

START = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = 70
END = START + timedelta(days=DAYS)  # the last posting day ends here
NAMES = ["a", "b"]


@dataclass(frozen=True)
class World:
    outcomes: list[Outcome]
    scored: list[ScoredSignal]
    champion: Champion
    group_lag: int = 0


def _outcome(
    day: int, score: int, k: int, won: bool, ml_score: int | None = None, shadow: int | None = None
) -> Outcome:
    posted = START + timedelta(days=day, hours=k)
    return Outcome(
        signal_id=f"{day}:{score}:{k}",
        ticker="TAO",
        posted_at=posted,
        entry_price=1.0,
        label=int(won),
        status="won" if won else "lost",
        hit_at=posted + timedelta(days=2) if won else None,
        final_score=score,
        ml_score=score if ml_score is None else ml_score,
        model_version="v0.1-champion",
        shadow_model_version=None if shadow is None else "v0.2-shadow",
        shadow_score=shadow,
    )


def _outcomes(
    win_share_actionable: Callable[[int], int] = lambda day: 7,
    ml_score: Callable[[int, int], int] = lambda day, score: score,
) -> list[Outcome]:
    """Per day, ten signals per final score 1-10: of scores >= 7, ``win_share_actionable(day)``
    in ten won; of the others two in ten won. ``ml_score`` maps (day, final score) → ML score."""
    return [
        _outcome(day, score, k, k < (win_share_actionable(day) if score >= 7 else 2),
                 ml_score(day, score))
        for day in range(DAYS)
        for score in range(1, 11)
        for k in range(10)
    ]  # fmt: skip


def _features(rng: np.random.Generator, n: int, shift: float = 0.0) -> np.ndarray:
    return np.c_[rng.normal(shift, 1.0, n), (rng.random(n) < 0.3 + shift / 4).astype(float)]


def _scored(
    n: int = 300, shift: float = 0.0, ml_scores: tuple[int, ...] = tuple(range(1, 11)),
    degraded_every: int = 0,
) -> list[ScoredSignal]:  # fmt: skip
    X = _features(np.random.default_rng(3), n, shift)
    return [
        ScoredSignal(
            signal_id=f"recent:{i}",
            ticker="TAO",
            source="YieldHub",
            posted_at=END - timedelta(days=6) + timedelta(minutes=20 * i),
            scored_at=END,
            features={"a": float(X[i, 0]), "b": float(X[i, 1])},
            feature_set_version="fs",
            rule_score=5,
            ml_score=ml_scores[i % len(ml_scores)],
            final_score=5,
            tier="low",
            mode="parallel",
            degraded=bool(degraded_every and i % degraded_every == 0),
        )
        for i in range(n)
    ]


def _healthy() -> World:
    reference = feature_reference(_features(np.random.default_rng(1), 3000), NAMES)
    scored = _scored()
    champion = Champion(
        version="v0.1-champion",
        label_cutoff=max(s.posted_at for s in scored) - timedelta(days=10),
        feature_reference=reference,
    )
    return World(_outcomes(), scored, champion)


CASES: dict[str, Callable[[World], World]] = {
    "win_rate_down": lambda w: replace(
        w, outcomes=_outcomes(win_share_actionable=lambda day: 5 if day >= DAYS - 7 else 7)
    ),
    # The ML model's calls go bad for two weeks while the deployed (rule) score stays good.
    "precision_low": lambda w: replace(
        w,
        outcomes=_outcomes(ml_score=lambda day, score: 11 - score if day >= DAYS - 14 else score),
    ),
    "feature_drift": lambda w: replace(w, scored=_scored(shift=1.0)),
    "scores_undifferentiated": lambda w: replace(w, scored=_scored(ml_scores=(5, 6))),
    "model_expired": lambda w: replace(
        w, champion=replace(w.champion, label_cutoff=END - timedelta(days=45))
    ),
    "consumer_degraded": lambda w: replace(w, scored=_scored(degraded_every=20)),
    "consumer_lagging": lambda w: replace(w, group_lag=50_000),
}


def _check(world: World) -> tuple[list[str], MonitorMetrics]:
    settings = Settings()
    report = evaluate(world.outcomes, world.scored, world.champion, settings, world.group_lag)
    alerts = check_alerts(report, settings)
    metrics = MonitorMetrics()
    metrics.publish(report, alerts, settings)
    return [a.name for a in alerts], metrics


def test_every_alert_has_a_crafted_case() -> None:
    assert set(CASES) == set(ALERTS)


def test_a_healthy_world_raises_no_alert() -> None:
    fired, metrics = _check(_healthy())
    assert fired == []
    for name in ALERTS:
        assert metrics.registry.get_sample_value("roostr_monitor_alert", {"alert": name}) == 0


@pytest.mark.parametrize("alert", ALERTS)
def test_the_alert_fires_alone_on_its_case(alert: str) -> None:
    fired, metrics = _check(CASES[alert](_healthy()))
    assert fired == [alert]
    assert metrics.registry.get_sample_value("roostr_monitor_alert", {"alert": alert}) == 1


def test_too_few_outcomes_raise_nothing() -> None:
    world = CASES["win_rate_down"](_healthy())
    nines = [o for o in world.outcomes if o.final_score == 9]  # 10 a day: 70 a week
    fired, _ = _check(replace(world, outcomes=nines))
    assert "win_rate_down" in fired
    every_4th_day = [o for o in nines if (o.posted_at - START).days % 4 == 0]
    fired, _ = _check(replace(world, outcomes=every_4th_day))  # 20 in the current window
    assert "win_rate_down" not in fired


def test_windows_end_where_every_signal_is_decided_and_count_each_signal_once() -> None:
    world = _healthy()
    duplicated = world.outcomes + world.outcomes[-500:]  # at-least-once redelivery
    report = evaluate(duplicated, world.scored, world.champion, Settings())
    assert report.as_of == START + timedelta(days=DAYS - 1, hours=9)  # newest posting
    current = report.current
    assert current is not None and current.outcomes == 700
    assert current.win_rate == pytest.approx(0.7)
    assert current.model_precision == pytest.approx(0.7)
    # a day's winners: 4 actionable scores x 7 of 10, 6 other scores x 2 of 10
    assert current.recall == pytest.approx(28 / (28 + 12))
    by_score = {b["score"]: b for b in current.buckets}
    assert by_score[9]["rows"] == 70 and by_score[9]["win_rate"] == pytest.approx(0.7)
    assert by_score[3]["win_rate"] == pytest.approx(0.2)
    assert report.baseline is not None and report.baseline.outcomes == 2800


def test_champion_and_shadow_are_compared_on_the_same_outcomes() -> None:
    outcomes = [
        _outcome(60, score, k, won=k < 5, ml_score=score, shadow=10 if k < 5 else 1)
        for score in range(1, 11)
        for k in range(10)
    ]
    report = evaluate(outcomes, [], None, Settings())
    (comparison,) = report.comparisons
    assert comparison.outcomes == 100 and comparison.shadow_version == "v0.2-shadow"
    assert comparison.champion["precision"] == pytest.approx(0.5)  # scores say nothing
    assert comparison.shadow["precision"] == 1.0 and comparison.shadow["auc"] == 1.0
    assert comparison.champion_version == "v0.1-champion"


def test_numbers_too_few_rows_decide_are_exported_as_nan() -> None:
    """NaN satisfies no Prometheus rule; a 0 would page for undifferentiated scores, as a new
    monitor (nothing evaluated yet) or one watching the rules alone (no ML scores) would."""

    def gauge(metrics: MonitorMetrics, name: str) -> float:
        value = metrics.registry.get_sample_value(f"roostr_monitor_{name}")
        assert value is not None, name
        return value

    fresh = MonitorMetrics()
    for name in ("score_buckets_used", "degraded_share", "group_lag", "model_age_days"):
        assert math.isnan(gauge(fresh, name)), name
    assert gauge(fresh, "last_run_timestamp_seconds") == pytest.approx(time.time(), abs=60)
    world = _healthy()
    rules_only = [s.model_copy(update={"ml_score": None, "mode": "rules"}) for s in world.scored]
    fired, metrics = _check(replace(world, scored=rules_only))
    assert fired == [] and math.isnan(gauge(metrics, "score_buckets_used"))
    assert gauge(metrics, "degraded_share") == 0.0
    fired, metrics = _check(replace(world, scored=world.scored[:50]))
    assert math.isnan(gauge(metrics, "degraded_share"))
