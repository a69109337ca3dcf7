"""Sub-commands of the scoring service: ``consume`` (one group member), ``up``, ``bench``."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from roostr.settings import Settings

__all__ = ["register", "wants_embedded_broker"]


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    consume = subparsers.add_parser(
        "consume", parents=[common],
        help="run one member of the scoring consumer group (run N copies to scale out)",
        description="Score signals.raw into signals.scored until SIGTERM/SIGINT. Exit 0 after a "
        "clean drain, 3 when outputs could not be delivered (nothing committed).",
    )  # fmt: skip
    consume.add_argument("--mode", choices=("rules", "parallel", "hybrid", "ml"), default=None)
    consume.add_argument("--http-port", type=int, default=None, help="0 picks a free port")
    consume.add_argument(
        "--transactional", action="store_true",
        help="outputs and offsets in one Kafka transaction per batch (exactly-once on real Kafka)",
    )  # fmt: skip
    consume.set_defaults(handler=run_consumer)

    join = subparsers.add_parser(
        "join", parents=[common],
        help="run one member of the outcome joiner group (signals.scored + prices → outcomes)",
        description="Label every scored signal from the prices topic in event time and publish "
        "Outcomes to signals.outcomes until SIGTERM/SIGINT. Exit 0 after a clean stop, 2 when "
        "the inputs are not co-partitioned, 3 when outputs could not be delivered.",
    )  # fmt: skip
    join.add_argument("--http-port", type=int, default=None, help="0 picks a free port")
    join.add_argument(
        "--transactional", action="store_true",
        help="outcomes, state and offsets in one Kafka transaction per batch (exactly-once)",
    )  # fmt: skip
    join.set_defaults(handler=run_joiner)

    up = subparsers.add_parser(
        "up", parents=[common],
        help="the whole pipeline locally: broker, topics, model, scoring consumer, sample signals",
    )  # fmt: skip
    up.add_argument(
        "--serve", action="store_true", help="keep broker and consumer running after the sample"
    )
    up.add_argument(
        "--run-dir", type=Path, default=None, help="service logs (default .roostr/up/<time>)"
    )
    up.set_defaults(handler=run_up)

    demo = subparsers.add_parser(
        "demo", parents=[common],
        help="the whole learning loop locally in compressed time: score, label, retrain, backtest",
        description="Starts an embedded broker (unless --bootstrap-servers names one), the "
        "scoring consumers and the outcome joiner as processes, simulated scrapers and a price "
        "feed, then retrains and backtests, prints a summary and shuts everything down.",
    )  # fmt: skip
    demo.add_argument(
        "--run-dir", type=Path, default=None, help="logs and reports (default .roostr/runs/<time>)"
    )
    demo.add_argument("--signals", type=int, default=1_500, help="simulated signals")
    demo.add_argument(
        "--board", action="store_true",
        help="keep the broker, the services and the signal board up after the summary (Ctrl-C)",
    )  # fmt: skip
    demo.set_defaults(handler=run_demo)

    bench = subparsers.add_parser(
        "bench", parents=[common],
        help="benchmark passthrough vs scoring pipeline (embedded broker unless one is named)",
    )  # fmt: skip
    bench.add_argument("--json", action="store_true", help="one JSON object on stdout")
    bench.add_argument("--messages", type=int, default=50_000)
    bench.add_argument("--partitions", type=int, default=6, help="of the benchmark's topics")
    bench.add_argument("--rate", type=int, default=1_000, help="offered load for latency (/s)")
    bench.add_argument("--seconds", type=float, default=10.0, help="latency run duration")
    bench.add_argument("--scale-out", action="store_true", help="also measure 2 processes")
    bench.add_argument(
        "--transactional", action="store_true",
        help="also measure exactly-once (consume --transactional): backlog rate and latency",
    )  # fmt: skip
    bench.add_argument("--profile", metavar="FILE", help="write a cProfile of the pipeline run")
    bench.set_defaults(handler=run_bench)


def run_consumer(args: argparse.Namespace, settings: Settings) -> int:
    from consumer.service import ScoringService
    from roostr.kafka import require_broker

    overrides = {"mode": args.mode, "http_port": args.http_port}
    settings = settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    require_broker(settings)  # at start-up only: a member that was up rides out outages
    service = ScoringService(settings, transactional=args.transactional)
    _stop_on_signals(service.stop)
    return service.run()


def run_joiner(args: argparse.Namespace, settings: Settings) -> int:
    from consumer.joiner import OutcomeJoiner
    from roostr.kafka import require_broker

    if args.http_port is not None:
        settings = settings.model_copy(update={"joiner_http_port": args.http_port})
    require_broker(settings)  # at start-up only: a member that was up rides out outages
    joiner = OutcomeJoiner(settings, transactional=args.transactional)
    _stop_on_signals(joiner.stop)
    return joiner.run()


def _stop_on_signals(stop: Callable[[], None]) -> None:
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop())
    signal.signal(signal.SIGINT, lambda _signum, _frame: stop())


def wants_embedded_broker(settings: Settings) -> bool:
    """The embedded broker unless a broker was named (flag or environment); a named one must
    answer (``roostr.kafka.require_broker``)."""
    from roostr.kafka import require_broker

    if "bootstrap_servers" not in settings.model_fields_set:
        return True
    require_broker(settings)
    return False


def run_up(args: argparse.Namespace, settings: Settings) -> int:
    from consumer.local_stack import run_local_stack

    run_dir = args.run_dir or _timestamped(Path(".roostr/up"))
    return run_local_stack(
        settings, embedded=wants_embedded_broker(settings), serve=args.serve, run_dir=run_dir
    )


def _timestamped(parent: Path) -> Path:
    """A run's own folder, named for when it started (UTC)."""
    from datetime import UTC, datetime

    return parent / datetime.now(UTC).strftime("%Y%m%dT%H%M%S")


def run_demo(args: argparse.Namespace, settings: Settings) -> int:
    from consumer.demo import DemoPlan, run_demo

    embedded = wants_embedded_broker(settings)
    run_dir = args.run_dir or _timestamped(Path(".roostr/runs"))
    try:
        return run_demo(
            settings, embedded=embedded, run_dir=run_dir, plan=DemoPlan(args.signals),
            keep_board=args.board,
        )  # fmt: skip
    except KeyboardInterrupt:
        print("interrupted: services and broker stopped", file=sys.stderr)
        return 130


def run_bench(args: argparse.Namespace, settings: Settings) -> int:
    from consumer.bench import run

    embedded = wants_embedded_broker(settings)
    if embedded and settings.security_protocol != "PLAINTEXT":
        print(
            f"roostr: error: the embedded broker is PLAINTEXT; name the broker to benchmark "
            f"over {settings.security_protocol} with --bootstrap-servers",
            file=sys.stderr,
        )
        return 2
    return run(
        settings,
        embedded=embedded,
        messages=args.messages,
        partitions=args.partitions,
        rate=args.rate,
        seconds=args.seconds,
        scale_out=args.scale_out,
        transactional=args.transactional,
        profile=Path(args.profile) if args.profile else None,
        as_json=args.json,
    )
