"""``roostr backtest --cache DIR``: each topic's records kept *decoded* as Parquet, extended by
appends.

A backtest reads whole topics; between two runs they usually only grew, and reading and
decoding 846,000 ticks cost more than the backtest itself. Per topic the cache holds Parquet
segments of decoded rows (one per record: its partition, offset and what ``decode`` made of
its value, e.g. a tick's columns) and, per partition, an *anchor*: the offset, broker
timestamp and SHA-256 of the last record it holds. A later run reads each partition from its
anchor's offset: the first record must be the anchor itself (same offset, timestamp and value),
which proves the partition still holds what the cache holds up to there (offsets never move in
Kafka; a deleted-and-recreated, truncated or compacted partition starts elsewhere or differs
there). Only the records after it are decoded and added as a new segment. When any partition
fails that proof (a record missing, different or never reached), or the cache was written by
another decoder (``Decoder.name``, bumped whenever decoding changes), the cache is dropped and
the topic read from its beginning; new partitions are read from their beginning. The rows are
then the rows a run without the cache decodes, so the report is too.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq
from confluent_kafka import Message, TopicPartition

from roostr.logs import get_logger
from roostr.settings import Settings
from roostr.topic_reader import Progress, private_consumer, read_to_end

__all__ = ["RAW", "Decoder", "offset_order", "read_decoded"]

log = get_logger(__name__)

Record = tuple[int, int, int, bytes | None]  # partition, offset, broker timestamp (ms), value
_CHUNK = 100_000  # records decoded at a time while reading


@dataclass(frozen=True)
class Decoder:
    """Turns record values into a table of one row per value, in the values' order. ``name``
    is stored with the cache: a cache written by another decoder is never read."""

    name: str
    decode: Callable[[Sequence[bytes | None]], pa.Table]


RAW = Decoder("raw-1", lambda values: pa.table({"value": pa.array(values, pa.binary())}))
"""The values as they are (decoded by the caller on every run)."""


def read_decoded(
    settings: Settings,
    topic: str,
    decoder: Decoder,
    *,
    purpose: str,
    progress: Progress | None = None,
    cache: Path | None = None,
) -> pa.Table:
    """Every record of ``topic`` up to its end as of now, decoded, with its ``partition`` and
    ``offset`` columns first, in no set order (``offset_order`` gives one): from ``cache`` (a
    directory) plus
    what was appended since, or read whole. Raises TopicUnreadable."""
    if cache is None:
        return _read(settings, topic, decoder, purpose, progress, {}).rows
    where = cache / topic
    manifest = _manifest(where)
    # a cache of another decoder (or of the raw records before decoders, without the key)
    anchors = _anchors(manifest) if manifest.get("decoder") == decoder.name else {}
    fresh = _read(settings, topic, decoder, purpose, progress, anchors)
    proven = (
        manifest.get("decoder") == decoder.name
        and all(fresh.seen.get(p) == anchor for p, anchor in anchors.items())
        and _nothing_removed(settings, topic, purpose, manifest["firsts"])
    )
    if not proven:
        if manifest["segments"]:
            log.warning("backtest_cache_invalidated", topic=topic, decoder=decoder.name)
        shutil.rmtree(where, ignore_errors=True)
        if anchors:  # this read began at the anchors: the topic is needed from its beginning
            fresh = _read(settings, topic, decoder, purpose, progress, {})
        manifest, anchors = _manifest(where), {}
    kept = [pq.read_table(where / name) for name in manifest["segments"]]
    log.info("backtest_cache_read", topic=topic, cached=sum(t.num_rows for t in kept),
             appended=fresh.rows.num_rows)  # fmt: skip
    if fresh.rows.num_rows:
        _write(where, decoder, manifest, anchors, fresh)
    return pa.concat_tables([*kept, fresh.rows])


@dataclass
class _Read:
    """What one read found after the anchors: its decoded rows, the anchor-position records as
    read now, each partition's last record and first offset."""

    rows: pa.Table
    seen: dict[int, list[object]]
    last: dict[int, Record]
    first: dict[int, int]


