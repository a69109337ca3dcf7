"""Does the learning loop serve a better model than the rules? Event time, delayed labels.

For each world variant (``roostr.synthetic.world.VARIANTS``), size N and seed, signals arrive at
a fixed rate (``--rate`` a day, so a small N is a young deployment, not a sparse one) and the
serving code logs their features and rule scores in event-time order. At the cutoff T, N outcomes
have matured (posted_at + 30 days ≤ T) and the 30 days before T are open: the outcomes known at T
are the matured ones plus the open signals' early wins (hit_at ≤ T), exactly what
``signals.outcomes`` would hold. The loop runs as ``roostr retrain`` does:
``labelled_for_retrain(cutoff=T)`` → ``challenger_for`` → ``compare`` against the bootstrap
champion (fitted as ``roostr train --bootstrap`` fits it, in a temporary registry). The *served*
model (``ml``) is the challenger if promoted, else the champion, recalibrated if that passes.

Everything is scored on the next period: the signals posted in the 60 days after T, labelled by
their true outcomes:

- ml, hybrid (0.3·rule + 0.7·ml score, ranking only), every rule set of ``RULE_SETS`` (ranking
  only), bootstrap (the champion), challenger (promoted or not);
- logistic and hist_gb (below) fitted on all the matured rows the challenger came from;
- ample: the same learner as the challenger (``fit_model``) fitted on ``AMPLE_ROWS`` matured
  outcomes of another world of the same kind: what the features are worth with twenty times the
  data, the benchmark's estimate of the *observable ceiling* (a lower bound of it: a learner with
  still more data, or a better one, could do better);
- oracle: ``World.ceiling``, an upper bound no learner can reach: it knows the call's drivers as
  drawn, not as the signals show them (hidden wording, whale flow without its observation noise,
  sources still to post, the callers' true skill);
- base world only, ml_immature: the challenger of the same known outcomes taken as final
  (cutoff None), so the early wins of open signals bias it.

Pooled over seeds: the mean AUC, the ECE of every seed's next period concatenated (with its
noise floor: the ECE of labels drawn from the predictions themselves), the mean win rate of the
best-ranked 10 % of the next period, and per seed the paired differences ml − rules (the best
rule set of that world and size), ml / ample and ml / oracle, with standard errors; and what the
loop served, with the gates that refused the challengers (``GATES``).

Targets (issue 15): at 1,000 matured outcomes, on every world, the served model's next-period
AUC ≥ rules' + 0.02 and ≥ 0.97 × the observable ceiling (here: ample), and pooled ECE ≤ 0.05.
Run: ``python benchmarks/learning_bench.py`` (about 20 minutes on 2 cores; ``--seeds 1`` for a
quick look; ``--worlds``, ``--sizes`` to narrow it; ``--first-seed`` to report on seeds that
nothing was tuned on).
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from roostr.contracts import Outcome
from roostr.labels import matured_at
from roostr.model import ConvictionModel
from roostr.registry import ModelRegistry
from roostr.rules import RULE_SETS
from roostr.scale import hybrid_score, probability_to_score
from roostr.settings import Settings
from roostr.synthetic.world import HORIZON_DAYS, VARIANTS, World, generate_world, logged_outcomes
from training.datasets import LabelledSet, bootstrap_set, labelled_outcomes
from training.predictive_metrics import ece_noise_floor, expected_calibration_error
from training.retrain import (
    RetrainRefused,
    challenger_for,
    compare,
    labelled_for_retrain,
    recalibrated_champion,
)
from training.trainer import fingerprint, fit_model, train

SEEDS_PER_SIZE = {300: 10, 1_000: 10, 5_000: 3}  # next periods of ~240 rows: AUC ± 0.04 each
AMPLE_ROWS = 20_000
AMPLE_SEED = 1_000  # the ample world's seed, apart from every measured one
SIGNALS_PER_DAY = 4.0
NEXT_DAYS = 60
SERVED_RULE_SET = "green_flags_v1"  # what the scorer logs and the hybrid blends
TOP_SHARE = 0.1
TOP_MARGIN = 0.10  # ML's top-10 % win rate beats the rules' by more than this
TARGET_SIZE, AUC_MARGIN, CEILING_SHARE, ECE_TARGET = 1_000, 0.02, 0.97, 0.05
HORIZON = timedelta(days=HORIZON_DAYS)
Predict = Callable[[npt.NDArray[np.float32]], npt.NDArray[np.float64]]


@dataclass
class Scores:
    """One learner's next-period results over the seeds of one world and size."""

    probabilistic: bool = True  # False: a score that ranks, whose calibration means nothing
    auc: list[float] = field(default_factory=list)
    top: list[float] = field(default_factory=list)
    y: list[npt.NDArray[np.int64]] = field(default_factory=list)
    p: list[npt.NDArray[np.float64]] = field(default_factory=list)

    def add(self, y: npt.NDArray[np.int64], p: npt.ArrayLike) -> None:
        scores = np.asarray(p, dtype=np.float64)
        self.auc.append(float(roc_auc_score(y, scores)) if np.unique(y).size == 2 else 0.5)
        self.top.append(top_win_rate(y, scores))
        self.y.append(y)
        self.p.append(scores)

    @property
    def pooled_ece(self) -> float:
        return expected_calibration_error(np.concatenate(self.y), np.concatenate(self.p))

    @property
    def pooled_floor(self) -> float:
        return ece_noise_floor(np.concatenate(self.p))


