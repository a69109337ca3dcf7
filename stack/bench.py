"""Benchmark: passthrough vs the scoring pipeline, end-to-end latency, scale-out, codecs.

Run it as ``roostr bench``. Everything runs against a broker this module starts itself (an
EmbeddedBroker on a free port) unless a broker is named (``--bootstrap-servers`` or the
environment); every client and child process it starts then uses the command's settings,
security included. Rates are measured from the broker timestamps of the output records (first
to last), so group-join time is not counted for either side.

- passthrough: the same client configuration, fetch step (``fetch_batch``) and commit protocol
  (``CommitQueue``) as the service, producing each record unchanged;
- pipeline: ``ScoringService`` itself (the code ``roostr consume`` runs), in a thread;
- latency: ``roostr consume`` as a separate process, a producer offering ``--rate`` signals/s,
  and a reader timing produce → scored record readable; then the same for the relay (the
  passthrough as its own process: consume → produce unchanged → commit) and for the broker's
  own single hop, so the pipeline's cost over a relay is read from one run;
- scale-out (``--scale-out``): one, then two ``roostr consume`` processes on the same backlog;
- exactly-once (``--transactional``): the pipeline's backlog rate and its latency again, with a
  Kafka transaction per batch.
"""

from __future__ import annotations

import cProfile
import gc
import json
import pstats
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import numpy as np
import orjson
from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, TopicPartition

from consumer.commit_queue import CommitQueue
from consumer.pipeline import next_offsets
from roostr.delivery import Output, deliver
from roostr.kafka import ensure_topics, make_consumer, make_producer
from roostr.settings import Settings
from roostr.synthetic.stream import encoded, synthetic_signals
from roostr.topic_reader import fetch_batch
from stack.broker import broker_for_run

__all__ = ["measurement_settings", "run"]


# --- set-up ------------------------------------------------------------------------------------


def measurement_settings(base: Settings, workdir: Path, partitions: int) -> Settings:
    """Fresh topics and group for one measurement, on ``base``'s broker connection.

    Every client and ``roostr consume`` child of the benchmark is made from these, so the
    connection settings (security protocol, SASL, CA) reach all of them.
    """
    return base.namespaced(
        f"bench-{uuid.uuid4().hex[:8]}",
        partitions_raw=partitions,
        partitions_default=1,
        session_timeout_ms=6_000,
        heartbeat_interval_ms=500,
        registry_dir=workdir / "models",
        http_port=0,
        mode="hybrid",
    )


def _settings(base: Settings, workdir: Path, partitions: int) -> Settings:
    """``measurement_settings`` with its topics created."""
    settings = measurement_settings(base, workdir, partitions)
    ensure_topics(settings)
    return settings


def _train_champion(registry_dir: Path) -> str:
    """A default-sized model trained on the training code's synthetic set."""
    from roostr.features import FEATURE_NAMES, FEATURE_SET_VERSION, FeatureExtractor
    from roostr.model import ConvictionModel
    from roostr.registry import ModelRegistry
    from training.synthetic import generate

    data = generate(600, seed=11)
    X = FeatureExtractor().advance(data.signals)
    model = ConvictionModel().fit(
        X, data.labels, feature_names=FEATURE_NAMES, feature_set_version=FEATURE_SET_VERSION
    )
    registry = ModelRegistry(registry_dir)
    version = registry.next_version(tag="bench")
    registry.register(model, version=version, metrics={}, training_data={"seed": 11})
    registry.promote(version)
    return version


def _payloads(count: int) -> list[tuple[bytes, bytes]]:
    return [encoded(s) for s in synthetic_signals(count, tickers=200, seed=3, prefix="bench")]


def _produce(settings: Settings, payloads: list[tuple[bytes, bytes]]) -> None:
    producer = make_producer(settings, **{"linger.ms": 20, "batch.size": 1_000_000})
    deliver(producer, (Output(settings.topic_raw, k, v) for k, v in payloads), timeout_s=120)


def _tail(settings: Settings, topic: str, start: int = OFFSET_BEGINNING) -> Consumer:
    reader = make_consumer(settings, f"bench-reader-{uuid.uuid4().hex[:8]}", **{
        "fetch.wait.max.ms": 5,
    })  # fmt: skip
    partitions = reader.list_topics(topic, timeout=10).topics[topic].partitions
    reader.assign([TopicPartition(topic, p, start) for p in partitions])
    return reader


