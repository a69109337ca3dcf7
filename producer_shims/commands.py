"""Sub-commands for feeding the pipeline: ``publish``, ``prices publish``, ``spool flush``.

Exit status: 0 every line published and acknowledged; 1 some lines were rejected (each reported
on stderr with its line number; the good lines still went out); 2 cannot start (the input file
does not exist, or another process uses the spool); 3 every line was accepted but some are not
yet acknowledged by the broker (they stay in the spool and go out with the next publisher run
or ``spool flush``). A broker that does not answer within ROOSTR_CONNECT_TIMEOUT_S, or refuses
the credentials, ends the wait early: exit 3 with one line saying which broker, why, and where
the records wait.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from roostr.settings import Settings

if TYPE_CHECKING:  # the publishers are imported when a command runs (fast CLI start-up)
    from producer_shims.publisher import C, Publisher

__all__ = ["register"]

EXIT_REJECTED = 1
EXIT_CANNOT_START = 2
EXIT_UNACKNOWLEDGED = 3


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    delivery = argparse.ArgumentParser(add_help=False, parents=[common])
    delivery.add_argument(
        "--flush-timeout", type=float, default=60.0, metavar="SECONDS",
        help="how long to wait for broker acknowledgements before leaving records spooled",
    )  # fmt: skip
    delivery.add_argument(
        "--message-timeout-ms", type=int, default=None, metavar="MS",
        help="per-record delivery timeout before a record counts as failed and is re-sent",
    )  # fmt: skip

    publish = subparsers.add_parser(
        "publish", parents=[delivery], epilog=__doc__.split("\n\n")[1],
        help="publish RawSignal JSON lines to the raw signals topic",
    )  # fmt: skip
    _input_arguments(publish)
    publish.set_defaults(handler=publish_signals)

    prices = subparsers.add_parser("prices", help="price feed").add_subparsers(
        dest="prices_command", required=True
    )
    prices_publish = prices.add_parser(
        "publish", parents=[delivery], epilog=__doc__.split("\n\n")[1],
        help="publish PriceTick JSON lines to the prices topic",
    )  # fmt: skip
    _input_arguments(prices_publish)
    prices_publish.set_defaults(handler=publish_prices)

    spool = subparsers.add_parser("spool", help="the local publish spool").add_subparsers(
        dest="spool_command", required=True
    )
    flush = spool.add_parser(
        "flush", parents=[delivery], help="re-send every spooled record; exit 3 if any remain"
    )
    flush.set_defaults(handler=flush_spool)


def _input_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="JSON lines file, or - for standard input")
    parser.add_argument(
        "--batch-size", type=int, default=500, help="records per durable spool batch"
    )


def _publisher_options(args: argparse.Namespace) -> dict[str, Any]:
    if args.message_timeout_ms is None:
        return {}
    return {"message_timeout_ms": args.message_timeout_ms}


@contextmanager
def _open_input(name: str) -> Iterator[IO[str]]:
    if name == "-":
        yield sys.stdin
    else:
        with open(name, encoding="utf-8") as handle:
            yield handle


def publish_signals(args: argparse.Namespace, settings: Settings) -> int:
    from producer_shims.publisher import SignalPublisher

    return _publish_lines(SignalPublisher, args, settings)


def publish_prices(args: argparse.Namespace, settings: Settings) -> int:
    from producer_shims.publisher import PricePublisher

    return _publish_lines(PricePublisher, args, settings)


def _parse_line(publisher: Publisher[C], line: str) -> tuple[C | None, str | None]:
    """(validated record, None) or (None, the reason the line is rejected)."""
    from pydantic import ValidationError

    from producer_shims.publisher import RecordTooLarge
    from roostr.contracts import describe_validation_error

    try:
        return publisher.validate(json.loads(line)), None
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON: {exc.msg} (column {exc.colno})"
    except ValidationError as exc:
        return None, describe_validation_error(exc)
    except RecordTooLarge as exc:
        return None, str(exc)


def _publish_lines(
    publisher_class: type[Publisher[C]], args: argparse.Namespace, settings: Settings
) -> int:
    """Validate line by line, publish the good ones in durable batches, report the bad ones."""
    from producer_shims.spool import SpoolLockedError

    if args.file != "-" and not Path(args.file).is_file():
        print(f"roostr: error: no such file: {args.file}", file=sys.stderr)
        return EXIT_CANNOT_START
    try:
        publisher = publisher_class(settings, **_publisher_options(args))
    except SpoolLockedError as exc:
        print(f"roostr: error: {exc}", file=sys.stderr)
        return EXIT_CANNOT_START
    published = rejected = 0
    try:
        with _open_input(args.file) as lines:
            batch: list[C] = []
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                record, reason = _parse_line(publisher, line)
                if record is None:
                    rejected += 1
                    print(f"line {number}: rejected: {reason}", file=sys.stderr)
                    continue
                batch.append(record)
                if len(batch) >= args.batch_size:
                    published += len(publisher.publish_batch(batch))
                    batch = []
            published += len(publisher.publish_batch(batch))
    finally:
        unacknowledged = publisher.close(args.flush_timeout)
    summary = f"published {published}, rejected {rejected}"
    if unacknowledged:
        summary += f", unacknowledged {unacknowledged} (kept in the spool)"
    print(summary)
    _explain_unavailable(publisher, unacknowledged)
    if rejected:
        return EXIT_REJECTED
    return EXIT_UNACKNOWLEDGED if unacknowledged else 0


def flush_spool(args: argparse.Namespace, settings: Settings) -> int:
    """Start each topic's publisher (which re-sends its spool) and wait for acknowledgements."""
    from producer_shims.publisher import PricePublisher, SignalPublisher
    from producer_shims.spool import SpoolLockedError

    left_total = 0
    for publisher_class in (SignalPublisher, PricePublisher):
        try:
            publisher = publisher_class(settings, **_publisher_options(args))
        except SpoolLockedError as exc:
            print(f"roostr: error: {exc}", file=sys.stderr)
            return EXIT_CANNOT_START
        left = publisher.close(args.flush_timeout)
        left_total += left
        print(f"{publisher.topic}: re-sent {publisher.recovered - left}, still spooled {left}")
        if _explain_unavailable(publisher, left):
            break  # the other topic's publisher would wait for the same broker again
    return EXIT_UNACKNOWLEDGED if left_total else 0


def _explain_unavailable(publisher: Publisher[Any], left: int) -> bool:
    """Say once why records stay spooled when the broker is known unavailable, where they wait
    and what sends them; True if it was."""
    problem = publisher.unavailable()
    if not left or problem is None:
        return False
    print(
        f"roostr: error: {problem}; {left} records kept in the spool "
        f"{publisher.spool_directory.resolve()}: "
        "the next `roostr publish` (prices: `roostr prices publish`) or `roostr spool flush` "
        "re-sends them, oldest first",
        file=sys.stderr,
    )
    return True
