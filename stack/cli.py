"""The ``roostr`` command line: a thin layer over the packages that do the work.

Each package registers its own sub-commands (``register(subparsers, common)``); every command
takes the broker connection flags, which override the environment (see ``roostr.settings``).
The command modules import their work only when a command runs, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from board import commands as board_commands
from consumer import commands as consumer_commands
from producer_shims import commands as producer_commands
from roostr import commands as roostr_commands
from roostr.connection import EXIT_BROKER_UNAVAILABLE, BrokerUnavailable
from roostr.contracts import describe_validation_error
from roostr.logs import configure_logging
from roostr.settings import Settings
from stack import commands as stack_commands
from training import commands as training_commands
from training.backtest import commands as backtest_commands
from training.monitoring import commands as monitoring_commands

__all__ = ["main"]

COMMAND_MODULES = (
    roostr_commands,
    producer_commands,
    training_commands,
    backtest_commands,
    consumer_commands,
    monitoring_commands,
    board_commands,
    stack_commands,
)

# flag → Settings field; every command accepts these.
CONNECTION_FLAGS = {
    "--bootstrap-servers": "bootstrap_servers",
    "--security-protocol": "security_protocol",
    "--sasl-mechanism": "sasl_mechanism",
    "--sasl-username": "sasl_username",
    "--sasl-password": "sasl_password",
    "--ssl-ca-location": "ssl_ca_location",
}


def _common_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("broker connection (override environment variables)")
    for flag, field in CONNECTION_FLAGS.items():
        group.add_argument(flag, dest=f"setting_{field}", default=None, metavar=field.upper())
    common.add_argument("--log-level", default="INFO")
    common.add_argument("--pretty-logs", action="store_true", help="human-readable logs")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common_parser()
    parser = argparse.ArgumentParser(prog="roostr", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.register(subparsers, common)
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Environment first, then any ``--flag`` given on the command line."""
    overrides = {
        key.removeprefix("setting_"): value
        for key, value in vars(args).items()
        if key.startswith("setting_") and value is not None
    }
    return Settings(**overrides)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.log_level, json=not args.pretty_logs)
    try:
        settings = settings_from_args(args)
    except ValidationError as exc:
        parser.error(f"invalid configuration: {describe_validation_error(exc)}")
    try:
        return int(args.handler(args, settings) or 0)
    except BrokerUnavailable as exc:  # from ``roostr.kafka.require_broker``: one line, no trace
        print(f"roostr: error: {exc}", file=sys.stderr)
        return EXIT_BROKER_UNAVAILABLE


if __name__ == "__main__":
    sys.exit(main())
