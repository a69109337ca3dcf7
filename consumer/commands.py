"""Sub-commands of the group members: ``consume`` (scoring) and ``join`` (outcome joiner)."""

from __future__ import annotations

import argparse
import signal
from collections.abc import Callable
from typing import Any

from roostr.settings import Settings

__all__ = ["register"]


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
