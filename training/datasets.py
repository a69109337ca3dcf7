"""Labelled training sets: the synthetic bootstrap set, or logged Outcome records.

Both end as the same arrays (features in ``FEATURE_NAMES`` order, labels, posted_at, rule
scores). The bootstrap set goes through the serving extractor and rules, so its features and
rule scores are computed by the very code that scores live signals; outcome records carry the
features exactly as they were logged at scoring time, so training never recomputes them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import ValidationError

from roostr.contracts import Outcome
from roostr.features import FEATURE_NAMES, FEATURE_SET_VERSION, FeatureExtractor
from roostr.labels import matured_at, resolved_at
from roostr.rules import DEFAULT_RULE_SET, rule_scores
from training.synthetic import generate

__all__ = [
    "LabelledSet",
    "bootstrap_set",
    "labelled_outcomes",
    "newest_decision",
    "outcomes_set",
]

NO_RULE_SCORE = 0  # marks a row without a logged rule score; excluded from the rules comparison


@dataclass
class LabelledSet:
    """Row-aligned training arrays plus counts of what was left out and why."""

    X: npt.NDArray[np.float32]
    y: npt.NDArray[np.int64]
    posted_at: npt.NDArray[np.datetime64]
    rule_score: npt.NDArray[np.int64]
    source: str
    skipped: dict[str, int] = field(default_factory=dict)
    cutoff: datetime | None = None  # the event time the labels were final at (None: all are)


def bootstrap_set(n_samples: int = 400, seed: int = 7) -> LabelledSet:
    """Synthetic green-flag signals, featurised in time order by the serving code."""
    synthetic = generate(n_samples, seed)
    extractor = FeatureExtractor()
    # The extractor credits an outcome only to signals posted after it resolved, so handing it
    # every outcome up front is the same as feeding them as they resolve: no label leaks.
    for outcome in synthetic.outcomes:
        extractor.record_outcome(outcome)
    X = extractor.advance(synthetic.signals)
    return LabelledSet(
        X=X,
        y=synthetic.labels,
        posted_at=_times([s.posted_at for s in synthetic.signals]),
        rule_score=np.asarray(rule_scores(DEFAULT_RULE_SET, synthetic.signals, X)),
        source=f"bootstrap-synthetic(samples={n_samples}, seed={seed})",
    )


def outcomes_set(path: Path, cutoff: datetime | None = None) -> LabelledSet:
    """Outcome records from a JSONL or Parquet file (see ``labelled_outcomes``), matured at
    ``cutoff``, by default the newest decision the file holds (``newest_decision``)."""
    records, invalid = _read_records(path)
    if cutoff is None:
        cutoff = newest_decision(records)
    return labelled_outcomes(records, source=str(path), invalid=invalid, cutoff=cutoff)


def newest_decision(records: Iterable[Outcome]) -> datetime | None:
    """The latest instant any of the outcomes was decided at: the price feed reached at least
    that far, so every signal whose horizon ended by then was decided too. The cutoff for
    outcomes that come without the joiner's (an exported file)."""
    return max((resolved_at(o) for o in records if o.label is not None), default=None)


