"""The feature-set version changes when what the features compute changes, and only then, so a
model trained on other numbers is refused rather than fed them."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from golden_features import REGENERATE, corpus_matrix, load_golden

import roostr.features.specs as specs
from roostr.features import (
    FEATURE_NAMES,
    FEATURE_SET_VERSION,
    FeatureExtractor,
    extractor,
    state,
    text,
)
from roostr.features.version import feature_set_version
from roostr.model import ConvictionModel
from roostr.registry import ModelRegistry, RegistryError
from roostr.scoring import Scorer


def test_the_corpus_gives_the_golden_matrix_under_the_same_version() -> None:
    version, names, expected = load_golden()
    actual = corpus_matrix()
    same = (
        names == FEATURE_NAMES
        and actual.shape == expected.shape
        and np.array_equal(actual, expected, equal_nan=True)
    )
    if not same and version == FEATURE_SET_VERSION:
        pytest.fail(
            "the features changed but FEATURE_SET_VERSION did not: bump FEATURE_SET_REVISION "
            f"in roostr/features/version.py, then regenerate the golden matrix with {REGENERATE}"
        )
    assert same and version == FEATURE_SET_VERSION, (
        f"the golden matrix is for feature set {version}, the code computes "
        f"{FEATURE_SET_VERSION}: regenerate it with {REGENERATE}"
    )


def test_the_version_is_stable_and_named_by_revision_and_digest() -> None:
    assert re.fullmatch(r"fs\d+-[0-9a-f]{8}", FEATURE_SET_VERSION)
    assert feature_set_version() == FEATURE_SET_VERSION


def test_prose_in_the_catalogue_does_not_change_the_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    edited = tuple(replace(s, meaning=s.meaning + " (typo fixed)") for s in specs.FEATURES)
    monkeypatch.setattr(specs, "FEATURES", edited)
    assert feature_set_version() == FEATURE_SET_VERSION


@pytest.mark.parametrize(
    ("module", "name", "value"),
    [
        (extractor, "PEAKED_BELOW", 0.75),
        (extractor, "FIRE_KEYS", ("🔥",)),
        (state, "GRACE", 2 * state.DAY),
        (text, "SENTIMENT_MAX_CHARS", 500),
        (text, "LEXICONS", {**text.LEXICONS, "catalyst": ("catalyst",)}),
    ],
)
def test_a_constant_or_keyword_list_changes_the_version(
    monkeypatch: pytest.MonkeyPatch, module: object, name: str, value: object
) -> None:
    monkeypatch.setattr(module, name, value)
    assert feature_set_version() != FEATURE_SET_VERSION


def test_a_vader_lexicon_change_changes_the_version(monkeypatch: pytest.MonkeyPatch) -> None:
    lexicon = text.sentiment_scorer().analyser.lexicon
    monkeypatch.setitem(lexicon, "good", lexicon["good"] + 0.1)
    assert feature_set_version() != FEATURE_SET_VERSION
    monkeypatch.undo()
    monkeypatch.setitem(lexicon, "wagmi", 2.0)
    assert feature_set_version() != FEATURE_SET_VERSION


def _model(version: str) -> ConvictionModel:
    X = np.random.default_rng(0).random((40, len(FEATURE_NAMES)), dtype=np.float32)
    y = np.arange(40) % 2
    return ConvictionModel(n_estimators=2, max_depth=2).fit(
        X, y, feature_names=FEATURE_NAMES, feature_set_version=version
    )


def test_a_model_of_an_older_feature_set_is_refused(tmp_path: Path) -> None:
    old = _model("fs1-4036bd5a")  # the catalogue-hash version before this one
    scorer = Scorer(FeatureExtractor(), model=old, mode="hybrid")
    assert scorer.model is None and "fs1-4036bd5a" in (scorer.last_model_error or "")
    registry = ModelRegistry(tmp_path / "models")
    registry.register(old, version="v0.1-old", metrics={}, training_data={})
    with pytest.raises(RegistryError, match="feature set fs1-4036bd5a"):
        registry.promote("v0.1-old")
    current = _model(FEATURE_SET_VERSION)
    assert Scorer(FeatureExtractor(), model=current, mode="hybrid").model is current
