"""``roostr parity`` after a live run: real ``roostr join`` and ``roostr consume`` processes score
a world in hybrid mode with a registered champion; re-scoring the raw topic then gives every
feature and score live wrote (0 mismatches, exit 0). A changed feature constant in the replay,
and a model file swapped behind the registry's back, are each caught and named (exit 1)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import ROOSTR
from scoring_service_support import score_world_live, train_tiny_model

from roostr.features import extractor as extractor_module
from roostr.registry import ModelRegistry
from roostr.settings import Settings
from roostr.synthetic.world import generate_world
from training.backtest.parity import read_and_check

pytestmark = pytest.mark.slow


def parity_command(settings: Settings, start: str, end: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ROOSTR, "parity", "--from", start, "--to", end], env=settings.child_env(),
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip


def test_parity_finds_no_difference_after_a_live_run_and_names_planted_faults(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings.model_copy(update={"mode": "hybrid", "track_record_max_wait_s": 60.0})
    registry = ModelRegistry(settings.registry_dir)
    champion = train_tiny_model(registry, seed=1)
    world = generate_world(300, seed=5, span_days=100)
    score_world_live(settings, tmp_path, world)
    start = world.signals[0].posted_at
    end = world.signals[-1].posted_at + timedelta(seconds=1)
    start_text, end_text = start.isoformat(), end.isoformat()

    clean = parity_command(settings, start_text, end_text)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert f"{len(world.signals)} live signals re-scored, 0 mismatches" in clean.stdout
    assert f"scored with {champion} (hybrid): {len(world.signals)}" in clean.stdout

    # a feature constant changed in the replaying process: the feature is named
    monkeypatch.setattr(extractor_module, "PEAKED_BELOW", 0.99)
    changed = read_and_check(settings, start, end)
    assert changed.mismatches > 0 and not changed.not_replayed
    assert changed.differing["features.trends_peaked"] > 0
    assert "features.trends_peaked" in changed.summary()
    monkeypatch.undo()

    # the champion's file overwritten by another model's: the version is named, every signal
    other = train_tiny_model(registry, seed=2, promote=False)
    artifact = next((settings.registry_dir / champion).glob("model*"))
    shutil.copyfile(next((settings.registry_dir / other).glob("model*")), artifact)
    swapped = parity_command(settings, start_text, end_text)
    assert swapped.returncode == 1
    assert f"model {champion} not loadable" in swapped.stdout
    assert f"model: {len(world.signals)} signals differ" in swapped.stdout
