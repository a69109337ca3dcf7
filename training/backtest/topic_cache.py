"""``roostr backtest --cache DIR``: each topic's records kept as Parquet, extended by appends.

A backtest reads whole topics; between two runs they usually only grew. Per topic the cache
holds Parquet segments of (partition, offset, value) and, per partition, an *anchor*: the
offset, broker timestamp and SHA-256 of the last record it holds. A later run reads each
partition from its anchor's offset: the first record must be the anchor itself (same offset,
timestamp and value), which proves the partition still holds what the cache holds up to there
(offsets never move in Kafka; a deleted-and-recreated or truncated topic starts elsewhere or
differs there). Only the records after it are new. When any partition fails that proof (a
record missing, different or never reached) the cache is dropped and the topic read from its
beginning; new partitions are read from their beginning. The decoded values are then the same
as a run without the cache, so the report is too.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from confluent_kafka import Message

from roostr.kafka import coordinates
from roostr.logs import get_logger
from roostr.settings import Settings
from roostr.topic_reader import Progress, read_to_end

__all__ = ["Record", "read_records"]

log = get_logger(__name__)

Record = tuple[int, int, int, bytes | None]  # partition, offset, broker timestamp (ms), value
_SCHEMA = pa.schema(
    [("partition", pa.int32()), ("offset", pa.int64()), ("timestamp", pa.int64()),
     ("value", pa.binary())]
)  # fmt: skip


def read_records(
    settings: Settings,
    topic: str,
    *,
    purpose: str,
    progress: Progress | None = None,
    cache: Path | None = None,
) -> list[Record]:
    """Every record of ``topic`` up to its end as of now, sorted by (partition, offset), from
    ``cache`` (a directory) plus what was appended since, or read whole. Raises
    TopicUnreadable."""
    if cache is None:
        return _read(settings, topic, purpose, progress, {})[0]
    where = cache / topic
    anchors = _anchors(where)
    fresh, seen = _read(settings, topic, purpose, progress, anchors)
    proven = all(seen.get(p) == anchor for p, anchor in anchors.items())
    if not proven:
        log.warning("backtest_cache_invalidated", topic=topic, cached_partitions=len(anchors))
        shutil.rmtree(where, ignore_errors=True)
        anchors = {}
        fresh, _seen = _read(settings, topic, purpose, progress, anchors)
    appended = [r for r in fresh if r[0] not in anchors or r[1] > _offset(anchors[r[0]])]
    kept = _segments(where) if proven else []
    log.info("backtest_cache_read", topic=topic, cached=len(kept), appended=len(appended))
    if appended:
        _write(where, appended)
    return sorted(kept + appended, key=lambda r: (r[0], r[1]))


def _read(
    settings: Settings,
    topic: str,
    purpose: str,
    progress: Progress | None,
    anchors: dict[int, list[object]],
) -> tuple[list[Record], dict[int, list[object]]]:
    """Records from each anchor's offset (or the beginning), and the anchor-position records
    as read now (partition → anchor)."""
    records: list[Record] = []
    seen: dict[int, list[object]] = {}

    def keep(message: Message) -> None:
        _topic, partition, offset = coordinates(message)
        record = (partition, offset, message.timestamp()[1], message.value())
        if partition in anchors and offset == anchors[partition][0]:
            seen[partition] = _anchor(record)
        records.append(record)

    start = {p: _offset(anchor) for p, anchor in anchors.items()}
    read_to_end(
        settings, topic, keep, purpose=purpose, progress=progress,
        start=start,
    )  # fmt: skip
    return records, seen


def _anchor(record: Record) -> list[object]:
    """[offset, timestamp, sha256 of the value]: what proves a record is the one cached."""
    _partition, offset, timestamp, value = record
    return [offset, timestamp, hashlib.sha256(value or b"").hexdigest()]


def _offset(anchor: list[object]) -> int:
    return int(str(anchor[0]))


def _manifest(where: Path) -> dict[str, Any]:
    """The segments the anchors vouch for, and the anchors (none: an empty cache)."""
    path = where / "manifest.json"
    if not path.exists():
        return {"segments": [], "anchors": {}}
    manifest: dict[str, Any] = json.loads(path.read_text())
    return manifest


def _anchors(where: Path) -> dict[int, list[object]]:
    return {int(p): anchor for p, anchor in _manifest(where)["anchors"].items()}


def _segments(where: Path) -> list[Record]:
    records: list[Record] = []
    for name in _manifest(where)["segments"]:
        table = pq.read_table(where / name, schema=_SCHEMA)
        records += zip(*(table[name].to_pylist() for name in _SCHEMA.names), strict=True)
    return records


def _write(where: Path, appended: list[Record]) -> None:
    """A new segment, then the manifest naming it with the anchors (each partition's last
    record), replaced in one rename: a run stopped half-way leaves the previous cache."""
    where.mkdir(parents=True, exist_ok=True)
    manifest = _manifest(where)
    name = f"segment-{len(manifest['segments']):06d}.parquet"
    columns = [pa.array(list(column)) for column in zip(*appended, strict=True)]
    pq.write_table(pa.Table.from_arrays(columns, schema=_SCHEMA), where / name)
    anchors = _anchors(where)
    for record in appended:
        partition, offset = record[0], record[1]
        if partition not in anchors or offset > _offset(anchors[partition]):
            anchors[partition] = _anchor(record)
    manifest = {"segments": [*manifest["segments"], name],
                "anchors": {str(p): a for p, a in sorted(anchors.items())}}  # fmt: skip
    staged = where / "manifest.json.new"
    staged.write_text(json.dumps(manifest))
    staged.replace(where / "manifest.json")
