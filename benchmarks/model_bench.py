"""Model inference latency: one signal and a batch of 1,000, with and without reasons, plus the
whole Scorer (features + rules + model + records) per signal.

    python benchmarks/model_bench.py

Targets: one signal < 1 ms, a batch of 1,000 well under 10 ms (probabilities only). Reports the
median of repeated runs (wall clock, this machine, shared cores: expect noise).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

from roostr.features import FEATURE_NAMES, FeatureExtractor
from roostr.scoring import Scorer, scored_signals
from training.datasets import bootstrap_set
from training.synthetic import generate
from training.trainer import train


def _median_ms(run: Callable[[], object], repeat: int) -> float:
    run()  # warm-up
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1e3)
    return statistics.median(samples)


def main() -> None:
    data = bootstrap_set(400, seed=7)
    model = train(
        data.X,
        data.y,
        data.posted_at,
        data.rule_score,
    ).model
    signals = generate(1_000, seed=11).signals
    X = FeatureExtractor().advance(signals)
    one = X[:1]
    rows = [
        ("predict_proba, 1 signal", lambda: model.predict_proba(one)[:, 1], 1, 500),
        (
            "predict_proba + reasons, 1 signal",
            lambda: (model.predict_proba(one)[:, 1], model.explain(one)),
            1,
            500,
        ),
        ("predict_proba, batch of 1,000", lambda: model.predict_proba(X)[:, 1], 1_000, 50),
        (
            "predict_proba + reasons, batch of 1,000",
            lambda: (model.predict_proba(X)[:, 1], model.explain(X)),
            1_000,
            20,
        ),
    ]
    print(
        f"model: {model.n_estimators} trees, depth {model.max_depth}, {len(FEATURE_NAMES)} features"
    )
    for label, run, n, repeat in rows:
        ms = _median_ms(run, repeat)
        print(f"{label:45s} {ms:8.3f} ms  ({ms * 1e3 / n:7.1f} µs/signal)")

    now = datetime.now(UTC)
    for mode in ("rules", "parallel"):

        def score(mode: str = mode) -> object:
            # a fresh extractor each run, so the feature state does not grow across repetitions
            scorer = Scorer(FeatureExtractor(), model=model, mode=mode)  # type: ignore[arg-type]
            return scored_signals(scorer.score_records(signals, now))

        ms = _median_ms(score, 5)
        label = "typed records, 1,000 signals, " + mode
        print(f"{label:45s} {ms:8.3f} ms  ({ms:7.1f} µs/signal)")


if __name__ == "__main__":
    main()
