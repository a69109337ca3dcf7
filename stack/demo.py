"""`roostr demo`: the whole learning loop on one machine, in compressed time, as real processes.

Embedded broker (unless a broker is named) → topics → a bootstrap champion if the registry has
none → two scoring consumers and an outcome joiner as separate processes → simulated scrapers
(several sources, Dan and non-Dan, a few malformed records) and a simulated price feed, both in
event time up to the same "now", the newest signal (``roostr.synthetic.world``: months of event
time in seconds), as live: the last 30 days' signals are still open, only their early wins are
known → outcomes labelled by the joiner, until its label cutoff reaches now → ``roostr retrain``
on the matured outcomes (promotes through its gates; says how many were immature) → ``roostr
backtest`` of ML vs rules → a summary and where the reports are → everything shut down, Ctrl-C
included. The signal board (``roostr board``) runs beside the services from the start, and its
address is printed; ``keep_board`` keeps it, the services and the broker up after the summary
until Ctrl-C.

The terminal shows stages and counts; every service logs to a file in the run folder.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import orjson
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from roostr.contracts import LabelCutoff
from roostr.cutoffs import LabelCutoffs
from roostr.kafka import coordinates
from roostr.settings import Settings
from roostr.synthetic.world import START as WORLD_START
from roostr.synthetic.world import TICK, World, generate_world
from roostr.topic_reader import TopicTail

__all__ = ["DemoPlan", "run_demo"]

# Records a scraper might send that no contract accepts: each must come back as a dead letter.
MALFORMED = (
    b"{not json",
    b'{"signal_id": "broken:1"}',
    b'{"signal_id": "broken:2", "ticker": "$$$", "source": "x", "posted_at": "2024-02-01"}',
    b"\xff\xfe\x00garbage",
    b'{"signal_id": "broken:3", "ticker": "ABC", "source": "x", '
    b'"posted_at": "2024-02-01T00:00:00Z", "mention_count": "5"}',
)


BACKTEST_DAYS = 90


@dataclass(frozen=True)
class DemoPlan:
    """How much world to simulate: sized to finish in about a minute on two cores."""

    signals: int = 1_500
    span_days: int = 200
    seed: int = 7
    timeout_s: float = 150.0


def run_demo(
    settings: Settings, *, embedded: bool, run_dir: Path, plan: DemoPlan, keep_board: bool = False
) -> int:
    """Run the loop once; 0 when every stage finished, 1 otherwise (the summary says which)."""
    from roostr.embedded_broker import free_port
    from roostr.kafka import ensure_topics
    from roostr.registry import ModelRegistry

    run_dir.mkdir(parents=True, exist_ok=True)
    console = Console()
    console.print(f"[bold]roostr demo[/] · run folder [cyan]{run_dir}[/]")
    with ExitStack() as stack:
        ctrl_c = _CtrlC()
        stack.callback(signal.signal, signal.SIGINT, signal.signal(signal.SIGINT, ctrl_c.handle))
        settings = stack.enter_context(_broker(settings, embedded, run_dir))
        settings = settings.model_copy(
            update={
                "retrain_min_outcomes": min(300, plan.signals // 3),
                "http_port": 0,
                "joiner_http_port": 0,
                "spool_dir": run_dir / "spool",
            }
        )
        ensure_topics(settings)
        services = _Services(settings, run_dir, ctrl_c)
        stack.callback(services.stop)

        registry = ModelRegistry(settings.registry_dir)
        if registry.champion() is None:
            with console.status("training the bootstrap model (no champion yet)"):
                services.run("train-bootstrap", "train", "--bootstrap", "--reports-dir",
                             str(run_dir / "reports"))  # fmt: skip
        before = registry.champion()
        console.print(f"champion: [green]{before}[/]")

        for name in ("consume-1", "consume-2"):
            services.start(name, "consume")
        services.start("join", "join")
        board = f"http://127.0.0.1:{free_port()}/"
        services.start("board", "board", "--port", board.rsplit(":", 1)[1].strip("/"),
                       "--reports", str(run_dir / "reports"))  # fmt: skip
        console.print(f"signal board: [cyan]{board}[/] (live while the demo runs)", soft_wrap=True)
        world = generate_world(plan.signals, seed=plan.seed, span_days=plan.span_days)
        console.print(
            f"simulated world: {len(world.signals)} signals from "
            f"{len({s.source for s in world.signals})} sources over {plan.span_days} days, "
            f"{len(world.prices)} tickers with prices every 6 h"
        )
        counts = _Counter(settings)
        stack.callback(counts.close)
        now = _write_inputs(run_dir, world)
        services.start("scrapers", "publish", str(run_dir / "signals.jsonl"), job=True)
        services.start("price-feed", "prices", "publish", str(run_dir / "prices.jsonl"), job=True)
        _send_malformed(settings)
        inputs = len(world.signals) + len(MALFORMED)
        with _progress(console) as progress:
            scored = progress.add_task("scored or dead-lettered", total=inputs)
            labelled = progress.add_task("outcomes labelled", total=len(world.signals))
            # The joiner's label cutoff trails the newest tick of its slowest partition (ticks
            # every 6 h) by the grace: then every signal it can decide is decided.
            settled = now - TICK - timedelta(hours=settings.outcome_grace_hours)

            def show(c: _Counts) -> None:
                progress.update(scored, completed=c.scored + c.dead)
                progress.update(labelled, completed=c.outcomes)

            finished = _wait(
                lambda: counts.read(services),
                show,
                lambda c: c.scored + c.dead >= inputs and c.cutoff is not None
                and c.cutoff >= settled,
                plan.timeout_s,
            )  # fmt: skip
        if not finished:
            console.print("[red]the pipeline did not finish in time[/]; logs in the run folder")
            return 1
        with console.status("retraining on the labelled outcomes (roostr retrain)"):
            retrain = services.run("retrain", "retrain", "--reports-dir", str(run_dir / "reports"))
        after = registry.champion()
        start = WORLD_START + timedelta(days=plan.span_days - BACKTEST_DAYS)
        end = WORLD_START + timedelta(days=plan.span_days + 1)
        with console.status(f"backtesting the last {BACKTEST_DAYS} days, walk-forward"):
            backtest = services.run(
                "backtest", "backtest", "--from", start.date().isoformat(),
                "--to", end.date().isoformat(), "--walk-forward", "--no-progress",
                "--report", str(run_dir / "reports" / "backtest"),
            )  # fmt: skip
        _summary(console, counts, retrain, before, after, run_dir)
        console.print(f"\nbacktest {start:%Y-%m-%d} → {end:%Y-%m-%d}, walk-forward (no lookahead):")
        console.print(backtest, soft_wrap=True, highlight=False)
        if keep_board:
            _keep_up(console, services, board)
        console.print("shutting down the services and the broker")
        return 0


def _keep_up(console: Console, services: _Services, board: str) -> None:
    """Until Ctrl-C (or a service exits): the board keeps showing the demo's topics."""
    console.print(
        f"\nsignal board: [cyan]{board}[/] · broker and services stay up; Ctrl-C stops",
        soft_wrap=True,
    )
    try:
        while not services.failed():
            time.sleep(0.5)
        console.print(f"[red]{services.failed()} exited[/]; logs in the run folder")
    except KeyboardInterrupt:
        console.print("")


