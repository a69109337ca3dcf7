"""How strong should the track records' Beta prior be? Time-ordered cross-validation.

Every signal of a synthetic world (``roostr.synthetic.world``), in posted_at order, is predicted
by its author's track record as the features compute it (``roostr.features.state.TrackRecords``: the
outcomes matured a lag before it was posted, author shrunk to source shrunk to global) for each
prior strength k, and scored by the log-loss of that rate against the signal's own label. Each
prediction uses only the past, so this is a leave-future-out CV of k; the k with the lowest mean
log-loss over the seeds is the feature code's ``PRIOR_STRENGTH``. Its noise floor: the standard
error of the per-seed loss differences from the chosen k.

Run: ``python benchmarks/track_record_prior.py [--variant callers]`` (about a minute).
"""

from __future__ import annotations

import argparse
import math
import statistics

from roostr.features.state import PRIOR_STRENGTH, TrackRecords
from roostr.labels import matured_at
from roostr.synthetic.world import VARIANTS, generate_world

STRENGTHS = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0)  # k = 0 leaves a new caller undefined
EPS = 1e-3  # a rate of exactly 0 or 1 would cost infinite log-loss


def seed_losses(n_signals: int, seed: int, variant: str) -> dict[float, float]:
    """Mean log-loss of the author rate per prior strength on one world."""
    world = generate_world(n_signals, seed=seed, variant=variant)
    outcomes = sorted(world.outcomes, key=matured_at)
    losses: dict[float, float] = {}
    for k in STRENGTHS:
        records, fed, total, counted = TrackRecords(k), 0, 0.0, 0
        for signal, outcome in zip(world.signals, world.outcomes, strict=True):
            while fed < len(outcomes) and matured_at(outcomes[fed]) <= signal.posted_at:
                o = outcomes[fed]
                if o.label is not None and o.source is not None:
                    records.add(o.source, o.author, matured_at(o).timestamp(), o.label == 1)
                fed += 1
            _s, _n, rate, _na = records.at(
                signal.source, signal.author, signal.posted_at.timestamp()
            )
            if outcome.label is None or math.isnan(rate):
                continue
            p = min(max(rate, EPS), 1 - EPS)
            total -= math.log(p if outcome.label == 1 else 1 - p)
            counted += 1
        losses[k] = total / counted
    return losses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", type=int, default=3_000)
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--variant", default="base", choices=list(VARIANTS))
    args = parser.parse_args()
    per_seed = [seed_losses(args.signals, seed, args.variant) for seed in range(args.seeds)]
    best = min(STRENGTHS, key=lambda k: statistics.mean(s[k] for s in per_seed))
    print("| prior strength k | mean log-loss | minus best (± se) |\n|---|---|---|")
    for k in STRENGTHS:
        gaps = [s[k] - s[best] for s in per_seed]
        se = statistics.stdev(gaps) / math.sqrt(len(gaps)) if len(gaps) > 1 else math.nan
        mean = statistics.mean(s[k] for s in per_seed)
        print(f"| {k:g} | {mean:.4f} | {statistics.mean(gaps):+.4f} ± {se:.4f} |")
    print(f"\nbest k = {best:g}; the feature code uses PRIOR_STRENGTH = {PRIOR_STRENGTH:g}")


if __name__ == "__main__":
    main()
