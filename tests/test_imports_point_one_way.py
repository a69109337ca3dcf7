"""The packages' imports follow the layers in pyproject.toml ([tool.importlinter]): stack on top,
then the board, then the applications (consumer, training, producer_shims, which never import each
other), then the core; the product (the serving modules and the applications) never imports the
synthetic worlds; and the feature modules import without a cycle."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "3 kept, 0 broken" in result.stdout
