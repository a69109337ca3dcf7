"""``roostr backtest``: replay a time range of the raw topic through the live scoring code and
simulate trading what each scorer selects (see training/backtest/engine.py)."""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from roostr.settings import Settings

__all__ = ["register"]


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    backtest = subparsers.add_parser(
        "backtest",
        parents=[common],
        help="replay signals.raw for a time range, score, simulate trades, compare ML/hybrid/rules",
    )
    backtest.add_argument(
        "--from",
        dest="start",
        required=True,
        type=_when,
        metavar="T0",
        help="first posted_at (a date, or a datetime with its zone)",
    )
    backtest.add_argument(
        "--to",
        dest="end",
        required=True,
        type=_when,
        metavar="T1",
        help="posted_at before this (exclusive)",
    )
    backtest.add_argument("--topic", default=None, help="raw topic (default: ROOSTR_TOPIC_RAW)")
    model = backtest.add_mutually_exclusive_group()
    model.add_argument(
        "--model",
        metavar="VERSION",
        default=None,
        help="score with this registered version (default: the champion)",
    )
    model.add_argument(
        "--walk-forward",
        action="store_true",
        help="refit before every window on outcomes resolved before it",
    )
    backtest.add_argument(
        "--retrain-every",
        type=float,
        default=30.0,
        metavar="DAYS",
        help="walk-forward test window length (default 30)",
    )
    backtest.add_argument(
        "--train-window",
        type=float,
        default=180.0,
        metavar="DAYS",
        help="walk-forward rolling training window (default 180)",
    )
    backtest.add_argument("--seed", type=int, default=7, help="walk-forward model seed")
    backtest.add_argument(
        "--select",
        default="top10%",
        type=_selection,
        help="top<X>%% of each scorer's ranking, or score>=<N> (default top10%%)",
    )
    backtest.add_argument(
        "--fees-bps",
        type=float,
        default=10.0,
        metavar="X",
        help="fees and slippage per side, in basis points (default 10)",
    )
    backtest.add_argument("--json", action="store_true", help="print the JSON summary on stdout")
    backtest.add_argument(
        "--report",
        type=Path,
        metavar="DIR",
        default=None,
        help="write DIR/backtest.html (plots embedded), DIR/backtest.json, and each scorer's "
        "trades and daily equity as DIR/{trades,equity}.{csv,parquet}",
    )
    backtest.add_argument(
        "--cache",
        type=Path,
        metavar="DIR",
        default=None,
        help="keep the topics' decoded records in DIR (Parquet; ticks as columns) and read and "
        "decode only what was appended since",
    )
    backtest.add_argument("--no-progress", action="store_true", help="no progress bar")
    backtest.set_defaults(handler=run_backtest_command)
    parity = subparsers.add_parser(
        "parity",
        parents=[common],
        help="re-score what signals.scored holds for a range from the raw topic; exit 1 on any "
        "difference",
    )
    parity.add_argument("--from", dest="start", required=True, type=_when, metavar="T0")
    parity.add_argument("--to", dest="end", required=True, type=_when, metavar="T1")
    parity.set_defaults(handler=run_parity_command)


