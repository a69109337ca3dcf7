"""``Scorer.score_records`` throughput in signals/s: features, rules, model, reasons and records.

    python benchmarks/scoring_bench.py [--signals 20000] [--batch 500] [--profile]
    python benchmarks/scoring_bench.py --dump records.json [--signals 5000]

Scores the consumer's synthetic signals (``roostr.synthetic.stream``, every context block filled)
in event-time order, in batches of ``--batch``, with a fresh extractor per run, for the
production model (``training.trainer.fit_model`` on the bootstrap set: the procedure picks
its booster) and a tree model, in parallel mode. Reports the best of five runs (wall clock,
shared cores: expect noise). ``--profile`` prints cProfile's top functions by own time for one
run instead; ``--dump`` writes every record of every model and mode to a JSON file (orjson),
so two versions of the code can be compared byte for byte.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from roostr.contracts import MODES, Mode, RawSignal
from roostr.features import FeatureExtractor
from roostr.model import ConvictionModel
from roostr.scoring import Scorer, Unscored
from roostr.synthetic.stream import synthetic_signals
from training.datasets import bootstrap_set
from training.trainer import fit_model

SCORED_AT = datetime(2026, 3, 1, tzinfo=UTC)


def models() -> dict[str, ConvictionModel]:
    """The production procedure's model and a tree model, both on the bootstrap set."""
    data = bootstrap_set(400, seed=7)
    return {
        "production": fit_model(data.X, data.y),
        "trees": fit_model(data.X, data.y, params={"booster": "gbtree", "n_estimators": 200}),
    }


def signals(count: int) -> list[RawSignal]:
    return [RawSignal.model_validate(s) for s in synthetic_signals(count, tickers=300, seed=11)]


def score_all(
    model: ConvictionModel, batch: Sequence[RawSignal], size: int, mode: Mode = "parallel"
) -> list[dict[str, Any] | Unscored]:
    """Every record of ``batch`` scored ``size`` signals at a time by a fresh Scorer."""
    scorer = Scorer(FeatureExtractor(), model=model, mode=mode)
    records: list[dict[str, Any] | Unscored] = []
    for i in range(0, len(batch), size):
        records += scorer.score_records(batch[i : i + size], SCORED_AT)
    return records


def _seconds(model: ConvictionModel, batch: Sequence[RawSignal], size: int) -> float:
    """Time to score ``batch`` (records are dropped, as the consumer drops them once encoded)."""
    scorer = Scorer(FeatureExtractor(), model=model)
    began = time.perf_counter()
    for i in range(0, len(batch), size):
        scorer.score_records(batch[i : i + size], SCORED_AT)
    return time.perf_counter() - began


def dump(path: Path, batch: Sequence[RawSignal], size: int) -> None:
    """Every record of every model and mode, as one JSON document."""
    runs = {
        f"{name}/{mode}": [
            r._asdict() if isinstance(r, Unscored) else r
            for r in score_all(model, batch, size, mode)
        ]
        for name, model in models().items()
        for mode in MODES
    }
    path.write_bytes(orjson.dumps(runs))  # key order is compared too
    print(f"wrote {sum(map(len, runs.values()))} records of {len(runs)} runs to {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--dump", type=Path)
    args = parser.parse_args()
    batch = signals(args.signals)
    if args.dump is not None:
        dump(args.dump, batch, args.batch)
        return
    for name, model in models().items():
        label = f"{name} ({model.booster_type_}), {len(batch):,} signals, batches of {args.batch}"
        if args.profile:
            profiler = cProfile.Profile()
            profiler.runcall(_seconds, model, batch, args.batch)
            print(label)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
            continue
        best = min(_seconds(model, batch, args.batch) for _ in range(5))
        print(f"{label}: {len(batch) / best:9,.0f} signals/s ({best / len(batch) * 1e6:5.1f} µs)")


if __name__ == "__main__":
    main()