@dataclass
class Counts:
    """What the loop did over the seeds of one world and size."""

    matured: list[int] = field(default_factory=list)
    immature: list[int] = field(default_factory=list)
    next_rows: list[int] = field(default_factory=list)
    outcome: Counter[str] = field(default_factory=Counter)  # promoted / recalibrated / ...
    refused_by: Counter[str] = field(default_factory=Counter)  # gate → challengers it refused
    top_beats_rules: int = 0


def top_win_rate(y: npt.NDArray[np.int64], score: npt.NDArray[np.float64]) -> float:
    """Win rate of the best-ranked ``TOP_SHARE`` of rows; rows tied at the cut count at their
    group's mean, so an integer score is not flattered or punished by how ties fall."""
    k = max(1, math.ceil(TOP_SHARE * y.size))
    cut = np.sort(score)[::-1][k - 1]
    above, tied = score > cut, score == cut
    return float((y[above].sum() + (k - above.sum()) * y[tied].mean()) / k)


def _hist_gb(X: np.ndarray, y: np.ndarray, seed: int) -> tuple[Predict, str]:
    model = HistGradientBoostingClassifier(
        max_depth=3, max_iter=100, learning_rate=0.05, random_state=seed
    ).fit(X, y)
    return (lambda Z: model.predict_proba(Z)[:, 1]), "trees"


def _logistic(X: np.ndarray, y: np.ndarray, seed: int) -> tuple[Predict, str]:
    model = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(max_iter=2_000, random_state=seed),
    ).fit(X, y)
    return (lambda Z: model.predict_proba(Z)[:, 1]), "linear"


REFERENCES = {"logistic": _logistic, "hist_gb": _hist_gb}


def bootstrap_registry(root: str) -> ModelRegistry:
    """A registry whose champion is the bootstrap model, fitted as ``roostr train --bootstrap``."""
    data = bootstrap_set()
    result = train(data.X, data.y, data.posted_at, data.rule_score)
    registry = ModelRegistry(root)
    registry.register(
        result.model,
        version="v0.1-bootstrap",
        metrics=result.metrics,
        training_data=fingerprint(data.X, data.y, data.posted_at, data.source),
    )
    registry.promote("v0.1-bootstrap")
    return registry


def world_at(variant: str, size: int, seed: int, rate: float) -> tuple[World, datetime]:
    """A world with ``size`` outcomes matured at the cutoff T, 30 open days before T and
    ``NEXT_DAYS`` of signals after it; and T."""
    days = 1.1 * (size / rate + HORIZON_DAYS + NEXT_DAYS) + 10  # room for the rate's noise
    # generate_world draws 10 % more signals than it keeps, from day 30 on
    world = generate_world(round(days * rate), seed, HORIZON_DAYS + 1.1 * days, variant)
    cutoff = world.signals[size - 1].posted_at + HORIZON
    if world.signals[-1].posted_at < cutoff + timedelta(days=NEXT_DAYS):
        raise RuntimeError(f"{variant} world (seed {seed}) ends before the next period does")
    return world, cutoff


def known_at(outcomes: Sequence[Outcome], cutoff: datetime) -> list[Outcome]:
    """The outcomes ``signals.outcomes`` holds at ``cutoff``: matured ones and early wins."""
    return [
        o
        for o in outcomes
        if matured_at(o) <= cutoff or (o.hit_at is not None and o.hit_at <= cutoff)
    ]


