"""Does roostr's trainer learn what the features carry? Time-ordered hold-outs, synthetic world.

For each size and seed: ``training.world`` generates signals and price paths, the serving code
logs their features and rule scores in event-time order, and the Outcome records go through the
same loader as ``roostr retrain``. The last 20 % in time is the hold-out; training keeps the rows
whose 30-day horizon ended before it (purged). Every learner sees the same training rows:

- roostr: ``training.pipeline.fit_model`` (what ``roostr train`` / ``roostr retrain`` ship);
- hist_gb: scikit-learn ``HistGradientBoostingClassifier(max_depth=3, max_iter=100,
  learning_rate=0.05)``, uncalibrated;
- logistic: median imputation with missing-value indicators, standardised, ``LogisticRegression``;
- rules: the logged rule score (1–10), ranking only.

Prints hold-out AUC, log loss and ECE averaged over the seeds (ECE also over the seeds'
hold-outs pooled: at 200 hold-out rows ECE's small-bin noise alone is a few points), and the
fewest score buckets roostr's model used. Targets: roostr ≥ best reference − 0.01 AUC at
every size, ECE ≤ 0.05 from 1,000 rows, never a single bucket.
Run: ``python benchmarks/learning_bench.py`` (about a minute on 2 cores).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from training.cv import time_holdout
from training.datasets import labelled_outcomes
from training.metrics import (
    evaluate_probabilities,
    evaluate_scores,
    expected_calibration_error,
)
from training.pipeline import fit_model
from training.world import generate_world, logged_outcomes

SIZES = (300, 1_000, 5_000)
SEEDS = (0, 1, 2, 3)
Fit = Callable[[npt.NDArray[np.float32], npt.NDArray[np.int64], int], Callable[..., np.ndarray]]


def _roostr(X: np.ndarray, y: np.ndarray, seed: int) -> Callable[..., np.ndarray]:
    model = fit_model(X, y, seed=seed)
    _roostr.last_rounds = model.n_rounds_  # type: ignore[attr-defined]
    return model.predict_proba


def _hist_gb(X: np.ndarray, y: np.ndarray, seed: int) -> Callable[..., np.ndarray]:
    model = HistGradientBoostingClassifier(
        max_depth=3, max_iter=100, learning_rate=0.05, random_state=seed
    ).fit(X, y)
    return lambda Z: model.predict_proba(Z)[:, 1]


def _logistic(X: np.ndarray, y: np.ndarray, seed: int) -> Callable[..., np.ndarray]:
    model = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(max_iter=2_000, random_state=seed),
    ).fit(X, y)
    return lambda Z: model.predict_proba(Z)[:, 1]


LEARNERS: dict[str, Fit] = {"roostr": _roostr, "hist_gb": _hist_gb, "logistic": _logistic}


def run(size: int, seed: int) -> dict[str, dict[str, float]]:
    """Hold-out metrics per learner (and the rules) for one world."""
    data = labelled_outcomes(logged_outcomes(generate_world(size, seed)), source="world")
    train_idx, test_idx = time_holdout(data.posted_at, 0.2)
    X_train, y_train = data.X[train_idx], data.y[train_idx]
    X_test, y_test = data.X[test_idx], data.y[test_idx]
    results = {}
    for name, fit in LEARNERS.items():
        started = time.perf_counter()
        p_test = fit(X_train, y_train, seed)(X_test)
        metrics = evaluate_probabilities(y_test, p_test)
        metrics["seconds"] = time.perf_counter() - started
        metrics["hold_out"] = (y_test, p_test)
        results[name] = metrics
    results["roostr"]["rounds"] = _roostr.last_rounds  # type: ignore[attr-defined]
    results["rules"] = evaluate_scores(y_test, data.rule_score[test_idx])
    results["base"] = {"rate": float(data.y.mean()), "train": train_idx.size, "test": y_test.size}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=SIZES)
    parser.add_argument("--seeds", type=int, nargs="+", default=SEEDS)
    args = parser.parse_args()
    print(
        "| rows | base rate | learner | AUC | log loss | ECE mean / pooled | buckets (min) "
        "| rounds | fit s |\n|---|---|---|---|---|---|---|---|---|"
    )
    for size in args.sizes:
        runs = [run(size, seed) for seed in args.seeds]
        rate = statistics.mean(r["base"]["rate"] for r in runs)
        table: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for result in runs:
            for learner, metrics in result.items():
                for key, value in metrics.items():
                    if isinstance(value, int | float):
                        table[learner][key].append(value)
        for learner in (*LEARNERS, "rules"):
            m = table[learner]
            if learner in LEARNERS:  # ECE of every seed's hold-out pooled: less small-bin noise
                pairs = [r[learner]["hold_out"] for r in runs]
                y = np.concatenate([pair[0] for pair in pairs])
                p = np.concatenate([pair[1] for pair in pairs])
                m["pooled_ece"] = [expected_calibration_error(y, p)]

            def cell(key: str, fmt: str = ".3f", how: Callable = statistics.mean) -> str:
                return format(how(m[key]), fmt) if m.get(key) else "–"  # noqa: B023

            print(
                f"| {size} | {rate:.3f} | {learner} | {cell('auc')} | {cell('log_loss')} | "
                f"{cell('ece')} / {cell('pooled_ece')} | {cell('score_buckets', 'd', min)} | "
                f"{cell('rounds', '.0f')} | {cell('seconds', '.2f')} |"
            )


if __name__ == "__main__":
    main()
