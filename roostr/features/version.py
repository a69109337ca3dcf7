"""The feature-set version: names what the extractor computes, so a model trained on other
numbers is refused (the registry and the Scorer compare it) instead of being fed them.

``FEATURE_SET_VERSION`` is ``fs<FEATURE_SET_REVISION>-<digest>``:

- ``FEATURE_SET_REVISION`` is bumped by hand whenever the feature *code* changes what it
  computes. ``tests/test_feature_set_version_follows_the_computation.py`` recomputes a
  checked-in corpus and fails when the matrix changed but the version did not (it says how to
  regenerate the golden matrix).
- the digest covers the data the code reads, as loaded: the feature names in order, the
  keyword lexicons and regexes, VADER's lexicon (with the trading overrides), emoji, booster,
  negation and idiom tables and constants, and the numeric constants of the extractor, the
  text features and the mention windows. Changing any of them, or upgrading vaderSentiment
  to a different lexicon, changes the version by itself.

The catalogue's prose (meanings, missing-value notes) is not hashed: fixing a typo in
``specs.py`` does not retire every model.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from typing import Any

from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    C_INCR,
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
    normalize,
)

from roostr.features import extractor, sentiment, state, text
from roostr.features.specs import FEATURE_NAMES

__all__ = ["FEATURE_SET_REVISION", "FEATURE_SET_VERSION", "computation_data", "feature_set_version"]

FEATURE_SET_REVISION = 3


def computation_data() -> dict[str, Any]:
    """Everything the feature computation reads besides the signals, as plain JSON values."""
    scorer = text.sentiment_scorer()
    return {
        "feature_names": FEATURE_NAMES,
        "extractor": {
            "fire_keys": extractor.FIRE_KEYS,
            "rocket_keys": extractor.ROCKET_KEYS,
            "min_velocity_hours": extractor.MIN_VELOCITY_HOURS,
            "peaked_below": extractor.PEAKED_BELOW,
        },
        "windows": {"day": state.DAY, "week": state.WEEK, "grace": state.GRACE},
        "track_records": {"lag": state.TRACK_RECORD_LAG, "prior_strength": state.PRIOR_STRENGTH},
        "text": {
            "lexicons": text.LEXICONS,
            "keywords": text.KEYWORDS.pattern,
            "cashtag": text.CASHTAG.pattern,
            "hype_emojis": text.HYPE_EMOJIS,
            "sentiment_max_chars": text.SENTIMENT_MAX_CHARS,
        },
        "vader": {
            "lexicon": scorer.analyser.lexicon,  # VADER's, updated with text.TRADING_VALENCE
            "emojis": scorer.analyser.emojis,
            "booster": BOOSTER_DICT,
            "negate": NEGATE,
            "special_cases": SPECIAL_CASES,
            "c_incr": C_INCR,
            "n_scalar": N_SCALAR,
            "normalize_alpha": inspect.signature(normalize).parameters["alpha"].default,
            "decay": sentiment.DECAY,
        },
    }


def feature_set_version() -> str:
    """``fs<revision>-<digest of computation_data()>``, computed from what is loaded now."""
    data = json.dumps(computation_data(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return f"fs{FEATURE_SET_REVISION}-{hashlib.sha256(data.encode()).hexdigest()[:8]}"


FEATURE_SET_VERSION: str = feature_set_version()