def run_parity_command(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 when every live signal of the range re-scores identically, else 1 (the summary
    names the fields that differ); 1 too when nothing was scored live in the range."""
    from roostr.kafka import require_broker
    from roostr.topic_reader import TopicUnreadable
    from training.backtest.parity import read_and_check

    require_broker(settings)
    try:
        parity = read_and_check(settings, args.start, args.end)
    except TopicUnreadable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(parity.summary())
    if parity.compared + parity.mismatches == 0:
        print(f"error: nothing was scored live in [{args.start}, {args.end})", file=sys.stderr)
        return 1
    return 1 if parity.mismatches else 0


def run_backtest_command(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 with the report; 1 when it cannot run (topic or model missing, nothing to test)."""
    from roostr.kafka import require_broker
    from roostr.topic_reader import TopicUnreadable
    from training.backtest.inputs import read_inputs

    if args.end <= args.start:
        print("error: --to must be after --from", file=sys.stderr)
        return 2
    if args.fees_bps < 0 or args.retrain_every <= 0 or args.train_window <= 0:
        print(
            "error: --fees-bps must be >= 0, --retrain-every and --train-window > 0",
            file=sys.stderr,
        )
        return 2
    topic = args.topic or settings.topic_raw
    require_broker(settings)
    with ThreadPoolExecutor(1) as pool:
        loading = pool.submit(_load_model, args, settings)
        try:
            inputs = read_inputs(
                settings, topic, args.end, show_progress=not args.no_progress, cache=args.cache
            )
        except TopicUnreadable as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        try:
            model, model_info = loading.result()
        except LookupError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    from training.backtest.engine import BacktestConfig, run_backtest
    from training.backtest.report import summary_json, write_report
    from training.backtest.walk_forward import WalkForward

    walk_forward = (
        WalkForward(
            timedelta(days=args.retrain_every), timedelta(days=args.train_window), args.seed
        )
        if args.walk_forward
        else None
    )
    config = BacktestConfig(args.start, args.end, args.select, args.fees_bps, topic, walk_forward)
    result = run_backtest(inputs, config, settings, model, model_info)
    if result.summary["signals"]["in_range"] == 0:
        print(
            f"error: no signal of {topic} was posted in [{args.start}, {args.end})", file=sys.stderr
        )
        return 1
    if args.report is not None:
        page, _summary = write_report(result, args.report)
        print(f"report: {page}", file=sys.stderr)
    if args.json:
        sys.stdout.write(summary_json(result))
    else:
        print(_table(result.summary))
    return 0


def _load_model(args: argparse.Namespace, settings: Settings) -> tuple[Any, dict[str, Any]]:
    """The model to score with and what the report says of it; LookupError if unusable.

    Run beside the topics' reads, which mostly wait on the broker: it imports the learner's
    libraries (XGBoost, scikit-learn; over a second of start-up) whether or not a model is used.
    """
    import training.backtest.engine  # noqa: F401

    if args.walk_forward:
        return None, {"mode": "walk-forward", "version": None}
    from roostr.registry import ModelRegistry, RegistryError

    registry = ModelRegistry(settings.registry_dir)
    version = args.model or registry.champion()
    if version is None:
        return None, {"mode": "none", "version": None}
    try:
        model = registry.load(version)
        trained_until = registry.metadata(version).get("training_data", {}).get("last_posted_at")
    except RegistryError as exc:
        raise LookupError(str(exc)) from exc
    info = {
        "mode": "model" if args.model else "champion",
        "version": version,
        "trained_until": trained_until,
        "overlaps_range": bool(trained_until)
        and datetime.fromisoformat(trained_until).replace(tzinfo=UTC) >= args.start,
    }
    return model, info


def _table(summary: dict[str, Any]) -> str:
    """The side-by-side table as plain text."""
    keys = (
        "trades",
        "win_rate",
        "mean_return",
        "median_return",
        "profit_factor",
        "sharpe",
        "max_drawdown",
        "precision",
        "recall",
        "auc",
    )
    rows = [("scorer", *keys, "verdict")]
    for name, row in summary["scorers"].items():
        values = [f"{row[k]:.3f}" if isinstance(row[k], float) else str(row[k]) for k in keys]
        verdict = "pass" if row["verdict"]["passed"] else "fail"
        rows.append((name, *["–" if v == "None" else v for v in values], verdict))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    basis = f"Sharpe: {summary['sharpe_basis']}; selection {summary['selection']}, "
    return "\n".join([*lines, basis + f"fees {summary['fees_bps']} bps per side"])


def _when(text: str) -> datetime:
    """A date (midnight UTC) or an ISO-8601 datetime with its zone, as UTC."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO-8601 date or datetime") from exc
    if when.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no zone (add Z or +hh:mm)")
    return when.astimezone(UTC)


def _selection(text: str) -> Any:
    from training.backtest.selection import parse_selection

    try:
        return parse_selection(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