GATES = {  # a phrase of each gate's refusal (``training.retrain``) → the gate's name
    "beat the champion": "champion",
    "below the rules": "rules",
    "bucket": "buckets",
    "noise floor": "calibration",
    "single class": "one class",
}


def served_by_loop(
    data: LabelledSet, registry: ModelRegistry, champion: ConvictionModel, seed: int
) -> tuple[ConvictionModel, ConvictionModel | None, str, list[str]]:
    """(served model, challenger or None if refused, promoted | recalibrated | kept | refused,
    the gates that refused the challenger), as ``roostr retrain`` decides: a refused challenger
    leaves the champion a calibration-only update (retrain step 5)."""
    settings = Settings()
    try:
        result = challenger_for(data, settings, seed)
    except RetrainRefused:
        return champion, None, "refused", []
    verdict = compare(result, registry, settings)
    if verdict.promote:
        return result.model, result.model, "promoted", []
    gates = [gate for phrase, gate in GATES.items() if any(phrase in r for r in verdict.reasons)]
    recalibration = recalibrated_champion(result, data, registry, settings)
    if recalibration is not None and recalibration[1].promote:
        return recalibration[0], result.model, "recalibrated", gates
    return champion, result.model, "kept", gates


def ample_model(variant: str, rate: float) -> ConvictionModel:
    """The serving learner fitted on ``AMPLE_ROWS`` matured outcomes of a world of this kind."""
    world, cutoff = world_at(variant, AMPLE_ROWS, AMPLE_SEED, rate)
    matured = [o for o in logged_outcomes(world) if matured_at(o) <= cutoff]
    data = labelled_outcomes(matured, source=f"ample {variant}")
    return fit_model(data.X, data.y)


def measure(
    variant: str,
    size: int,
    seeds: range,
    rate: float,
    registry: ModelRegistry,
    ample: ConvictionModel,
) -> tuple[dict[str, Scores], Counts]:
    """Per learner its next-period scores, and the loop's counts, over ``seeds``."""
    settings = Settings()
    champion = registry.load()
    scores: dict[str, Scores] = {}
    counts = Counts()

    def add(name: str, y: npt.NDArray[np.int64], p: npt.ArrayLike, probabilistic: bool) -> None:
        scores.setdefault(name, Scores(probabilistic)).add(y, p)

    for seed in seeds:
        world, cutoff = world_at(variant, size, seed, rate)
        logged = logged_outcomes(world)
        known = known_at([o for o in logged if o.posted_at <= cutoff], cutoff)
        ahead = [o for o in logged if cutoff < o.posted_at <= cutoff + timedelta(days=NEXT_DAYS)]
        upcoming = labelled_outcomes(ahead, source="next period")
        y = upcoming.y
        ceiling = dict(zip((s.signal_id for s in world.signals), world.ceiling, strict=True))
        in_order = sorted(ahead, key=lambda o: (o.posted_at, o.signal_id))  # as upcoming's rows
        try:
            data = labelled_for_retrain(known, settings, source=variant, cutoff=cutoff)
        except RetrainRefused:
            served, challenger, fate = champion, None, "refused"
            counts.matured.append(0)
        else:
            served, challenger, fate, gates = served_by_loop(data, registry, champion, seed)
            counts.refused_by.update(gates)
            counts.matured.append(int(data.y.size))
            counts.immature.append(data.skipped["immature"])
            for name, fit in REFERENCES.items():
                add(name, y, fit(data.X, data.y, seed)[0](upcoming.X), True)
        counts.outcome[fate] += 1
        counts.next_rows.append(int(y.size))
        p_ml = served.predict_proba(upcoming.X)[:, 1]
        add("ml", y, p_ml, True)
        add("hybrid", y, hybrid_score(upcoming.rule_score, probability_to_score(p_ml)), False)
        for name, rule in RULE_SETS.items():
            add(name, y, rule.score(upcoming.X), False)
        add("bootstrap", y, champion.predict_proba(upcoming.X)[:, 1], True)
        if challenger is not None:
            add("challenger", y, challenger.predict_proba(upcoming.X)[:, 1], True)
        if variant == "base":
            immature = labelled_for_retrain(known, settings, source=variant, cutoff=None)
            add("ml_immature", y, challenger_for(immature, settings, seed).model.predict_proba(
                upcoming.X)[:, 1], True)  # fmt: skip
        add("ample", y, ample.predict_proba(upcoming.X)[:, 1], True)
        add("oracle", y, [ceiling[o.signal_id] for o in in_order], True)
        counts.top_beats_rules += (
            scores["ml"].top[-1] > scores[SERVED_RULE_SET].top[-1] + TOP_MARGIN
        )
    return scores, counts


