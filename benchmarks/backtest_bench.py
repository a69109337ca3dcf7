"""How long ``roostr backtest`` takes on a world of issue 19's size, before and after a change.

Publishes a ``roostr.synthetic.world`` world (default: 10,113 signals, 150 tickers with a tick every
6 h over 1,378 + 32 days = 846,000 ticks) to fresh topics, registers a bootstrap champion, then
times ``roostr backtest`` (champion, labels from prices: no outcomes topic) and ``--walk-forward``
over the last ``--backtest-days`` as child processes: with this checkout's code, and with the
code of ``--before-ref`` (a git ref, archived into a temporary tree) or the source tree
``--before`` names, same broker, same data; then this checkout's champion run with ``--cache``,
cold (the cache filled) and warm (read back). Wall time includes the child's start-up; CPU time
and peak RSS are the child's (not the broker's): on a shared machine the CPU time is the
figure to compare.

    python benchmarks/backtest_bench.py [--before-ref main | --before DIR]
        [--signals N --span-days D] [--scale] [--bootstrap-servers HOST:PORT] [--json]

Every run is also given as a multiple of a plain confluent-kafka read of both topics to their
ends, timed first in the same run (the floor: wall and CPU). ``--scale`` (for issue 19's
1,000,000 signals / 10,000,000 ticks: ``--signals 1000000 --span-days 16640``, 150 tickers)
times instead the champion over the whole span (every signal scored) uncached, cold and warm
``--cache``, and over the last ``--backtest-days``; no walk-forward. The world
is drawn by ``generate_market`` (the world's signals and prices, no labels or ceiling).

Prints figures and whether both codes' JSON summaries agree; asserts only that the warm-cache
run reports what the uncached run did.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition

from roostr.delivery import Output, deliver
from roostr.embedded_broker import named_or_embedded
from roostr.kafka import ensure_topics, make_producer
from roostr.settings import Settings
from roostr.synthetic.world import START, PricePath, generate_market


def publish_world(settings: Settings, signals: int, span_days: float) -> dict[str, object]:
    """The world's signals and ticks on the raw and prices topics; returns the tick count and
    the CPU seconds of drawing and of publishing the world (this process's own)."""
    began = time.process_time()
    drawn, prices = generate_market(signals, seed=7, span_days=span_days)
    drawn_at = time.process_time()
    last_posted = drawn[-1].posted_at
    producer = make_producer(settings, **{"linger.ms": 20, "batch.size": 1_000_000})
    raw = (
        Output(settings.topic_raw, s.ticker.encode(), s.model_dump_json().encode()) for s in drawn
    )
    deliver(producer, raw, timeout_s=600)
    del drawn, raw
    deliver(producer, _ticks(settings.topic_prices, prices.values()), timeout_s=600)
    return {
        "ticks": sum(path.ts.size for path in prices.values()),
        "last_posted": last_posted.isoformat(),
        "draw_cpu_s": round(drawn_at - began, 1),
        "publish_cpu_s": round(time.process_time() - drawn_at, 1),
    }


def passthrough() -> None:
    """Read the raw and prices topics of the environment's settings to their ends with a plain
    consumer that does nothing with the records: the floor a backtest's read is compared with.
    Prints the record count."""
    settings = Settings()
    topics = (settings.topic_raw, settings.topic_prices)
    reader = Consumer({**settings.kafka_common(), "group.id": f"{settings.group_readers}-bench"})
    assigned = [
        TopicPartition(topic, partition, OFFSET_BEGINNING)
        for topic in topics
        for partition in reader.list_topics(topic, timeout=10).topics[topic].partitions
    ]
    ends = {(tp.topic, tp.partition): reader.get_watermark_offsets(tp, 10)[1] for tp in assigned}
    reader.assign(assigned)
    todo = {tp for tp, end in ends.items() if end > 0}
    read = 0
    while todo:
        for message in reader.consume(10_000, 1.0):
            if message.error() is not None:
                raise KafkaException(message.error())
            read += 1
            where = (message.topic() or "", message.partition() or 0)
            if (message.offset() or 0) + 1 >= ends[where]:
                todo.discard(where)
    reader.close()
    print(read)


def _ticks(topic: str, paths: Iterable[PricePath]) -> Iterator[Output]:
    """``PricePath.ticks`` as records, encoded from the arrays in bulk: a PriceTick model per
    tick cost minutes (and gigabytes held at once) for a 10,000,000-tick world. The same
    values: the contract reads this zone-aware timestamp and float as it reads the model's."""
    for path in paths:
        key = path.ticker.encode()
        stamps = np.datetime_as_string(path.ts, unit="s").tolist()
        for ts, price in zip(stamps, path.price.tolist(), strict=True):
            tick = {"ticker": path.ticker, "ts": ts + "Z", "price_usd": price, "source": "world"}
            yield Output(topic, key, orjson.dumps(tick))


def archive(ref: str, where: Path) -> Path:
    """The source tree of git ``ref`` (this checkout's repository) extracted into ``where``."""
    where.mkdir()
    tree = subprocess.run(["git", "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(where)], input=tree, check=True)
    return where


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> dict[str, Any]:
    """Wall and CPU seconds (user + system: less swayed by other load than wall time), peak RSS
    in MiB and stdout of one child run; raises if it fails."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        began = time.perf_counter()
        child = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=err)
        _pid, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - began
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"{argv} failed: {err.read().decode()[-2000:]}")
        return {
            "wall_s": round(wall, 2),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_mib": round(usage.ru_maxrss / 1024),
            "load_1m": round(os.getloadavg()[0], 2),
            "stdout": out.read().decode(),
        }


def _cli(tree: Path) -> list[str]:
    """The roostr CLI of a source tree: code from before it moved to stack/ runs it as
    ``python -m roostr``."""
    return [sys.executable, "-m", "stack" if (tree / "stack").is_dir() else "roostr"]


def _env(env: dict[str, str], tree: Path | None) -> dict[str, str]:
    """``env`` with a tree's code first on the path (the current directory comes before all)."""
    return env | ({"PYTHONPATH": str(tree)} if tree else {})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", type=int, default=10_113)
    parser.add_argument("--span-days", type=float, default=1_378)
    parser.add_argument("--backtest-days", type=float, default=250)
    before = parser.add_mutually_exclusive_group()
    before.add_argument("--before", type=Path, help="source tree of the code to compare with")
    before.add_argument("--before-ref", help="git ref of the code to compare with (e.g. main)")
    parser.add_argument(
        "--scale",
        action="store_true",
        help="a big world's runs instead: a plain read of the topics, the champion over the "
        "whole span (uncached, cold and warm --cache) and over the last --backtest-days; "
        "no walk-forward",
    )
    parser.add_argument("--bootstrap-servers", default=None)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--passthrough", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.passthrough:
        passthrough()
        return
    rows: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        named_or_embedded(args.bootstrap_servers, Path(tmp) / "broker.log") as servers,
    ):
        if args.before_ref:
            args.before = archive(args.before_ref, Path(tmp) / "before")
        settings = Settings(bootstrap_servers=servers).namespaced(
            f"bt-{uuid.uuid4().hex[:8]}", registry_dir=Path(tmp) / "models"
        )
        ensure_topics(settings)
        # in a child: a child forked from a parent holding the world would report its size
        # as the child's peak RSS
        began = time.perf_counter()
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            world = pool.submit(publish_world, settings, args.signals, args.span_days).result()
        world["wall_s"] = round(time.perf_counter() - began, 1)
        print(world, file=sys.stderr, flush=True)
        env = settings.child_env()
        roostr = [sys.executable, "-m", "stack"]
        # the oldest code trains the champion: a newer code loads an older model (its missing
        # parameters take their legacy values), an older code may refuse a newer one
        oldest = args.before or Path.cwd()
        train = [*_cli(oldest), "train", "--bootstrap", "--reports-dir", f"{tmp}/reports"]
        subprocess.run(
            train, env=_env(env, args.before), cwd=oldest, check=True, capture_output=True
        )
        end = START + timedelta(days=args.span_days + 1)
        if args.scale:  # the world keeps its first signals: they may end well before the span
            end = datetime.fromisoformat(str(world["last_posted"])) + timedelta(days=1)
        recent = end - timedelta(days=args.backtest_days)
        codes = [("after", None)] + ([("before", args.before)] if args.before else [])
        summaries: dict[tuple[str, str], dict] = {}
        cache = ["--cache", f"{tmp}/cache"]
        # the floor every run is compared with: a plain read of the same topics
        row = timed([sys.executable, __file__, "--passthrough"], env, Path.cwd())
        _add(rows, {"code": "-", "run": f"plain read ({row.pop('stdout').strip()})", **row})
        spans = [("whole", START)] if args.scale else []
        spans.append((f"last {args.backtest_days:g} d", recent))
        runs = [(f"champion, {span}", _backtest(since, end)) for span, since in spans]
        if not args.scale:
            runs.append(("walk-forward", [*_backtest(recent, end), "--walk-forward"]))
        for run, argv in runs:
            for code, tree in codes:
                here = tree or Path.cwd()
                row = timed([*_cli(here), *argv], _env(env, tree), here)
                summaries[code, run] = json.loads(row.pop("stdout"))
                _add(rows, {"code": code, "run": run, **row})
        champion, argv = runs[0]
        for run in ("cold --cache", "warm --cache"):  # fills, then reads
            row = timed([*roostr, *argv, *cache], env, Path.cwd())
            assert json.loads(row.pop("stdout")) == summaries["after", champion]
            _add(rows, {"code": "after", "run": f"{champion}, {run}", **row})
        agree = {
            run: summaries["after", run] == summaries["before", run]
            for run, _ in runs
            if ("before", run) in summaries
        }
    compared_with = args.before_ref or (str(args.before) if args.before else None)
    report = {"signals": args.signals, "world": world, "before": compared_with, "runs": rows,
              "summaries_agree": agree}  # fmt: skip
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{args.signals} signals, {world['ticks']} ticks over {args.span_days:g} days "
          f"(drawn in {world['draw_cpu_s']} CPU s, published in {world['publish_cpu_s']} CPU s, "
          f"{world['wall_s']} s wall); before: {report['before']}")  # fmt: skip
    for row in rows:
        print(_line(row))
    print(f"JSON summaries equal before/after: {agree}")


def _add(rows: list[dict[str, Any]], row: dict[str, Any]) -> None:
    """Keep a run's figures, with its wall and CPU time as multiples of the plain read's (the
    first row), and show them at once on stderr (a big world's runs take long)."""
    if rows:
        row["x_read_wall"] = round(row["wall_s"] / rows[0]["wall_s"], 2)
        row["x_read_cpu"] = round(row["cpu_s"] / rows[0]["cpu_s"], 2)
    rows.append(row)
    print(_line(row), file=sys.stderr, flush=True)


def _line(row: dict[str, Any]) -> str:
    ratio = ""
    if "x_read_wall" in row:
        ratio = f" = {row['x_read_wall']:5.2f} / {row['x_read_cpu']:5.2f} x read"
    return (f"{row['code']:>7} {row['run']:>34} {row['wall_s']:7.2f} s wall "
            f"{row['cpu_s']:7.2f} s CPU{ratio} {row['peak_rss_mib']:6d} MiB "
            f"load {row['load_1m']}")  # fmt: skip


def _backtest(since: datetime, end: datetime) -> list[str]:
    """``roostr backtest``'s arguments: the champion over ``since`` to ``end``, labels from
    prices, its JSON summary on stdout."""
    return ["backtest", "--from", since.date().isoformat(), "--to", end.date().isoformat(),
            "--json", "--no-progress"]  # fmt: skip


if __name__ == "__main__":
    main()
