"""promote/rollback move the champion pointer with a history stack, announce a ModelUpdate, and
change the cheap marker consumers poll."""

import json
from pathlib import Path

import numpy as np
import pytest

from roostr.model import ConvictionModel
from roostr.registry import ModelRegistry, RegistryError

NAMES = ("a", "b")


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    registry = ModelRegistry(tmp_path / "models", feature_names=NAMES, feature_set_version="fs")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    for version in ("v0.1-a", "v0.2-b", "v0.3-c"):
        model = ConvictionModel(n_estimators=3).fit(
            X, y, feature_names=NAMES, feature_set_version="fs"
        )
        registry.register(model, version=version, metrics={}, training_data={})
    return registry


def test_promote_and_rollback_walk_the_history(registry: ModelRegistry) -> None:
    first = registry.promote("v0.1-a")
    assert (first.action, first.model_version) == ("promote", "v0.1-a")
    assert first.sha256 == registry.metadata("v0.1-a")["sha256"]
    assert Path(first.artifact_path).is_file()
    registry.promote("v0.2-b")
    registry.promote("v0.3-c")
    assert registry.champion() == "v0.3-c"
    assert registry.history() == ["v0.1-a", "v0.2-b"]
    assert registry.load().version == "v0.3-c"

    back = registry.rollback()
    assert (back.action, back.model_version) == ("rollback", "v0.2-b")
    assert registry.history() == ["v0.1-a"]
    assert registry.rollback().model_version == "v0.1-a"
    with pytest.raises(RegistryError, match="no previous champion"):
        registry.rollback()
    assert registry.champion() == "v0.1-a"


def test_promoting_the_champion_again_does_not_grow_history(registry: ModelRegistry) -> None:
    registry.promote("v0.1-a")
    registry.promote("v0.1-a")
    assert registry.history() == []


def test_marker_changes_on_every_champion_change(registry: ModelRegistry) -> None:
    assert registry.champion_marker() is None
    registry.promote("v0.1-a")
    first = registry.champion_marker()
    registry.promote("v0.2-b")
    second = registry.champion_marker()
    registry.rollback()
    third = registry.champion_marker()
    assert first is not None and second is not None and third is not None
    assert len({first, second, third}) == 3
    assert third[0] == "v0.1-a"
    assert registry.champion_marker() == third  # stable while nothing changes


def test_pointer_file_is_complete_json_and_no_temp_files_remain(registry: ModelRegistry) -> None:
    registry.promote("v0.1-a")
    registry.promote("v0.2-b")
    pointer = json.loads((registry.root / "champion.json").read_text())
    assert pointer["champion"] == "v0.2-b" and pointer["history"] == ["v0.1-a"]
    assert not [p for p in registry.root.iterdir() if p.name.endswith(".tmp")]
    listed = {info.version: info.is_champion for info in registry.versions()}
    assert listed == {"v0.1-a": False, "v0.2-b": True, "v0.3-c": False}


def test_next_version_counts_up(registry: ModelRegistry) -> None:
    assert registry.next_version("bootstrap").startswith("v0.4-bootstrap-")
