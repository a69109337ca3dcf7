"""`roostr up`: the whole pipeline on one machine, as the real separate processes.

Embedded broker (unless a broker is configured) → topics → a bootstrap champion model if the
registry has none → one scoring consumer process → the bundled sample signals published through
the producer shim → scored signals read back the way a trading bot reads them, and summarised.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from contextlib import ExitStack, suppress
from importlib.resources import files
from pathlib import Path

from roostr.contracts import ScoredSignal
from roostr.settings import Settings

__all__ = ["SAMPLE_SIGNALS", "run_local_stack"]

SAMPLE_SIGNALS = Path(str(files("roostr") / "data" / "sample_signals.jsonl"))


def _roostr(*args: str) -> list[str]:
    return [sys.executable, "-m", "roostr", *args]


def _count_lines(path: Path) -> int:
    with path.open(encoding="utf-8") as handle:
        return sum(1 for line in handle if line.strip())


def run_local_stack(
    settings: Settings,
    *,
    embedded: bool,
    serve: bool,
    sample: Path = SAMPLE_SIGNALS,
    timeout_s: float = 120.0,
) -> int:
    """Run the pipeline on ``sample``; print what the bots would see; keep serving if asked."""
    from consumer.bot_reader import ScoredSignalReader
    from roostr.embedded_broker import EmbeddedBroker, free_port
    from roostr.kafka import ensure_topics
    from roostr.registry import ModelRegistry

    with ExitStack() as stack:
        if embedded:
            broker = stack.enter_context(EmbeddedBroker(port=free_port()))
            settings = settings.model_copy(update={"bootstrap_servers": broker.bootstrap_servers})
            print(f"embedded broker at {broker.bootstrap_servers}", flush=True)
        env = settings.child_env()

        ensure_topics(settings)
        if ModelRegistry(settings.registry_dir).champion() is None:
            print("no champion model yet: training the bootstrap model", flush=True)
            subprocess.run(_roostr("train", "--bootstrap"), env=env, check=True)

        scorer = subprocess.Popen(_roostr("consume"), env=env)
        stack.callback(_stop, scorer)

        expected = _count_lines(sample)
        published = subprocess.run(_roostr("publish", str(sample)), env=env)
        if published.returncode != 0:
            print("some sample lines were rejected (see above)", file=sys.stderr)

        reader = stack.enter_context(ScoredSignalReader(settings, group_id=None))
        scored: dict[str, ScoredSignal] = {}
        deadline = time.monotonic() + timeout_s
        while len(scored) < expected and time.monotonic() < deadline:
            if scorer.poll() is not None:
                print(f"scoring consumer exited with {scorer.returncode}", file=sys.stderr)
                return 1
            for signal_ in reader.read(timeout_s=1.0):
                scored[signal_.signal_id] = signal_
        _print_summary(list(scored.values()), expected)
        if len(scored) < expected:
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