def _output_rate(settings: Settings, topic: str, expected: int, timeout_s: float) -> float:
    """Records per second between the first and last output's broker timestamps."""
    reader = _tail(settings, topic)
    stamps: list[int] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(stamps) < expected and time.monotonic() < deadline:
            stamps += [m.timestamp()[1] for m in reader.consume(5000, 0.5) if m.error() is None]
    finally:
        reader.close()
    if len(stamps) < expected:
        raise RuntimeError(f"only {len(stamps)} of {expected} outputs within {timeout_s}s")
    span_s = max((max(stamps) - min(stamps)) / 1000, 1e-3)
    return (len(stamps) - 1) / span_s


# --- (a) passthrough -----------------------------------------------------------------------------


def relay(settings: Settings, done: Callable[[int], bool]) -> None:
    """Consume a batch, produce it unchanged to the scored topic, until ``done(count)``.

    The service's loop and commit protocol (same clients, ``fetch_batch``, ``CommitQueue``)
    without decoding or scoring: the ceiling for this client and broker, and at a steady load
    the latency any consume → produce service pays.
    """
    out_topic = settings.topic_scored
    commits: CommitQueue  # the consumer hands its commits' results to the queue built on it
    consumer = make_consumer(
        settings, settings.group_scoring, on_commit=lambda e, p: commits.settle(e, p)
    )
    commits = CommitQueue(
        consumer,
        make_producer(settings),
        max_records=settings.batch_size,
        commit_interval_s=settings.commit_interval_ms / 1000,
    )
    consumer.subscribe(
        [settings.topic_raw],
        on_revoke=lambda _c, revoked: commits.release((tp.topic, tp.partition) for tp in revoked),
    )
    relayed = 0
    try:
        while not done(relayed):
            wait_s = commits.fetch_wait(settings.batch_wait_ms / 1000)
            messages = fetch_batch(consumer, settings.batch_size, wait_s, "bench")
            if messages:
                outputs = [Output(out_topic, m.key(), m.value()) for m in messages]
                commits.send(outputs, next_offsets(messages))
                relayed += len(messages)
            commits.poll()
        commits.drain()
    finally:
        consumer.close()


def passthrough_rate(settings: Settings, count: int) -> float:
    """The relay draining a backlog of ``count`` records: its output rate."""
    deadline = time.monotonic() + 300
    relay(settings, lambda relayed: relayed >= count or time.monotonic() > deadline)
    return _output_rate(settings, settings.topic_scored, count, 60)


def _serve_relay() -> None:
    """``python -m stack.bench relay``: the relay as its own process, until SIGTERM."""
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stopping.set())
    relay(Settings(), lambda _relayed: stopping.is_set())


# --- (b) pipeline ---------------------------------------------------------------------------------


def pipeline_rate(
    settings: Settings, count: int, profile: Path | None, transactional: bool = False
) -> tuple[float, str]:
    """The shipped ScoringService on the same backlog; returns the rate and a profile summary."""
    from consumer.service import ScoringService

    service = ScoringService(settings, transactional=transactional)
    profiler = cProfile.Profile() if profile else None

    def run() -> None:
        if profiler is not None:
            profiler.enable()
        service.run()
        if profiler is not None:
            profiler.disable()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        rate = _output_rate(settings, settings.topic_scored, count, 300)
    finally:
        service.stop()
        thread.join(60)
    summary = ""
    if profiler is not None and profile is not None:
        profiler.dump_stats(profile)
        stream = _StringSink()
        pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(25)  # type: ignore[arg-type]
        summary = stream.text
    return rate, summary


class _StringSink:
    def __init__(self) -> None:
        self.text = ""

    def write(self, chunk: str) -> int:
        self.text += chunk
        return len(chunk)


# --- (c) latency, scale-out: separate processes --------------------------------------------------


def _consume_process(
    settings: Settings, log: Path, command: tuple[str, ...] = ("stack", "consume")
) -> subprocess.Popen[bytes]:
    """``roostr consume`` (or ``command``, a module and its arguments) on ``settings``."""
    env = settings.child_env()
    with log.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", *command, "--log-level", "WARNING"],
            env=env, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_scoring(settings: Settings, processes: list[subprocess.Popen[bytes]]) -> None:
    """Until every member has joined: a probe record per partition comes back scored."""
    probes = _payloads(4 * settings.partitions_raw)
    reader = _tail(settings, settings.topic_scored, OFFSET_END)
    _produce(settings, probes)
    seen = 0
    deadline = time.monotonic() + 90
    try:
        while seen < len(probes) and time.monotonic() < deadline:
            if any(p.poll() is not None for p in processes):
                raise RuntimeError("a consumer process exited during start-up")
            seen += sum(1 for m in reader.consume(500, 0.5) if m.error() is None)
    finally:
        reader.close()
    time.sleep(3)  # let the last joiner's rebalance settle