def _se(values: npt.NDArray[np.float64]) -> float:
    return float(values.std(ddof=1) / np.sqrt(values.size)) if values.size > 1 else math.nan


def verdicts(variant: str, size: int, scores: dict[str, Scores], counts: Counts) -> list[str]:
    """Summary lines for one world and size, with the issue's verdict at its size."""
    rules = max(RULE_SETS, key=lambda name: statistics.mean(scores[name].auc))
    ml = np.array(scores["ml"].auc)
    gap = ml - np.array(scores[rules].auc)
    share = ml / np.array(scores["ample"].auc)
    oracle = ml / np.array(scores["oracle"].auc)
    ece = scores["ml"].pooled_ece
    n = len(ml)
    lines = [
        f"{variant} N={size}: matured rows {statistics.mean(counts.matured):.0f}, immature left "
        f"out {statistics.mean(counts.immature or [0]):.0f}, next-period rows "
        f"{statistics.mean(counts.next_rows):.0f}; challenger "
        + ", ".join(f"{fate} ×{k}" for fate, k in sorted(counts.outcome.items()))
        + (
            " (refused by: "
            + ", ".join(f"{gate} ×{k}" for gate, k in sorted(counts.refused_by.items()))
            + ")"
            if counts.refused_by
            else ""
        )
        + f"; ML top-10 % beats {SERVED_RULE_SET}'s by > {TOP_MARGIN:.0%} in "
        f"{counts.top_beats_rules}/{n} seeds",
        f"{variant} N={size}: AUC ml − {rules} = {gap.mean():+.3f} ± {_se(gap):.3f}, "
        f"ml / ample = {share.mean():.3f} ± {_se(share):.3f}, "
        f"ml / oracle = {oracle.mean():.3f} ± {_se(oracle):.3f}, "
        f"pooled ECE ml {ece:.3f} (floor {scores['ml'].pooled_floor:.3f})",
    ]
    met = gap.mean() >= AUC_MARGIN and share.mean() >= CEILING_SHARE and ece <= ECE_TARGET
    if size == TARGET_SIZE:
        lines.append(
            f"{variant} N={size} target (AUC ≥ rules + {AUC_MARGIN}, ≥ {CEILING_SHARE} × "
            f"ample, ECE ≤ {ECE_TARGET}): {'met' if met else 'MISSED'}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SEEDS_PER_SIZE))
    parser.add_argument("--seeds", type=int, help="seeds per size (default: more when small)")
    parser.add_argument("--rate", type=float, default=SIGNALS_PER_DAY, help="signals a day")
    parser.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="seeds run from here: tune on one range, report on a fresh one",
    )
    args = parser.parse_args()
    started = time.monotonic()
    print(
        "| world | N | seeds | learner | AUC | ECE pooled (floor) | top-10 % win rate |\n"
        "|---|---|---|---|---|---|---|"
    )
    lines: list[str] = []
    with tempfile.TemporaryDirectory() as root:
        registry = bootstrap_registry(root)
        for variant in args.worlds:
            ample = ample_model(variant, args.rate)
            for size in args.sizes:
                n_seeds = args.seeds or SEEDS_PER_SIZE.get(size, 2)
                seeds = range(args.first_seed, args.first_seed + n_seeds)
                scores, counts = measure(variant, size, seeds, args.rate, registry, ample)
                for name, s in scores.items():
                    ece = f"{s.pooled_ece:.3f} ({s.pooled_floor:.3f})" if s.probabilistic else "–"
                    print(
                        f"| {variant} | {size} | {n_seeds} | {name} | "
                        f"{statistics.mean(s.auc):.3f} | {ece} | {statistics.mean(s.top):.3f} |"
                    )
                lines.extend(verdicts(variant, size, scores, counts))
    print("\nVerdicts:")
    for line in lines:
        print(f"- {line}")
    print(f"\nelapsed: {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
