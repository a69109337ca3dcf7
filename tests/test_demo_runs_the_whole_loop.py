"""README's main job, `roostr demo`, runs the whole loop from an empty folder and leaves no process
behind, also when interrupted with Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
from conftest import ROOSTR
from scoring_service_support import wait_until

pytestmark = pytest.mark.slow


def _clean_env() -> dict[str, str]:
    """The environment of a fresh shell: no broker named, no roostr settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "ROOSTR_"))}


def _processes_in(folder: Path) -> list[int]:
    """Processes whose working directory is ``folder`` (the demo's children inherit it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if Path(os.readlink(entry / "cwd")) == folder:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_demo_scores_labels_retrains_and_cleans_up(tmp_path: Path) -> None:
    result = subprocess.run(
        [*ROOSTR, "demo", "--signals", "600", "--run-dir", "run"],
        cwd=tmp_path, env=_clean_env(), capture_output=True, text=True, timeout=400,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "signals scored" in result.stdout and "600" in result.stdout
    assert "malformed inputs dead-lettered" in result.stdout
    assert "champion before → after" in result.stdout
    run = tmp_path / "run"
    for log in ("consume-1.log", "consume-2.log", "join.log", "retrain.log", "broker.log"):
        assert (run / log).exists(), log
    assert '"event"' not in result.stdout  # service logs go to files, not the terminal
    assert _processes_in(tmp_path) == []


def test_ctrl_c_stops_every_service_and_the_broker(tmp_path: Path) -> None:
    demo = subprocess.Popen(
        [*ROOSTR, "demo", "--signals", "600", "--run-dir", "run"],
        cwd=tmp_path, env=_clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_until(lambda: (tmp_path / "run" / "join.log").exists(), 120, "services running")
        running = _processes_in(tmp_path)
        assert len(running) >= 4, running  # demo, broker, two consumers, the joiner
        demo.send_signal(signal.SIGINT)
        status = demo.wait(90)
        assert status == 130, (status, demo.stderr.read().decode(errors="replace")[-3000:])
        wait_until(lambda: _processes_in(tmp_path) == [], 30, "no process left behind")
    finally:
        if demo.poll() is None:
            demo.kill()