@contextmanager
def _broker(settings: Settings, embedded: bool, run_dir: Path) -> Iterator[Settings]:
    """The embedded broker for this run, or a named one with topics private to this run."""
    if not embedded:
        yield settings.namespaced(f"demo-{uuid.uuid4().hex[:8]}")
        return
    from roostr.embedded_broker import EmbeddedBroker, free_port

    with EmbeddedBroker(port=free_port(), log_path=run_dir / "broker.log") as broker:
        yield settings.model_copy(update={"bootstrap_servers": broker.bootstrap_servers})


class _CtrlC:
    """Ctrl-C, remembered as well as raised. A library can swallow the KeyboardInterrupt: in 3 of
    50 runs it vanished inside numpy's ``Generator.choice`` while the world was drawn, and the demo
    ran on to exit 0. So every step that starts, runs or checks a service raises it again."""

    def __init__(self) -> None:
        self.pressed = False

    def handle(self, _signum: int, _frame: object) -> None:
        self.pressed = True
        raise KeyboardInterrupt

    def check(self) -> None:
        if self.pressed:
            raise KeyboardInterrupt


class _Services:
    """The demo's child processes: each logs to ``<run_dir>/<name>.log``; stopped with SIGTERM."""

    def __init__(self, settings: Settings, run_dir: Path, ctrl_c: _CtrlC) -> None:
        self.env = settings.child_env()
        self.run_dir = run_dir
        self.ctrl_c = ctrl_c
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.jobs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *args: str, job: bool = False) -> None:
        """A service (must keep running) or a ``job`` (must exit 0), in the background."""
        self.ctrl_c.check()
        # Ctrl-C waits until the child is recorded, so ``stop`` always knows every child.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            with (self.run_dir / f"{name}.log").open("ab") as log:
                process = subprocess.Popen(
                    [sys.executable, "-m", "stack", *args], env=self.env,
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    # the child starts with the usual mask: Ctrl-C reaches it as well
                    preexec_fn=lambda: signal.pthread_sigmask(signal.SIG_SETMASK, blocked),
                )  # fmt: skip
            (self.jobs if job else self.running)[name] = process
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    def run(self, name: str, *args: str) -> str:
        """Run a command to completion; its output (also in its log file)."""
        self.ctrl_c.check()
        result = subprocess.run(
            [sys.executable, "-m", "stack", *args], env=self.env, capture_output=True,
            text=True, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        output = result.stdout + result.stderr
        (self.run_dir / f"{name}.log").write_text(output, encoding="utf-8")
        if result.returncode != 0:
            raise RuntimeError(f"`roostr {' '.join(args)}` exited {result.returncode}:\n{output}")
        return result.stdout

    def failed(self) -> list[str]:
        """Services that exited, and jobs that exited non-zero."""
        self.ctrl_c.check()
        return [n for n, p in self.running.items() if p.poll() is not None] + [
            n for n, p in self.jobs.items() if p.poll() not in (None, 0)
        ]

    def stop(self) -> None:
        processes = [*self.jobs.values(), *self.running.values()]
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


@dataclass
class _Counts:
    scored: int = 0
    dead: int = 0
    outcomes: int = 0
    by_status: dict[str, int] | None = None
    cutoff: datetime | None = None  # the joiner's label cutoff


class _Counter:
    """Counts distinct scored signals, dead letters and outcomes, and follows the label cutoff
    (a reader outside any group)."""

    def __init__(self, settings: Settings) -> None:
        topics = (
            settings.topic_scored,
            settings.topic_dlq,
            settings.topic_outcomes,
            settings.topic_label_cutoffs,
        )
        self._reader = TopicTail(settings, *topics, purpose="demo")
        self._topics = dict(zip(topics, ("scored", "dead", "outcomes", "cutoffs"), strict=True))
        self._cutoffs = LabelCutoffs()
        self._scored: set[str] = set()
        self._dead: set[tuple[int, int]] = set()
        self._status: dict[str, str] = {}

    def read(self, services: _Services | None = None) -> _Counts:
        if services is not None and (failed := services.failed()):
            raise RuntimeError(f"{failed} failed; see their logs in the run folder")
        for message in self._reader.poll(0.5, max_records=5_000):
            topic, _partition, _offset = coordinates(message)
            document = orjson.loads(message.value() or b"")
            kind = self._topics[topic]
            if kind == "scored":
                self._scored.add(document["signal_id"])
            elif kind == "dead":
                self._dead.add((document["partition"], document["offset"]))
            elif kind == "cutoffs":
                self._cutoffs.add(LabelCutoff.model_validate(document))
            else:
                self._status[document["signal_id"]] = document["status"]
        statuses: dict[str, int] = {}
        for status in self._status.values():
            statuses[status] = statuses.get(status, 0) + 1
        return _Counts(
            len(self._scored), len(self._dead), len(self._status), statuses, self._cutoffs.cutoff
        )

    def close(self) -> None:
        self._reader.close()


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description:<26}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=console,
    )  # fmt: skip


