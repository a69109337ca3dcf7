"""The golden feature matrix: a fixed corpus of signals and outcomes, checked in as data
(``tests/data/feature_corpus.jsonl``: hand-written messages and windows, and signals of
``training.synthetic`` frozen once), and the matrix the extractor computes from it
(``tests/data/golden_features.json``, with the feature-set version it was computed under).

After a deliberate change to what the features compute (a change in code also needs
``FEATURE_SET_REVISION`` in roostr/features/version.py bumped first), regenerate with::

    .venv/bin/python tests/golden_features.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import numpy.typing as npt

from roostr.contracts import Outcome, RawSignal
from roostr.features import FEATURE_NAMES, FEATURE_SET_VERSION, FeatureExtractor

DATA = Path(__file__).resolve().parent / "data"
CORPUS = DATA / "feature_corpus.jsonl"
GOLDEN = DATA / "golden_features.json"
REGENERATE = "`.venv/bin/python tests/golden_features.py`"


def corpus_matrix() -> npt.NDArray[np.float32]:
    """The corpus through one extractor, events in file order (outcomes recorded as they come)."""
    extractor = FeatureExtractor()
    rows = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if "outcome" in event:
            extractor.record_outcome(Outcome.model_validate(event["outcome"]))
        else:
            rows.append(extractor.advance([RawSignal.model_validate(event["signal"])])[0])
    return np.vstack(rows)


def load_golden() -> tuple[str, tuple[str, ...], npt.NDArray[np.float32]]:
    """(feature-set version, feature names, matrix) as last written; null is NaN."""
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    rows = [[np.nan if v is None else v for v in row] for row in golden["rows"]]
    return golden["feature_set_version"], tuple(golden["feature_names"]), np.array(rows, np.float32)


def write_golden() -> None:
    matrix = corpus_matrix().astype(np.float64)
    rows = [[v if np.isfinite(v) else None for v in row] for row in matrix.tolist()]
    golden = {"feature_set_version": FEATURE_SET_VERSION, "feature_names": FEATURE_NAMES}
    text = json.dumps(golden | {"rows": rows}, separators=(",", ":"))
    GOLDEN.write_text(text.replace("],[", "],\n[") + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_golden()
    print(f"wrote {GOLDEN} for feature set {FEATURE_SET_VERSION}")