def labelled_outcomes(
    records: Iterable[Outcome], *, source: str, invalid: int = 0, cutoff: datetime | None = None
) -> LabelledSet:
    """Training rows from Outcome records: deduped by signal_id (the last copy wins), matured
    by ``cutoff`` (``roostr.labels.matured_at``), resolved, of this feature set only, features
    as logged, in posted_at order.

    ``cutoff`` is an event time, the joiner's label cutoff for outcomes read from Kafka: an
    outcome whose horizon had not ended by then is left out as ``immature`` whether it already
    won or not, so the rows are exactly those of a world where the open signals are absent (their
    early wins would bias every rate the model learns). ``None`` takes every outcome as final.
    Every record left out is counted in ``skipped`` by reason; an outcome that does not say which
    feature set its features are (``feature_set_version`` missing) cannot be trusted to line up
    with ``FEATURE_NAMES`` and is skipped as ``no_feature_set``.
    """
    skipped = {
        "invalid": invalid,
        "duplicate": 0,
        "immature": 0,
        "unresolved": 0,
        "no_feature_set": 0,
        "other_feature_set": 0,
    }
    latest: dict[str, Outcome] = {}
    for outcome in records:
        if outcome.signal_id in latest:
            skipped["duplicate"] += 1  # at-least-once delivery: the same outcome twice
        latest[outcome.signal_id] = outcome
    usable = []
    for outcome in latest.values():
        if cutoff is not None and matured_at(outcome) > cutoff:
            skipped["immature"] += 1
        elif outcome.label is None:
            skipped["unresolved"] += 1
        elif outcome.feature_set_version is None:
            skipped["no_feature_set"] += 1
        elif outcome.feature_set_version != FEATURE_SET_VERSION:
            skipped["other_feature_set"] += 1
        else:
            usable.append(outcome)
    usable.sort(key=lambda o: (o.posted_at, o.signal_id))
    # None (a feature not computed) becomes NaN in the float conversion: no Python call per value
    X = (
        np.array([list(map(o.features.get, FEATURE_NAMES)) for o in usable], dtype=np.float64)
        .astype(np.float32)
        .reshape(len(usable), len(FEATURE_NAMES))
    )
    return LabelledSet(
        X=X,
        y=np.array([o.label for o in usable], dtype=np.int64),
        posted_at=_times([o.posted_at for o in usable]),
        rule_score=np.array(
            [o.rule_score if o.rule_score is not None else NO_RULE_SCORE for o in usable],
            dtype=np.int64,
        ),
        source=source,
        skipped=skipped,
        cutoff=cutoff,
    )


def _read_records(path: Path) -> tuple[list[Outcome], int]:
    """Valid Outcomes and the count of records that are not."""
    if path.suffix == ".parquet":
        import pandas as pd

        rows: list[Any] = pd.read_parquet(path).to_dict("records")
    else:
        rows = [line for line in path.read_text().splitlines() if line.strip()]
    outcomes, invalid = [], 0
    for row in rows:
        try:
            if isinstance(row, str):
                outcomes.append(Outcome.model_validate_json(row))
            else:
                outcomes.append(Outcome.model_validate(_from_parquet(row)))
        except (ValidationError, ValueError):
            invalid += 1
    return outcomes, invalid


# Outcome's integer fields: a Parquet integer column with nulls reads back as floats (7.0),
# which the strict contract refuses.
_INTEGER_FIELDS = ("label", "horizon_days", "rule_score", "ml_score", "final_score")


def _from_parquet(row: dict[str, Any]) -> dict[str, Any]:
    """Parquet gives NaN or NaT for nulls, numpy scalars, floats for integer columns with nulls
    and maybe a JSON string for ``features``: turn them into the types the contract takes."""
    import pandas as pd

    clean = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
    clean = {
        k: (None if v is pd.NaT or (isinstance(v, float) and math.isnan(v)) else v)
        for k, v in clean.items()
    }
    features = clean.get("features")
    if isinstance(features, str):
        clean["features"] = json.loads(features)
    elif features is not None and not isinstance(features, dict):
        clean["features"] = dict(features)
    for name in _INTEGER_FIELDS:
        if isinstance(value := clean.get(name), float) and value.is_integer():
            clean[name] = int(value)
    return clean


def _times(stamps: Sequence[datetime]) -> npt.NDArray[np.datetime64]:
    """UTC datetime64[us] from aware datetimes (numpy has no zones).

    Converted one by one, not through ISO strings: ``isoformat()`` drops zero microseconds, and
    a parser that infers one format from the first string fails on the others.
    """
    return np.array(
        [s.astimezone(UTC).replace(tzinfo=None) for s in stamps], dtype="datetime64[us]"
    ).reshape(len(stamps))
