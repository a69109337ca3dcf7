"""The registry refuses a tampered artifact, a model trained on another feature set, and unknown
versions, with an error that says which and why."""

from pathlib import Path

import numpy as np
import pytest

from roostr.model import ConvictionModel
from roostr.registry import ModelRegistry, RegistryError

NAMES = ("a", "b", "c")


def _model(feature_set_version: str = "fs-1", names: tuple[str, ...] = NAMES) -> ConvictionModel:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, len(names))).astype(np.float32)
    y = (X[:, 0] + rng.normal(size=120) > 0).astype(int)
    return ConvictionModel(n_estimators=5).fit(
        X, y, feature_names=names, feature_set_version=feature_set_version
    )


def _registry(root: Path) -> ModelRegistry:
    return ModelRegistry(root, feature_names=NAMES, feature_set_version="fs-1")


def _register(registry: ModelRegistry, model: ConvictionModel, version: str) -> None:
    registry.register(
        model, version=version, metrics={"auc": 0.7}, training_data={"rows": 120}, fmt="ubj"
    )


def test_registered_model_loads_with_its_version(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    _register(registry, _model(), "v0.1-test")
    loaded = registry.load("v0.1-test")
    assert loaded.version == "v0.1-test"
    meta = registry.metadata("v0.1-test")
    assert meta["feature_names"] == list(NAMES)
    assert meta["metrics"] == {"auc": 0.7}
    assert len(meta["sha256"]) == 64 and meta["artifact"] == "model.ubj"


def test_tampered_artifact_fails_the_checksum(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    _register(registry, _model(), "v0.1-test")
    artifact = tmp_path / "v0.1-test" / "model.ubj"
    artifact.write_bytes(artifact.read_bytes() + b" ")
    with pytest.raises(RegistryError, match="checksum mismatch"):
        registry.load("v0.1-test")
    with pytest.raises(RegistryError, match="checksum mismatch"):
        registry.promote("v0.1-test")
    assert registry.champion() is None


def test_model_of_another_feature_set_is_refused(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    _register(registry, _model(feature_set_version="fs-0"), "v0.1-old")
    with pytest.raises(RegistryError, match="feature set fs-0"):
        registry.load("v0.1-old")
    _register(registry, _model(names=("a", "b", "z")), "v0.2-renamed")
    with pytest.raises(RegistryError, match="feature names"):
        registry.load("v0.2-renamed")


def test_unknown_version_and_missing_champion_are_refused(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    with pytest.raises(RegistryError, match="no champion"):
        registry.load()
    with pytest.raises(RegistryError, match="unknown model version"):
        registry.load("v9.9")
    with pytest.raises(RegistryError, match="unknown model version"):
        registry.promote("../etc")
    assert registry.champion_marker() is None


def test_versions_cannot_be_overwritten(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    _register(registry, _model(), "v0.1-test")
    with pytest.raises(RegistryError, match="already exists"):
        _register(registry, _model(), "v0.1-test")
    assert [info.version for info in registry.versions()] == ["v0.1-test"]