def latency_ms(
    settings: Settings,
    rate: int,
    seconds: float,
    workdir: Path,
    name: str = "latency",
    command: tuple[str, ...] = ("stack", "consume"),
) -> dict[str, float]:
    """Produce → output readable, at a steady offered load, through one ``command`` process.

    ``roostr consume`` by default (``latency_ms_*``); the relay (``relay_ms_*``) measures what
    the same clients and commit protocol cost without scoring.
    """
    process = _consume_process(settings, workdir / f"{name}-consumer.log", command)
    try:
        _wait_scoring(settings, [process])
        reader = _tail(settings, settings.topic_scored, OFFSET_END)
        reader.consume(1, 1.0)  # settle the assignment at the end offsets
        sent: dict[str, float] = {}
        latencies: list[float] = []
        producer = make_producer(settings, **{"linger.ms": 0})
        # An idempotent producer sends nothing until it has its producer id (~0.5 s on Tansu):
        # get it before the clock starts, as a long-running scraper shim would have.
        deliver(producer, [Output(settings.topic_prices, None, b"warm-up")], 30)
        payloads = [encoded(s) for s in synthetic_signals(int(rate * seconds), prefix=name)]

        def offer() -> None:
            started = time.perf_counter()
            for i, (key, value) in enumerate(payloads):
                pause = started + i / rate - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                sent[orjson.loads(value)["signal_id"]] = time.perf_counter()
                producer.produce(settings.topic_raw, key=key, value=value)
                producer.poll(0)
            producer.flush(30)

        thread = threading.Thread(target=offer, daemon=True)
        thread.start()
        deadline = time.monotonic() + seconds + 60
        while len(latencies) < len(payloads) and time.monotonic() < deadline:
            # fetch_batch returns as soon as a record arrives; ``consume(n, timeout)`` would
            # wait for n records or the whole timeout, adding up to that timeout to each figure.
            batch = fetch_batch(reader, 1000, 0.05, "bench")
            arrived = time.perf_counter()
            for message in batch:
                signal_id = orjson.loads(message.value() or b"")["signal_id"]
                if signal_id in sent:
                    latencies.append((arrived - sent[signal_id]) * 1000)
        thread.join(30)
        reader.close()
    finally:
        _stop([process])
    p50, p95, p99 = np.percentile(latencies, [50, 95, 99]) if latencies else (np.nan,) * 3
    return {
        f"{name}_ms_p50": round(float(p50), 2),
        f"{name}_ms_p95": round(float(p95), 2),
        f"{name}_ms_p99": round(float(p99), 2),
        f"{name}_samples": len(latencies),
        f"{name}_offered": len(payloads),
    }


def broker_hop_ms(settings: Settings, rate: int, seconds: float) -> dict[str, float]:
    """The broker's own produce → readable latency at the same load: the floor for one hop."""
    reader = _tail(settings, settings.topic_raw, OFFSET_END)
    reader.consume(1, 1.0)
    producer = make_producer(settings, **{"linger.ms": 0})
    deliver(producer, [Output(settings.topic_prices, None, b"warm-up")], 30)
    sent: list[float] = []
    latencies: list[float] = []
    total = int(rate * seconds)
    started = time.perf_counter()
    while len(latencies) < total and time.perf_counter() - started < seconds + 30:
        due = min(total, int((time.perf_counter() - started) * rate) + 1)
        while len(sent) < due:
            producer.produce(settings.topic_raw, value=str(len(sent)).encode())
            sent.append(time.perf_counter())
        producer.poll(0)
        for message in reader.consume(1000, 0.001):
            if message.error() is None:
                latencies.append((time.perf_counter() - sent[int(message.value() or b"")]) * 1000)
    reader.close()
    p50, p99 = np.percentile(latencies, [50, 99])
    return {"broker_hop_ms_p50": round(float(p50), 2), "broker_hop_ms_p99": round(float(p99), 2)}


def scale_out_rate(settings: Settings, members: int, count: int, workdir: Path) -> float:
    """Output rate of ``members`` consumer processes draining one backlog.

    The backlog is produced before the members start, so the load generator does not compete
    with them for the machine's cores; the span (first to last output) includes the members'
    joins and the rebalance between them, as a real scale-out does.
    """
    _produce(settings, _payloads(count))
    processes = [
        _consume_process(settings, workdir / f"scale-{members}-{i}.log") for i in range(members)
    ]
    try:
        rate = _output_rate(settings, settings.topic_scored, count, 300)
    finally:
        _stop(processes)
    return rate


# --- codecs ---------------------------------------------------------------------------------------