def _write_inputs(run_dir: Path, world: World) -> datetime:
    """The scrapers' and the price feed's input files (JSON lines, one record each, in event
    time) up to "now", the newest signal's posted_at, which it returns: no price from after it."""
    now = world.signals[-1].posted_at
    with (run_dir / "signals.jsonl").open("w", encoding="utf-8") as out:
        out.writelines(s.model_dump_json() + "\n" for s in world.signals)
    ticks = sorted(
        (t for path in world.prices.values() for t in path.ticks() if t.ts <= now),
        key=lambda t: (t.ts, t.ticker),
    )
    with (run_dir / "prices.jsonl").open("w", encoding="utf-8") as out:
        out.writelines(t.model_dump_json() + "\n" for t in ticks)
    return now


def _send_malformed(settings: Settings) -> None:
    """What a broken scraper that bypasses the shim's validation would send."""
    from roostr.delivery import Output, deliver
    from roostr.kafka import make_producer

    records = [Output(settings.topic_raw, b"MALFORMED", value) for value in MALFORMED]
    deliver(make_producer(settings), records, 30)


def _wait(
    read: Callable[[], _Counts],
    show: Callable[[_Counts], object],
    done: Callable[[_Counts], bool],
    timeout_s: float,
) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        counts = read()
        show(counts)
        if done(counts):
            return True
    return False


def _summary(
    console: Console, counter: _Counter, retrain: str, before: str | None, after: str | None,
    run_dir: Path,
) -> None:  # fmt: skip
    counts = counter.read()
    table = Table(title="roostr demo: what happened")
    table.add_column("stage")
    table.add_column("result")
    table.add_row("signals scored", str(counts.scored))
    table.add_row("malformed inputs dead-lettered", str(counts.dead))
    statuses = counts.by_status or {}
    table.add_row(
        "outcomes (joiner)",
        ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())) or "none",
    )
    table.add_row("champion before → after", f"{before} → {after}")
    for line in retrain.splitlines():
        if line.startswith(("outcomes read", "hold-out AUC", "not promoted", "champion:")):
            table.add_row("retrain", line)
    table.add_row("reports", str(run_dir / "reports"))
    table.add_row("service logs", str(run_dir))
    console.print(table)
