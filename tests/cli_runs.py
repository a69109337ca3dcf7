"""Run the ``roostr`` CLI as a child process and keep what it printed and how long it took."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass

from conftest import ROOSTR

from roostr.settings import Settings


@dataclass(frozen=True)
class Run:
    returncode: int
    seconds: float
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def lines_naming(self, text: str) -> list[str]:
        return [line for line in self.output.splitlines() if text in line]


def run_cli(
    settings: Settings, *args: str, stdin: str | None = None, timeout_s: float = 120
) -> Run:
    """``roostr ARGS`` with exactly ``settings`` (``Settings.child_env``)."""
    started = time.monotonic()
    done = subprocess.run(
        [*ROOSTR, *args], input=stdin, capture_output=True, text=True,
        env=settings.child_env(), timeout=timeout_s,
    )  # fmt: skip
    return Run(done.returncode, time.monotonic() - started, done.stdout, done.stderr)