def codec_micro(count: int = 2000) -> dict[str, float]:
    """Microseconds per record for the decode and encode choices (same records, same process)."""
    from pydantic import TypeAdapter

    from consumer.pipeline import encode_scored
    from roostr.contracts import RawSignal, ScoredSignal
    from roostr.features import FeatureExtractor
    from roostr.scoring import Scorer

    values = [v for _k, v in _payloads(count)]
    results: dict[str, float] = {}

    def timed(name: str, fn: Any, repeat: int = 3) -> Any:
        """Best of ``repeat`` runs, garbage collected before each (steady state, not GC luck)."""
        best = float("inf")
        for _ in range(repeat):
            gc.collect()
            started = time.perf_counter()
            out = fn()
            best = min(best, time.perf_counter() - started)
        results[name] = round(best / count * 1e6, 2)
        return out

    signals = timed("decode_us_model_validate_json", lambda: [
        RawSignal.model_validate_json(v) for v in values
    ])  # fmt: skip
    timed("decode_us_orjson_then_model_validate", lambda: [
        RawSignal.model_validate(orjson.loads(v)) for v in values
    ])  # fmt: skip
    # Once only: text features are cached per message, and a live stream rarely repeats one.
    records = timed("score_us_scorer_rules_mode", lambda: Scorer(FeatureExtractor(), None, "rules")
                    .score_records(signals, datetime.now(UTC)), repeat=1)  # fmt: skip
    timed("encode_us_orjson_records", lambda: [encode_scored(r) for r in records])
    # The replaced path, for comparison: a ScoredSignal per record, pydantic's serializer.
    scored = [ScoredSignal.model_validate(r) for r in records]
    adapter = TypeAdapter(ScoredSignal)
    timed("encode_us_typeadapter_dump_json", lambda: [adapter.dump_json(s) for s in scored])
    return results


# --- entry point ----------------------------------------------------------------------------------


def run(
    settings: Settings,
    *,
    embedded: bool,
    messages: int = 50_000,
    partitions: int = 6,
    rate: int = 1_000,
    seconds: float = 10.0,
    scale_out: bool = False,
    transactional: bool = False,
    profile: Path | None = None,
    as_json: bool = False,
) -> int:
    """Every measurement in turn; prints the results (one JSON object with ``as_json``).

    ``embedded``: start a broker for the run instead of using ``settings.bootstrap_servers``.
    ``transactional``: also measure ``roostr consume --transactional`` (exactly-once) on the
    same backlog and load, so both delivery modes are compared within one run.
    """
    from roostr.logs import configure_logging

    configure_logging("WARNING")
    result: dict[str, Any] = {"messages": messages, "partitions": partitions}
    with broker_for_run(settings, embedded) as base, TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        payloads = _payloads(messages)
        result["message_bytes_avg"] = round(sum(len(v) for _k, v in payloads) / len(payloads))

        measured = _settings(base, workdir, partitions)
        _produce(measured, payloads)
        result["passthrough_per_s"] = round(passthrough_rate(measured, messages))

        measured = _settings(base, workdir, partitions)
        result["model_version"] = _train_champion(measured.registry_dir)
        _produce(measured, payloads)
        pipeline_per_s, profile_text = pipeline_rate(measured, messages, profile)
        result["pipeline_per_s"] = round(pipeline_per_s)
        result["ratio"] = round(pipeline_per_s / result["passthrough_per_s"], 3)

        result.update(latency_ms(_settings(base, workdir, partitions), rate, seconds, workdir))
        result["latency_offered_per_s"] = rate
        if transactional:  # exactly-once beside at-least-once: same broker, same backlog
            measured = _settings(base, workdir, partitions)
            _produce(measured, payloads)
            eos_per_s, _profile = pipeline_rate(measured, messages, None, transactional=True)
            result["pipeline_transactional_per_s"] = round(eos_per_s)
            result.update(latency_ms(
                _settings(base, workdir, partitions), rate, seconds, workdir,
                "latency_transactional", ("stack", "consume", "--transactional"),
            ))  # fmt: skip
        relay_settings = _settings(base, workdir, partitions)
        result.update(
            latency_ms(relay_settings, rate, seconds, workdir, "relay", ("stack.bench", "relay"))
        )
        result.update(broker_hop_ms(_settings(base, workdir, partitions), rate, seconds))

        if scale_out:
            one = scale_out_rate(_settings(base, workdir, partitions), 1, messages, workdir)
            two = scale_out_rate(_settings(base, workdir, partitions), 2, messages, workdir)
            result.update(one_process_per_s=round(one), two_processes_per_s=round(two),
                          scale_out_ratio=round(two / one, 3))  # fmt: skip
        result.update(codec_micro())
    if as_json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:40} {value}")
        if profile_text:
            print("\nprofile of the pipeline run (by own time):\n" + profile_text)
    return 0


if __name__ == "__main__" and sys.argv[1:2] == ["relay"]:
    _serve_relay()
