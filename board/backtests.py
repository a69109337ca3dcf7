"""The backtest (and training) HTML reports under a folder: listed, and served one at a time.

Only ``.html`` files inside the folder are served: a name that resolves outside it (``..``, a
symlink out) is not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["Report", "find_reports", "report_path"]


@dataclass(frozen=True)
class Report:
    name: str  # the path under the folder, with forward slashes
    modified: datetime
    size: int


def find_reports(root: Path) -> list[Report]:
    """Every HTML report under ``root``, newest first (none when the folder does not exist)."""
    if not root.is_dir():
        return []
    reports = []
    for path in root.rglob("*.html"):
        if report_path(root, path.relative_to(root).as_posix()) is None:
            continue
        stat = path.stat()
        reports.append(
            Report(
                path.relative_to(root).as_posix(),
                datetime.fromtimestamp(stat.st_mtime, UTC),
                stat.st_size,
            )
        )
    return sorted(reports, key=lambda r: (r.modified, r.name), reverse=True)


def report_path(root: Path, name: str) -> Path | None:
    """The file ``name`` names under ``root``, if it is an HTML file inside it."""
    base = root.resolve()
    path = (base / name).resolve()
    if path.suffix != ".html" or not path.is_file() or not path.is_relative_to(base):
        return None
    return path
