"""How fast a scoring member comes back with a long retained history (issue 9's restore target).

Produces ``--signals`` records to a fresh raw topic, lets one ``roostr consume`` process score
them all, stops it, then measures for a restarted member: process start → first probe record
scored (group join, snapshot restore and tail replay included), and what it restored. Then a
rebalance 1 → 2 → 1: what the second member restored, and what the first restored back.

    python benchmarks/restore_bench.py --signals 1000000 [--bootstrap-servers HOST:PORT] [--json]

Prints figures; asserts nothing (speed is measured here, never in tests).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from confluent_kafka import OFFSET_END, Consumer, TopicPartition

from roostr.delivery import Output, deliver
from roostr.embedded_broker import named_or_embedded
from roostr.kafka import ensure_topics, make_consumer, make_producer
from roostr.settings import Settings
from roostr.synthetic.stream import encoded, synthetic_signals

START = datetime(2024, 1, 1, tzinfo=UTC)


def produce(settings: Settings, documents: Iterable[dict]) -> None:
    producer = make_producer(settings, **{"linger.ms": 20, "batch.size": 1_000_000})
    outputs = (Output(settings.topic_raw, *encoded(document)) for document in documents)
    deliver(producer, outputs, timeout_s=300)


def member(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "stack", "consume"],
            env=settings.child_env(), stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip


def events(log: Path, name: str) -> list[dict]:
    found = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("event") == name:
            found.append(event)
    return found


def wait_for(condition: Callable[[], object], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise RuntimeError(f"timed out waiting for {what}")


def committed_total(settings: Settings) -> int:
    reader = Consumer({**settings.kafka_common(), "group.id": settings.group_scoring})
    try:
        partitions = [TopicPartition(settings.topic_raw, p) for p in range(settings.partitions_raw)]
        return sum(max(tp.offset, 0) for tp in reader.committed(partitions, timeout=10))
    finally:
        reader.close()


def scored_tail(settings: Settings) -> Consumer:
    """A reader of ``signals.scored`` positioned at its end (before the probes exist)."""
    reader = make_consumer(settings, f"restore-bench-{uuid.uuid4().hex[:8]}")
    partitions = reader.list_topics(settings.topic_scored, timeout=10)
    reader.assign(
        [
            TopicPartition(settings.topic_scored, p, OFFSET_END)
            for p in partitions.topics[settings.topic_scored].partitions
        ]
    )
    reader.consume(1, 1.0)
    return reader


def probe_times(reader: Consumer, probes: int, timeout_s: float) -> list[float]:
    """Monotonic times at which each probe came back scored."""
    seen: list[float] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(seen) < probes and time.monotonic() < deadline:
            for message in reader.consume(100, 0.2):
                if message.error() is None and b'"restore-probe' in (message.value() or b""):
                    seen.append(time.monotonic())
    finally:
        reader.close()
    return seen


def run(signals: int, servers: str | None) -> dict[str, object]:
    workdir = Path(tempfile.mkdtemp(prefix="restore-bench-"))
    with named_or_embedded(servers, workdir / "broker.log") as bootstrap:
        settings = Settings(bootstrap_servers=bootstrap).namespaced(
            uuid.uuid4().hex[:8], partitions_raw=12, partitions_default=1, mode="rules",
            registry_dir=workdir / "models", http_port=0, session_timeout_ms=6_000,
            heartbeat_interval_ms=500,
        )  # fmt: skip
        ensure_topics(settings)
        started = time.monotonic()
        produce(settings, synthetic_signals(signals, tickers=2_000, seed=5, start=START))
        produced_s = time.monotonic() - started

        first_log = workdir / "first.log"
        first = member(settings, first_log)
        started = time.monotonic()
        wait_for(lambda: committed_total(settings) >= signals, 3_600, "the history to be scored")
        scored_s = time.monotonic() - started
        first.terminate()
        first.wait(60)

        restarted_log = workdir / "restarted.log"
        reader = scored_tail(settings)
        launched = time.monotonic()
        restarted = member(settings, restarted_log)
        last = START + timedelta(minutes=signals)
        probes = [
            {**doc, "signal_id": f"restore-probe:{i}"}
            for i, doc in enumerate(synthetic_signals(24, tickers=2_000, seed=9, start=last))
        ]
        produce(settings, probes)
        times = probe_times(reader, len(probes), 120)
        restore = events(restarted_log, "feature_state_restored")

        second_log = workdir / "second.log"
        second = member(settings, second_log)
        wait_for(lambda: bool(events(second_log, "feature_state_restored")), 120, "rebalance")
        moved = events(second_log, "feature_state_restored")
        second.terminate()
        second.wait(60)
        wait_for(lambda: len(events(restarted_log, "feature_state_restored")) > 1, 120, "return")
        back = events(restarted_log, "feature_state_restored")[1:]
        restarted.terminate()
        restarted.wait(60)

    def summary(found: list[dict]) -> dict[str, object]:
        return {
            "partitions": sorted(p for e in found for p in e["partitions"]),
            "snapshot_entries": sum(e["snapshot_entries"] for e in found),
            "tail_records": sum(e["tail_records"] for e in found),
            "ms": round(sum(e["ms"] for e in found), 1),
        }

    return {
        "signals_retained": signals,
        "produce_s": round(produced_s, 1),
        "score_history_s": round(scored_s, 1),
        "restart_to_first_scored_s": round(times[0] - launched, 2) if times else None,
        "restart_to_all_probes_scored_s": round(times[-1] - launched, 2) if times else None,
        "restart_restore": summary(restore),
        "rebalance_second_member_restore": summary(moved),
        "rebalance_back_restore": summary(back),
        "logs": str(workdir),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", type=int, default=1_000_000)
    parser.add_argument("--bootstrap-servers", default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = run(args.signals, args.bootstrap_servers)
    if args.json:
        print(json.dumps(figures))
    else:
        for name, value in figures.items():
            print(f"{name:34} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
