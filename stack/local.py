"""`roostr up`: the whole pipeline on one machine, as the real separate processes.

Embedded broker (unless a broker is configured) → topics → a bootstrap champion model if the
registry has none → one scoring consumer process → the bundled sample signals published through
the producer shim → scored signals read back the way a trading bot reads them, and summarised.

The terminal shows stages and the table; the broker and every child process log to files in the
run folder (``run_dir``), as in ``roostr demo``, so JSON log lines never interleave with the
table.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from contextlib import ExitStack, suppress
from importlib.resources import files
from pathlib import Path
from typing import IO

from roostr.contracts import ScoredSignal
from roostr.settings import Settings

__all__ = ["SAMPLE_SIGNALS", "run_local_stack"]

SAMPLE_SIGNALS = Path(str(files("roostr") / "data" / "sample_signals.jsonl"))


def _roostr(*args: str) -> list[str]:
    return [sys.executable, "-m", "stack", *args]


def _signal_ids(path: Path) -> set[str]:
    """The sample's signal ids (a line that is not a JSON object is rejected by the publisher)."""
    ids = set()
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            with suppress(ValueError, TypeError, KeyError):
                ids.add(str(json.loads(line)["signal_id"]))
    return ids


def run_local_stack(
    settings: Settings,
    *,
    embedded: bool,
    serve: bool,
    run_dir: Path,
    sample: Path = SAMPLE_SIGNALS,
    timeout_s: float = 120.0,
) -> int:
    """Run the pipeline on ``sample``; print what the bots would see; keep serving if asked."""
    from consumer.bot_reader import ScoredSignalReader
    from roostr.embedded_broker import EmbeddedBroker, free_port
    from roostr.kafka import ensure_topics
    from roostr.registry import ModelRegistry

    run_dir.mkdir(parents=True, exist_ok=True)
    print(f"roostr up · logs in {run_dir}", flush=True)
    with ExitStack() as stack:
        if embedded:
            broker = stack.enter_context(
                EmbeddedBroker(port=free_port(), log_path=run_dir / "broker.log")
            )
            settings = settings.model_copy(update={"bootstrap_servers": broker.bootstrap_servers})
            print(f"embedded broker at {broker.bootstrap_servers}", flush=True)
        env = settings.child_env()

        def log_to(name: str) -> IO[bytes]:
            return stack.enter_context((run_dir / f"{name}.log").open("ab"))

        ensure_topics(settings)
        registry = ModelRegistry(settings.registry_dir)
        if registry.champion() is None:
            print("no champion model yet: training the bootstrap model", flush=True)
            train = log_to("train")
            subprocess.run(
                _roostr("train", "--bootstrap"), env=env, check=True, stdout=train, stderr=train
            )
        print(f"champion: {registry.champion()}", flush=True)

        consume = log_to("consume")
        scorer = subprocess.Popen(_roostr("consume"), env=env, stdout=consume, stderr=consume)
        stack.callback(_stop, scorer)

        wanted = _signal_ids(sample)
        publish = log_to("publish")
        published = subprocess.run(
            _roostr("publish", str(sample)), env=env, stdout=publish, stderr=publish
        )
        if published.returncode != 0:
            print(f"some sample lines were rejected: {run_dir / 'publish.log'}", file=sys.stderr)

        reader = stack.enter_context(ScoredSignalReader(settings, group_id=None))
        scored: dict[str, ScoredSignal] = {}
        deadline = time.monotonic() + timeout_s
        while not wanted <= scored.keys() and time.monotonic() < deadline:
            if scorer.poll() is not None:
                print(
                    f"scoring consumer exited with {scorer.returncode}: {run_dir / 'consume.log'}",
                    file=sys.stderr,
                )
                return 1
            for signal_ in reader.read(timeout_s=1.0):
                scored[signal_.signal_id] = signal_
        _print_summary([scored[i] for i in wanted if i in scored], len(wanted))
        if others := len(scored.keys() - wanted):
            print(
                f"also on the topic: {others} scored signal(s) not in this sample (an earlier "
                "run's, or re-sent from the publisher's spool of an earlier run)"
            )
        if not wanted <= scored.keys():
            return 1
        if serve:
            print("serving: publish to the raw topic; Ctrl-C stops", flush=True)
            with suppress(KeyboardInterrupt):
                scorer.wait()
    return 0


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def _print_summary(scored: list[ScoredSignal], expected: int) -> None:
    tiers = Counter(s.tier for s in scored)
    degraded = sum(s.degraded for s in scored)
    print(f"\nscored {len(scored)} of {expected} sample signals; degraded: {degraded}")
    print(
        "tiers: "
        + ", ".join(f"{tier} {tiers.get(tier, 0)}" for tier in ("high", "medium", "low", "avoid"))
    )
    print(f"\n{'ticker':<8}{'final':>6}{'rule':>6}{'ml':>6}  {'P(2x)':>6}  tier    top reason")
    for s in sorted(scored, key=lambda s: (-s.final_score, -(s.ml_probability or 0)))[:15]:
        reason = s.reasons[0].feature if s.reasons else "-"
        probability = f"{s.ml_probability:.2f}" if s.ml_probability is not None else "-"
        print(
            f"{s.ticker:<8}{s.final_score:>6}{s.rule_score:>6}{s.ml_score or '-':>6}  "
            f"{probability:>6}  {s.tier:<7} {reason}"
        )
