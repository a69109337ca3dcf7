"""The spool: atomic, ordered batch files; damaged or half-written data never crashes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from producer_shims.spool import Spool, SpoolLockedError


def test_batches_are_listed_oldest_first_across_reopen(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    first = spool.write([("TAO", b'{"a": 1}'), ("ASTS", b'{"a": 2}')])
    second = spool.write([("RNDR", b'{"a": 3}')])
    spool.close()
    reopened = Spool(tmp_path)
    third = reopened.write([("TAO", b"{}")])
    assert reopened.names() == [first, second, third]
    assert reopened.read(first) == [("TAO", b'{"a": 1}'), ("ASTS", b'{"a": 2}')]
    reopened.remove(first)
    assert reopened.names() == [second, third]


def test_a_torn_last_line_and_a_garbled_line_are_skipped(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    name = spool.write([("TAO", b'{"a": 1}')])
    with open(tmp_path / name, "ab") as handle:
        handle.write(b'no tab here\nASTS\t{"a": 2}\nRNDR\t{"a"')  # garbled, good, torn
    assert spool.read(name) == [("TAO", b'{"a": 1}'), ("ASTS", b'{"a": 2}')]


def test_a_half_written_batch_is_discarded_on_open(tmp_path: Path) -> None:
    Spool(tmp_path).close()
    (tmp_path / ".000000000001.batch.tmp").write_bytes(b"TAO\t{")
    assert Spool(tmp_path).names() == []
    assert not list(tmp_path.glob("*.tmp"))


def test_a_second_publisher_cannot_share_the_spool(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    with pytest.raises(SpoolLockedError):
        Spool(tmp_path)
    spool.close()
    Spool(tmp_path).close()


def test_a_newline_inside_a_record_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="newline"):
        Spool(tmp_path).write([("TAO", b"{\n}")])
