"""README's main job, `roostr up`, runs the whole pipeline on a fresh checkout and shows scores."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from conftest import ROOSTR

from stack.local import SAMPLE_SIGNALS


def test_roostr_up_trains_scores_every_sample_signal_and_exits_cleanly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "ROOSTR_"))}
    env["ROOSTR_HTTP_PORT"] = "0"
    result = subprocess.run(
        [*ROOSTR, "up"],
        cwd=tmp_path,  # a fresh working directory: empty registry, no spool
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    samples = sum(1 for line in SAMPLE_SIGNALS.read_text().splitlines() if line.strip())
    assert f"scored {samples} of {samples} sample signals; degraded: 0" in result.stdout
    assert not [line for line in result.stdout.splitlines() if line.startswith("{")]  # no JSON
    (run_dir,) = (tmp_path / ".roostr" / "up").iterdir()
    assert "batch_scored" in (run_dir / "consume.log").read_text()
    assert re.search(r"^champion: v0\.1-bootstrap-", result.stdout, re.MULTILINE)
    assert list((tmp_path / "models").glob("*/model.json"))
    assert list((tmp_path / "reports").glob("training_report_*.md"))
