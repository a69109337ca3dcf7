"""Features shared by serving and training: the catalogue (``FEATURES``) and the extractor.

Usage::

    ex = FeatureExtractor()
    X = ex.advance(signals)        # float32 (n, len(FEATURE_NAMES)), NaN = unknown; state moves
    ex.record_outcome(outcome)     # feeds the source / author track records
"""

from roostr.features.catalogue import feature_table_markdown
from roostr.features.extractor import (
    FeatureError,
    FeatureExtractor,
    FeatureRows,
    feature_dict,
    feature_dicts,
)
from roostr.features.specs import (
    FEATURE_INDEX,
    FEATURE_NAMES,
    FEATURES,
    FeatureSpec,
)
from roostr.features.version import FEATURE_SET_VERSION

__all__ = [
    "FEATURES",
    "FEATURE_INDEX",
    "FEATURE_NAMES",
    "FEATURE_SET_VERSION",
    "FeatureError",
    "FeatureExtractor",
    "FeatureRows",
    "FeatureSpec",
    "feature_dict",
    "feature_dicts",
    "feature_table_markdown",
]
