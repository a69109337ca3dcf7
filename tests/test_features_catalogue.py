"""The feature catalogue: enough unique, documented features, and docs/FEATURES.md is current."""

from __future__ import annotations

import re
from pathlib import Path

from roostr.features import (
    FEATURE_INDEX,
    FEATURE_NAMES,
    FEATURES,
    feature_table_markdown,
)
from roostr.features.specs import GROUP_TITLES
from roostr.features.text import FUNDAMENTAL_COLUMNS, SOCIAL_COLUMNS, TextFeatures

DOC = Path(__file__).resolve().parents[1] / "docs" / "FEATURES.md"


def test_at_least_45_unique_named_features_in_every_group() -> None:
    assert len(FEATURE_NAMES) >= 45
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)
    assert {spec.group for spec in FEATURES} == set(GROUP_TITLES)
    for spec in FEATURES:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", spec.name)
        assert spec.meaning and spec.missing


def test_seed_named_features_exist() -> None:
    for name in ("dan_endorsed", "dan_x_reactions", "dan_x_multisource", "multi_source"):
        assert name in FEATURE_INDEX


def test_committed_feature_doc_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == feature_table_markdown(), (
        "docs/FEATURES.md is stale: run `python -m roostr.features`"
    )


def test_text_feature_fields_sit_where_the_catalogue_puts_them() -> None:
    fields = TextFeatures._fields
    for block in (SOCIAL_COLUMNS, FUNDAMENTAL_COLUMNS):
        names = fields[block]
        start = FEATURE_INDEX[names[0]]
        assert FEATURE_NAMES[start : start + len(names)] == names
