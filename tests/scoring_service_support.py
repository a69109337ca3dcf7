"""Shared steps of the scoring-service tests: models, input records, consumer processes, reads."""

from __future__ import annotations

import ctypes
import json
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from confluent_kafka import Message
from conftest import ROOSTR
from topic_reading import read_topic

from consumer.service import ScoringService
from roostr.contracts import DeadLetter, Mode, RawSignal, ScoredSignal
from roostr.delivery import Output, deliver
from roostr.features import FEATURE_NAMES, FEATURE_SET_VERSION, FeatureExtractor
from roostr.kafka import make_producer
from roostr.model import ConvictionModel
from roostr.registry import ModelRegistry
from roostr.scoring import Scorer, scored_signals
from roostr.settings import Settings
from roostr.synthetic.stream import encoded, synthetic_signals
from roostr.synthetic.world import World


def failing_once(original: Callable[..., Any]) -> Callable[..., Any]:
    """``original``, except that its first call raises TopicUnreadable (a restore that could not
    read its changelog to the end)."""
    from roostr.errors import TopicUnreadable

    calls = []

    def restore(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        if len(calls) == 1:
            raise TopicUnreadable("injected: changelog not read to its end")
        return original(*args, **kwargs)

    return restore


def train_tiny_model(registry: ModelRegistry, seed: int, promote: bool = True) -> str:
    """A small real XGBoost model on the training code's synthetic set; returns its version."""
    from training.synthetic import generate

    data = generate(300, seed=seed)
    X = FeatureExtractor().advance(data.signals)
    model = ConvictionModel(n_estimators=15 + seed, max_depth=3, random_state=seed).fit(
        X, data.labels, feature_names=FEATURE_NAMES, feature_set_version=FEATURE_SET_VERSION
    )
    version = registry.next_version(tag=f"test{seed}")
    registry.register(model, version=version, metrics={}, training_data={"seed": seed})
    if promote:
        registry.promote(version)
    return version


def good_records(count: int, prefix: str = "good", seed: int = 7) -> list[tuple[bytes, bytes]]:
    return [encoded(s) for s in synthetic_signals(count, tickers=12, seed=seed, prefix=prefix)]


def produce(
    settings: Settings, records: Iterable[tuple[bytes | None, bytes]], partition: int | None = None
) -> int:
    producer = make_producer(settings, **{"linger.ms": 0})
    count = 0
    for key, value in records:
        extra = {} if partition is None else {"partition": partition}
        producer.produce(settings.topic_raw, key=key, value=value, **extra)
        producer.poll(0)
        count += 1
    assert producer.flush(30) == 0
    return count


def publish(settings: Settings, topic: str, records: Iterable[Any]) -> None:
    """Contract records (anything with a ``ticker``) as JSON to ``topic``, keyed by ticker."""
    outputs = (Output(topic, r.ticker.encode(), r.model_dump_json().encode()) for r in records)
    deliver(make_producer(settings, **{"linger.ms": 5}), outputs, timeout_s=60)


def _die_with_parent() -> None:
    """Linux: the kernel kills the child when the test process dies (even by a signal or a
    crash), so no member outlives its test and loads the next ones' machine."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


_PR_SET_PDEATHSIG = 1


class LoggedProcess:
    """A child process whose stdout and stderr go to ``log_path``, stopped by the test."""

    def __init__(self, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            argv, env=env, stdout=self._log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
        )

    def tail(self) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-30:])

    def terminate(self, timeout_s: float = 30.0) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.wait(timeout_s)

    def kill(self) -> None:
        self.process.kill()
        self.wait(10)

    def wait(self, timeout_s: float) -> int:
        try:
            return self.process.wait(timeout_s)
        finally:
            self._log.close()

    def ensure_stopped(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._log.close()


class ConsumerProcess(LoggedProcess):
    """``roostr consume`` (or another service ``command``) as a process, logging to a file."""

    def __init__(
        self, settings: Settings, log_dir: Path, name: str, *args: str,
        command: str = "consume", **env: str,
    ) -> None:  # fmt: skip
        environment = {
            **settings.child_env(), "ROOSTR_HTTP_PORT": "0", "ROOSTR_JOINER_HTTP_PORT": "0", **env
        }  # fmt: skip
        super().__init__([*ROOSTR, command, *args], environment, log_dir / f"{name}.log")

    def events(self, name: str | None = None) -> list[dict]:
        found = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if name is None or event.get("event") == name:
                found.append(event)
        return found

    def wait_for_event(self, name: str, timeout_s: float = 60.0) -> dict:
        wait_until(
            lambda: bool(self.events(name)) or self.process.poll() is not None,
            timeout_s,
            f"event {name}",
        )
        assert self.events(name), f"process exited {self.process.returncode}: {self.tail()}"
        return self.events(name)[-1]


class RunningService:
    """A ScoringService in a thread of the test process (its collaborators can be patched)."""

    def __init__(self, settings: Settings, transactional: bool = False) -> None:
        self.service = ScoringService(
            settings, model_check_interval_s=60, transactional=transactional
        )
        self.thread = threading.Thread(target=self.service.run, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.service.stop()
        self.thread.join(60)
        assert not self.thread.is_alive()


def half_scored_by_a_member_that_left(
    settings: Settings, records: list[tuple[bytes, bytes]], transactional: bool = False
) -> None:
    """The first half of ``records`` scored by a member that then left (its snapshots taken,
    its offsets committed); the second half produced for the next member."""
    half = len(records) // 2
    produce(settings, records[:half])
    first = RunningService(settings, transactional)
    read_outputs(settings, expected=half)
    first.stop()
    produce(settings, records[half:])


def http_get(port: int, path: str) -> tuple[int, str]:
    """Status and body of a GET on the service's HTTP port (an error status is an answer too)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def metric(port: int, name: str) -> float | None:
    """The value of the unlabelled sample ``name`` on ``/metrics`` (Prometheus text format)."""
    for line in http_get(port, "/metrics")[1].splitlines():
        sample, _, value = line.partition(" ")
        if sample == name:
            return float(value)
    return None


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def read_outputs(
    settings: Settings, expected: int, timeout_s: float = 60.0
) -> tuple[list[ScoredSignal], list[DeadLetter]]:
    """Every scored signal and dead letter so far (waits until ``expected`` distinct inputs).

    Re-reads both topics from the beginning each round (small test topics), so the last read
    also holds any duplicates that arrived while waiting. Duplicates do not count towards
    ``expected``: a re-emitted record must not hide one still on its way.
    """
    scored: list[Message] = []
    dead: list[Message] = []
    deadline = time.monotonic() + timeout_s
    while _distinct_inputs(scored, dead) < expected and time.monotonic() < deadline:
        dead = read_topic(settings, settings.topic_dlq, 0, timeout_s=1.0, settle_s=0.5)
        scored = read_topic(settings, settings.topic_scored, 0, timeout_s=1.0, settle_s=1.0)
    return (
        [ScoredSignal.model_validate_json(m.value()) for m in scored],
        [DeadLetter.model_validate_json(m.value()) for m in dead],
    )


def _distinct_inputs(scored: list[Message], dead: list[Message]) -> int:
    """Scored signals counted once per signal_id, dead letters once per source offset."""
    ids = {json.loads(m.value())["signal_id"] for m in scored}
    offsets = {(d["partition"], d["offset"]) for d in (json.loads(m.value()) for m in dead)}
    return len(ids) + len(offsets)


def without_scored_at(signal: ScoredSignal) -> dict:
    return signal.model_dump(mode="json", exclude={"scored_at"})


class SteadyProducer(threading.Thread):
    """Produces ``records`` at about ``rate`` per second in the background (keys = tickers)."""

    def __init__(self, settings: Settings, records: list[tuple[bytes, bytes]], rate: float) -> None:
        super().__init__(daemon=True)
        self.settings, self.records, self.rate = settings, records, rate
        self.sent = 0

    def run(self) -> None:
        producer = make_producer(self.settings, **{"linger.ms": 0})
        started = time.monotonic()
        for i, (key, value) in enumerate(self.records):
            pause = started + i / self.rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            producer.produce(self.settings.topic_raw, key=key, value=value)
            producer.poll(0)
            self.sent = i + 1
        assert producer.flush(30) == 0


def assert_each_input_once_after_dedupe(
    scored: list[ScoredSignal], expected_ids: set[str], allow_duplicates: bool
) -> int:
    """No input missing; a duplicate is identical apart from scored_at. Returns duplicates."""
    by_id: dict[str, dict] = {}
    duplicates = 0
    for record in scored:
        content = without_scored_at(record)
        if record.signal_id in by_id:
            duplicates += 1
            assert by_id[record.signal_id] == content, f"{record.signal_id} re-emitted differently"
        by_id[record.signal_id] = content
    missing, extra = expected_ids - set(by_id), set(by_id) - expected_ids
    assert not missing and not extra, f"missing {sorted(missing)[:5]}, extra {sorted(extra)[:5]}"
    assert allow_duplicates or duplicates == 0, f"{duplicates} duplicates"
    return duplicates


def assert_scored_as_one_clean_run(
    scored: list[ScoredSignal],
    records: list[tuple[bytes, bytes]],
    model: ConvictionModel | None,
    mode: Mode,
) -> None:
    """Each scored record (duplicates too) is, apart from scored_at, what one uninterrupted
    in-process Scorer gives for ``records`` in production order: no crash, restart, rebalance or
    partition placement changed a feature or a score."""
    signals = [RawSignal.model_validate_json(value) for _key, value in records]
    clean = scored_signals(
        Scorer(FeatureExtractor(), model=model, mode=mode).score_records(signals, datetime.now(UTC))
    )
    expected = {s.signal_id: without_scored_at(s) for s in clean}
    for record in scored:
        assert without_scored_at(record) == expected[record.signal_id], record.signal_id


def score_world_live(
    settings: Settings,
    log_dir: Path,
    world: World,
    *args: str,
    members: int = 1,
    kill_after: int | None = None,
) -> None:
    """Real ``roostr join`` and ``members`` ``roostr consume`` processes (with ``args``): the
    joiner announces its partitions before the consumers start; then the world's signals and
    prices are published at once (an accelerated replay) and all stop cleanly once every
    signal is scored. With ``kill_after``, the first member is killed (-9) once that many
    signals are scored, and a new one takes its place."""
    from training.outcomes_topic import read_label_cutoff

    def scored() -> int:
        records = read_topic(settings, settings.topic_scored, 0, 1.0, 0.5)
        return len({json.loads(m.value() or b"{}")["signal_id"] for m in records})

    joiner = ConsumerProcess(settings, log_dir, "joiner", command="join")
    consumers: list[ConsumerProcess] = []
    try:
        wait_until(lambda: read_label_cutoff(settings) is not None, 60, "a label cutoff")
        for i in range(members):
            consumers.append(ConsumerProcess(settings, log_dir, f"consumer-{i}", *args))
        for consumer in consumers:
            consumer.wait_for_event("partitions_assigned")
        publish(settings, settings.topic_raw, world.signals)
        publish(
            settings, settings.topic_prices, [t for p in world.prices.values() for t in p.ticks()]
        )
        if kill_after is not None:
            wait_until(lambda: scored() >= kill_after, 240, f"{kill_after} scored")
            consumers[0].kill()
            consumers.append(ConsumerProcess(settings, log_dir, "consumer-new", *args))
            # it joins while the dead member's partitions move (a stop before its signal
            # handler is in place would not be a clean one)
            consumers[-1].wait_for_event("partitions_assigned")
        wait_until(lambda: scored() >= len(world.signals), 240, "all scored")
        alive = consumers[1:] if kill_after is not None else consumers
        assert all(c.terminate() == 0 for c in alive) and joiner.terminate() == 0
    finally:
        for consumer in consumers:
            consumer.ensure_stopped()
        joiner.ensure_stopped()
