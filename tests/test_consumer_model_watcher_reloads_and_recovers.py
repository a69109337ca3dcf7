"""The consumer's view of the registry: reload on a champion change, rules on a bad one, retry."""

from __future__ import annotations

from pathlib import Path

from scoring_service_support import train_tiny_model

from consumer.model_watch import ModelWatcher
from roostr.registry import ModelRegistry


def test_watcher_follows_the_champion_and_survives_a_corrupt_one(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    failures: list[str] = []
    watcher = ModelWatcher(
        registry, check_interval_s=0, retry_interval_s=0, on_failure=failures.append
    )
    watcher.refresh()
    assert watcher.model is None and watcher.error is None  # no champion yet: rules, no error

    first = train_tiny_model(registry, seed=1)
    assert watcher.refresh() is True and watcher.version == first
    assert watcher.refresh() is False  # unchanged pointer: no reload

    second = train_tiny_model(registry, seed=2, promote=False)
    registry.promote(second)
    next((registry.root / second).glob("model.*")).write_text("garbage")
    assert watcher.refresh() is True
    assert watcher.model is None and "checksum" in (watcher.error or "")
    assert len(failures) == 1
    assert watcher.refresh() is False and len(failures) == 2  # retried, still failing

    registry.rollback()  # back to the first model: the next check recovers
    assert watcher.refresh() is True and watcher.version == first and watcher.error is None
