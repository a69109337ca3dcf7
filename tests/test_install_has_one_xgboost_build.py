"""No install of roostr, with any extra, brings two distributions of the `xgboost` module.

`xgboost` (GPU build) and `xgboost-cpu` both own the `xgboost` package directory: installing one
on top of the other leaves a broken module. models/README.md says how a GPU host swaps them.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
XGBOOST_BUILDS = {"xgboost", "xgboost-cpu"}


def _names(requirements: list[str]) -> set[str]:
    return {Requirement(r).name.lower() for r in requirements}


def test_every_extra_keeps_exactly_one_xgboost_build() -> None:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    base = _names(project["dependencies"])
    assert base & XGBOOST_BUILDS == {"xgboost-cpu"}
    for extra, requirements in project.get("optional-dependencies", {}).items():
        builds = (base | _names(requirements)) & XGBOOST_BUILDS
        assert len(builds) == 1, f"extra [{extra}] installs {sorted(builds)}"


def test_the_gpu_swap_is_documented() -> None:
    readme = (PYPROJECT.parent / "models" / "README.md").read_text(encoding="utf-8")
    assert "pip uninstall -y xgboost-cpu" in readme and "pip install 'xgboost" in readme