def _read(
    settings: Settings,
    topic: str,
    decoder: Decoder,
    purpose: str,
    progress: Progress | None,
    anchors: dict[int, list[object]],
) -> _Read:
    """The records after each anchor (every record of a partition without one), decoded
    ``_CHUNK`` at a time so that raw records never pile up."""
    chunks: list[pa.Table] = []
    pending: list[Record] = []
    read = _Read(pa.table({}), {}, {}, {})
    until = {p: _offset(anchor) for p, anchor in anchors.items()}

    def keep(batch: list[Message]) -> None:
        # librdkafka sets partition and offset on every consumed record (``coordinates``)
        records = cast(
            list[Record], [(m.partition(), m.offset(), m.timestamp()[1], m.value()) for m in batch]
        )
        if until:  # a read from the anchors: they prove the cache, the records up to them are in it
            for record in records:
                if record[1] == until.get(record[0]):
                    read.seen[record[0]] = _anchor(record)
            # (or, when an anchor is not there, this is a read about to be redone)
            records = [r for r in records if r[1] > until.get(r[0], -1)]
        pending.extend(records)
        read.last |= {r[0]: r for r in records}
        read.first = {r[0]: r[1] for r in reversed(records)} | read.first
        if len(pending) >= _CHUNK:
            chunks.append(_decoded(decoder, pending))
            pending.clear()

    read_to_end(
        settings, topic, keep, purpose=purpose, progress=progress,
        start=until,
    )  # fmt: skip
    read.rows = pa.concat_tables([*chunks, _decoded(decoder, pending)])
    return read


def _nothing_removed(settings: Settings, topic: str, purpose: str, firsts: dict[str, int]) -> bool:
    """True when no partition's first record now lies after the first one cached: records
    deleted from a partition's head (retention, DeleteRecords) would leave the cache holding
    what a read of the topic no longer sees."""
    if not firsts:
        return True
    reader = private_consumer(settings, f"{purpose}-low")
    try:
        lows = {p: reader.get_watermark_offsets(TopicPartition(topic, int(p)), timeout=10)[0]
                for p in firsts}  # fmt: skip
    finally:
        reader.close()
    return all(low <= firsts[p] for p, low in lows.items())


def _decoded(decoder: Decoder, records: Sequence[Record]) -> pa.Table:
    """The decoder's rows behind each record's partition and offset."""
    rows = decoder.decode([r[3] for r in records])
    partition = pa.array([r[0] for r in records], pa.int32())
    offset = pa.array([r[1] for r in records], pa.int64())
    names = ["partition", "offset", *rows.column_names]
    return pa.Table.from_arrays([partition, offset, *rows.columns], names)


def offset_order(table: pa.Table) -> npt.NDArray[np.intp]:
    """The row indices of ``read_decoded``'s table in (partition, offset) order (sorting the
    rows themselves would copy every value: a second, say, for 200,000 signals)."""
    partition, offset = (table[name].to_numpy() for name in ("partition", "offset"))
    order: npt.NDArray[np.intp] = np.lexsort((offset, partition))
    return order


def _anchor(record: Record) -> list[object]:
    """[offset, timestamp, sha256 of the value]: what proves a record is the one cached."""
    _partition, offset, timestamp, value = record
    return [offset, timestamp, hashlib.sha256(value or b"").hexdigest()]


def _offset(anchor: list[object]) -> int:
    return int(str(anchor[0]))


def _manifest(where: Path) -> dict[str, Any]:
    """The decoder, the segments the anchors vouch for, and the anchors (none: an empty
    cache)."""
    path = where / "manifest.json"
    if not path.exists():
        return {"decoder": None, "segments": [], "anchors": {}, "firsts": {}}
    manifest: dict[str, Any] = json.loads(path.read_text())
    return manifest


def _anchors(manifest: dict[str, Any]) -> dict[int, list[object]]:
    return {int(p): anchor for p, anchor in manifest["anchors"].items()}


def _write(
    where: Path, decoder: Decoder, manifest: dict[str, Any], anchors: dict[int, list[object]],
    fresh: _Read,
) -> None:  # fmt: skip
    """A new segment, then the manifest naming it with the anchors (each partition's last
    record), replaced in one rename: a run stopped half-way leaves the previous cache."""
    where.mkdir(parents=True, exist_ok=True)
    name = f"segment-{len(manifest['segments']):06d}.parquet"
    pq.write_table(fresh.rows, where / name)
    anchors = anchors | {p: _anchor(record) for p, record in fresh.last.items()}
    firsts = {str(p): offset for p, offset in fresh.first.items()} | manifest["firsts"]
    manifest = {"decoder": decoder.name, "segments": [*manifest["segments"], name],
                "anchors": {str(p): a for p, a in sorted(anchors.items())},
                "firsts": dict(sorted(firsts.items()))}  # fmt: skip
    staged = where / "manifest.json.new"
    staged.write_text(json.dumps(manifest))
    staged.replace(where / "manifest.json")
