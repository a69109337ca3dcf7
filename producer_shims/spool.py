"""A durable write-ahead spool: accepted records live on local disk until the broker acks them.

One directory per topic. Each accepted batch is one file, ``<sequence>.batch``, holding one
``<key>\\t<value JSON>\\n`` line per record. Writing a batch is atomic: the lines go to a hidden
temporary file, which is fsync'd, renamed into place, and the directory fsync'd. So a batch file
either exists whole or not at all, and ``write()`` returning means the batch survives a crash or
``kill -9``. Leftover temporary files belong to writes that never returned; they are discarded.

A batch file is deleted only when every record in it has been acknowledged by the broker.
Sequence numbers grow, so sorted file names are the order batches were accepted in.

Only one process may use a spool directory at a time (an ``flock`` on ``.lock``, released by
the kernel even on ``kill -9``): two publishers re-sending the same files would duplicate them.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Sequence
from pathlib import Path

from roostr.errors import RoostrError
from roostr.logs import get_logger

__all__ = ["Spool", "SpoolLockedError", "SpoolRecord"]

SpoolRecord = tuple[str, bytes]
"""(key, value): the Kafka key (a ticker) and the record's JSON bytes."""

_SUFFIX = ".batch"
log = get_logger(__name__)


class SpoolLockedError(RoostrError):
    """Another process already publishes from this spool directory."""


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _encode(records: Sequence[SpoolRecord]) -> bytes:
    lines = []
    for key, value in records:
        if any(c in key for c in "\t\n") or b"\n" in value:
            raise ValueError(f"record for key {key!r} cannot be spooled: tab or newline inside")
        lines.append(key.encode() + b"\t" + value + b"\n")
    return b"".join(lines)


class Spool:
    """The batch files of one topic's publisher; see the module docstring for the guarantees."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise SpoolLockedError(f"spool {directory} is in use by another process") from None
        for leftover in directory.glob(f".*{_SUFFIX}.tmp"):
            leftover.unlink()  # its write never returned, so the caller never saw it accepted
        names = self.names()
        self._next_sequence = int(names[-1].removesuffix(_SUFFIX)) + 1 if names else 1

    def names(self) -> list[str]:
        """Batch files waiting for acknowledgement, oldest first."""
        return sorted(p.name for p in self.directory.glob(f"*{_SUFFIX}"))

    def write(self, records: Sequence[SpoolRecord]) -> str:
        """Persist a batch durably (file and directory fsync'd); returns its name."""
        name = f"{self._next_sequence:012d}{_SUFFIX}"
        self._next_sequence += 1
        temporary = self.directory / f".{name}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, _encode(records))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(temporary, self.directory / name)
        _fsync_dir(self.directory)
        return name

    def read(self, name: str) -> list[SpoolRecord]:
        """The records of a batch; a torn or garbled line is logged and skipped, not fatal.

        Batches are written atomically, so a torn line means the file was damaged outside this
        class (or copied in half-written); such a line was never acknowledged to a caller.
        """
        data = (self.directory / name).read_bytes()
        lines = data.split(b"\n")
        if lines[-1]:
            log.warning("spool_torn_line", batch=name, line=len(lines), bytes=len(lines[-1]))
        records = []
        for number, line in enumerate(lines[:-1], start=1):
            key, tab, value = line.partition(b"\t")
            if not tab or not key or not value:
                log.warning("spool_garbled_line", batch=name, line=number, bytes=len(line))
                continue
            records.append((key.decode(), value))
        return records

    def remove(self, name: str) -> None:
        """Forget a fully acknowledged batch (no fsync: losing the unlink only re-sends it)."""
        (self.directory / name).unlink(missing_ok=True)

    def close(self) -> None:
        if self._lock_fd >= 0:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = -1
