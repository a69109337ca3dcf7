"""Core sub-commands: the embedded broker, topic creation, ACLs, schema export."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from roostr.settings import Settings

__all__ = ["register"]


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    broker = subparsers.add_parser(
        "broker", parents=[common], help="run the embedded Kafka-protocol broker (foreground)"
    )
    broker.add_argument("--port", type=int, default=9092)
    broker.add_argument(
        "--log-file", type=Path, default=None,
        help="append the broker's own log to this file (default: discarded)",
    )  # fmt: skip
    broker.add_argument(
        "--broker-log-level", choices=("error", "warn", "info", "debug", "trace"), default=None,
        help="level of the broker's own log (default: RUST_LOG, else warn; info, debug and "
        "trace write gigabytes per minute under load)",
    )  # fmt: skip
    broker.set_defaults(handler=run_broker)

    topics = subparsers.add_parser("topics", help="manage topics").add_subparsers(
        dest="topics_command", required=True
    )
    create = topics.add_parser(
        "create", parents=[common], help="create every configured topic (idempotent)"
    )
    create.set_defaults(handler=create_topics)

    acls = subparsers.add_parser("acls", help="each role's ACLs").add_subparsers(
        dest="acls_command", required=True
    )
    script = acls.add_parser(
        "script", parents=[common], help="print the kafka-acls.sh calls (deploy/kafka/acls.sh)"
    )
    script.set_defaults(handler=print_acls_script)

    schema = subparsers.add_parser("schema", help="JSON Schema files").add_subparsers(
        dest="schema_command", required=True
    )
    export = schema.add_parser("export", parents=[common], help="write the contracts' schemas")
    export.add_argument("directory", type=Path)
    export.set_defaults(handler=export_schema)


def print_acls_script(_args: argparse.Namespace, settings: Settings) -> int:
    """The script for these settings' topic and group names (``roostr.acls``)."""
    from roostr.acls import kafka_acls_script

    sys.stdout.write(kafka_acls_script(settings))
    return 0


def run_broker(args: argparse.Namespace, settings: Settings) -> int:
    """Run until Ctrl-C or SIGTERM, then stop the broker process cleanly."""
    from roostr.embedded_broker import BrokerStartError, EmbeddedBroker

    broker = EmbeddedBroker(port=args.port, log_path=args.log_file, log_level=args.broker_log_level)

    stopping = False

    def _stop(signum: int, _frame: object) -> None:
        # Only signal the child here: waiting on it inside a handler would deadlock with wait().
        nonlocal stopping
        stopping = True
        broker.terminate()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        broker.start()
    except (OSError, BrokerStartError) as exc:
        print(f"broker did not start: {exc}", file=sys.stderr)
        return 1
    print(f"bootstrap servers: {broker.bootstrap_servers}", flush=True)
    status = broker.wait()
    broker.stop()
    if stopping:
        print("broker stopped", flush=True)
        return 0
    print(f"broker exited unexpectedly with status {status}", file=sys.stderr)
    return 1


def create_topics(args: argparse.Namespace, settings: Settings) -> int:
    from roostr.kafka import ensure_topics, require_broker

    require_broker(settings)
    for topic, outcome in sorted(ensure_topics(settings).items()):
        print(f"{topic}\t{outcome}")
    return 0


def export_schema(args: argparse.Namespace, settings: Settings) -> int:
    from roostr.schemas import export_schemas

    for path in export_schemas(args.directory):
        print(path)
    return 0
