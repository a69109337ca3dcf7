"""The registry's shadow: set beside a champion, announced, cleared by promote and rollback;
the consumer's model watcher loads it (or leaves a broken one out) without touching the champion."""

from __future__ import annotations

from pathlib import Path

import pytest
from scoring_service_support import train_tiny_model

from consumer.model_watch import ModelWatcher
from roostr.registry import ModelRegistry, RegistryError


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    return ModelRegistry(tmp_path / "models")


def test_shadow_set_announced_and_cleared(registry: ModelRegistry) -> None:
    first = train_tiny_model(registry, seed=1, promote=False)
    second = train_tiny_model(registry, seed=2, promote=False)
    third = train_tiny_model(registry, seed=3, promote=False)
    with pytest.raises(RegistryError, match="no champion"):
        registry.set_shadow(second)
    registry.promote(first)
    with pytest.raises(RegistryError, match="is the champion"):
        registry.set_shadow(first)
    with pytest.raises(RegistryError, match="unknown model version"):
        registry.set_shadow("v9.9-nope")

    marker = registry.champion_marker()
    update = registry.set_shadow(second)
    assert (update.action, update.model_version, update.shadow_version) == (
        "shadow", first, second,
    )  # fmt: skip
    assert registry.shadow() == second and registry.champion() == first
    assert registry.champion_marker() != marker  # running consumers notice it

    assert registry.set_shadow(None).shadow_version is None and registry.shadow() is None
    registry.set_shadow(second)
    promoted = registry.promote(second)
    assert promoted.shadow_version is None and registry.shadow() is None

    registry.set_shadow(third)
    back = registry.rollback()
    assert (back.model_version, back.shadow_version) == (first, None)
    assert registry.shadow() is None


def test_mode_update_names_the_champion_and_keeps_the_pointer(registry: ModelRegistry) -> None:
    with pytest.raises(RegistryError, match="no champion"):
        registry.mode_update("rules")
    first = train_tiny_model(registry, seed=1)
    second = train_tiny_model(registry, seed=2, promote=False)
    registry.set_shadow(second)
    marker = registry.champion_marker()
    update = registry.mode_update("rules")
    assert (update.action, update.mode, update.model_version) == ("mode", "rules", first)
    assert update.shadow_version == second
    assert registry.champion_marker() == marker


def test_watcher_loads_the_shadow_and_survives_a_broken_one(registry: ModelRegistry) -> None:
    watcher = ModelWatcher(registry, check_interval_s=0, retry_interval_s=0)
    first = train_tiny_model(registry, seed=1)
    second = train_tiny_model(registry, seed=2, promote=False)
    third = train_tiny_model(registry, seed=3, promote=False)
    assert watcher.refresh() and watcher.version == first and watcher.shadow is None

    registry.set_shadow(second)
    assert watcher.refresh() and watcher.shadow_version == second and watcher.version == first

    next((registry.root / third).glob("model.*")).write_text("garbage")
    registry.set_shadow(second)  # shadow changes are refused for a broken artifact up front...
    pointer = registry.root / "champion.json"
    pointer.write_text(pointer.read_text().replace(second, third))  # ...so break it behind its back
    assert watcher.refresh() is True
    assert watcher.shadow is None and "checksum" in (watcher.shadow_error or "")
    assert watcher.version == first and watcher.error is None  # the champion is untouched

    registry.promote(second)
    assert watcher.refresh() and watcher.version == second and watcher.shadow is None
    assert watcher.shadow_error is None
