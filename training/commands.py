"""``roostr train``, ``roostr retrain``, ``roostr models list|promote|rollback|shadow`` and
``roostr mode``.

Promote, rollback and shadow change the registry's pointer (the source of truth that consumers
poll), then announce the change on ``models.updates`` so they reload at once. They first check
that a broker answers (``roostr.kafka.require_broker``): when none does, or it refuses the
credentials, nothing is changed and the command exits 69 saying which broker and why. A broker
lost between the check and the announcement does not undo the change: a warning says so and the
consumers pick the new champion up at their next poll. ``roostr mode`` exists only as an
announcement: consumers replay the topic's latest mode when they start. ``retrain`` checks the
broker first too; ``train`` does not need one (it announces a promotion if it can).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from roostr.contracts import MODES
from roostr.settings import Settings

if TYPE_CHECKING:
    from roostr.contracts import ModelUpdate
    from roostr.registry import ModelRegistry
    from training.datasets import LabelledSet
    from training.trainer import TrainingResult

__all__ = ["register"]


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    train = subparsers.add_parser(
        "train", parents=[common], help="train a model and register it (see --bootstrap, --data)"
    )
    source = train.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--bootstrap", action="store_true", help="train v0.1 on synthetic green-flag signals"
    )
    source.add_argument(
        "--data", type=Path, metavar="FILE", help="labelled Outcome records (.jsonl or .parquet)"
    )
    train.add_argument(
        "--cutoff",
        type=_zoned,
        metavar="TIME",
        help="with --data: the event time the labels were final at (RFC 3339 with zone); "
        "outcomes whose horizon ends later are left out (default: the file's newest decision)",
    )
    train.add_argument("--samples", type=int, default=400, help="bootstrap sample count")
    train.add_argument("--seed", type=int, default=7)
    train.add_argument(
        "--promote", action="store_true", help="make it champion even if there is one"
    )
    train.add_argument("--reports-dir", type=Path, default=Path("reports"))
    train.add_argument("--format", choices=("json", "ubj"), default="json")
    train.set_defaults(handler=run_train)

    retrain = subparsers.add_parser(
        "retrain",
        parents=[common],
        help="train a challenger on signals.outcomes; promote it only if it beats the champion",
    )
    retrain.add_argument(
        "--cutoff",
        type=_zoned,
        metavar="TIME",
        help="the event time the labels were final at (RFC 3339 with zone), for outcomes not "
        "labelled by `roostr join`; default: the joiner's published label cutoff",
    )
    retrain.add_argument("--seed", type=int, default=7)
    retrain.add_argument("--reports-dir", type=Path, default=Path("reports"))
    retrain.add_argument("--format", choices=("json", "ubj"), default="json")
    retrain.set_defaults(handler=run_retrain)

    models = subparsers.add_parser("models", help="the model registry").add_subparsers(
        dest="models_command", required=True
    )
    listing = models.add_parser("list", parents=[common], help="registered versions")
    listing.set_defaults(handler=list_models)
    promote = models.add_parser("promote", parents=[common], help="make VERSION the champion")
    promote.add_argument("version")
    promote.set_defaults(handler=promote_model)
    rollback = models.add_parser(
        "rollback", parents=[common], help="return to the previous champion"
    )
    rollback.set_defaults(handler=rollback_model)
    shadow = models.add_parser(
        "shadow", parents=[common],
        help="score VERSION beside the champion without letting it decide (--clear stops it)",
    )  # fmt: skip
    which = shadow.add_mutually_exclusive_group(required=True)
    which.add_argument("version", nargs="?")
    which.add_argument("--clear", action="store_true", help="stop shadow scoring")
    shadow.set_defaults(handler=shadow_model)

    mode = subparsers.add_parser(
        "mode", parents=[common],
        help="switch every running scoring consumer to a mode (rules = the rollback switch)",
    )  # fmt: skip
    mode.add_argument("mode", choices=MODES)
    mode.set_defaults(handler=switch_mode)


def run_train(args: argparse.Namespace, settings: Settings) -> int:
    from roostr.registry import ModelRegistry
    from training.datasets import bootstrap_set, outcomes_set
    from training.trainer import TrainingError, train
    from training.training_report import write_report

    if args.bootstrap:
        data = bootstrap_set(args.samples, args.seed)
    else:
        if not args.data.is_file():
            print(f"error: no such file {args.data}", file=sys.stderr)
            return 2
        data = outcomes_set(args.data, args.cutoff)
        print(f"label cutoff: {_when(data.cutoff)}, immature left out: {data.skipped['immature']}")
        if any(data.skipped.values()):
            print(f"skipped records: {data.skipped}")
    try:
        result = train(
            data.X,
            data.y,
            data.posted_at,
            data.rule_score,
            seed=args.seed,
        )
    except TrainingError as exc:
        print(f"error: cannot train on {data.source}: {exc}", file=sys.stderr)
        return 1
    registry = ModelRegistry(settings.registry_dir)
    version = _register(registry, result, data, "bootstrap" if args.bootstrap else None, args)
    if version is None:
        return 1
    test, rules = result.metrics["test"], result.metrics["test_rules"]
    print(
        f"walk-forward: AUC {_num(test['auc'])} (rules {_num(rules['auc'])}), "
        f"Brier {_num(test['brier'])} "
        f"(constant {_num(result.metrics['test_constant_baseline']['brier'])}), "
        f"precision {_num(test['precision'])}, recall {_num(test['recall'])}"
    )
    print(f"report: {write_report(result, data, version, args.reports_dir)}")
    if args.promote or registry.champion() is None:
        update = registry.promote(version)
        print(f"champion: {version}")
        _publish(update, settings)
    return 0


def run_retrain(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 1 when refused (too few outcomes, one class, topic unreadable); 0 when a challenger
    was registered, promoted or not (the report and the printed reasons say which)."""
    from roostr.errors import TopicUnreadable
    from roostr.kafka import require_broker
    from roostr.registry import ModelRegistry
    from training.outcomes_topic import read_label_cutoff, read_outcomes
    from training.retrain import (
        RetrainRefused,
        challenger_for,
        compare,
        labelled_for_retrain,
        recalibrated_champion,
    )
    from training.training_report import write_report

    require_broker(settings)
    try:
        cutoff = args.cutoff or read_label_cutoff(settings)  # first: see read_label_cutoff
        if cutoff is None:
            raise RetrainRefused(
                f"no label cutoff on {settings.topic_label_cutoffs} for every partition yet "
                "(is `roostr join` running?); --cutoff gives one for outcomes labelled elsewhere"
            )
        outcomes, invalid = read_outcomes(settings)
        data = labelled_for_retrain(
            outcomes,
            settings,
            source=f"kafka:{settings.topic_outcomes}",
            invalid=invalid,
            cutoff=cutoff,
        )
        print(
            f"outcomes read: {len(outcomes)}, label cutoff: {_when(cutoff)}, "
            f"immature left out: {data.skipped['immature']}, labelled rows: {data.y.size}"
        )
        if any(data.skipped.values()):
            print(f"skipped records: {data.skipped}")
        result = challenger_for(data, settings, args.seed)
    except (TopicUnreadable, RetrainRefused) as exc:
        print(f"error: retrain refused: {exc}", file=sys.stderr)
        return 1
    registry = ModelRegistry(settings.registry_dir)
    comparison = compare(result, registry, settings)
    result.metrics["retrain"] = comparison.as_metrics()
    version = _register(registry, result, data, "retrain", args)
    if version is None:
        return 1
    challenger, champion, rules = comparison.challenger, comparison.champion, comparison.rules
    print(
        f"walk-forward AUC: challenger {_num(challenger['auc'])}, "
        f"champion {_num(champion['auc']) if champion else '–'} "
        f"({comparison.champion_version or 'none'}), rules {_num(rules['auc'])}; "
        f"ECE {_num(challenger['ece'])}, score buckets {challenger['score_buckets']}"
    )
    print(f"report: {write_report(result, data, version, args.reports_dir)}")
    if not comparison.promote:
        print(f"not promoted: {'; '.join(comparison.reasons)}")
        recalibration = recalibrated_champion(result, data, registry, settings)
        if recalibration is None:
            return 0
        model, verdict = recalibration
        print(
            f"recalibrated champion {verdict.champion_version}: walk-forward ECE "
            f"{_num(verdict.champion['ece'] if verdict.champion else None)} → "
            f"{_num(verdict.challenger['ece'])}"
        )
        if not verdict.promote:
            print(f"recalibration not promoted: {'; '.join(verdict.reasons)}")
            return 0
        recal = replace(
            result, model=model, metrics=result.metrics | {"recalibration": verdict.as_metrics()}
        )
        version = _register(registry, recal, data, "recalibrated", args)
        if version is None:
            return 1
    update = registry.promote(version)
    print(f"champion: {version}")
    _publish(update, settings)
    return 0


def _register(
    registry: ModelRegistry,
    result: TrainingResult,
    data: LabelledSet,
    tag: str | None,
    args: argparse.Namespace,
) -> str | None:
    """Register the trained model under a new version; None (after saying why) if refused."""
    from roostr.drift import feature_reference
    from roostr.registry import RegistryError
    from training.trainer import fingerprint

    version = registry.next_version(tag)
    training_data = fingerprint(data.X, data.y, data.posted_at, data.source) | {
        "skipped": data.skipped,
        "label_cutoff": _when(data.cutoff) if data.cutoff is not None else None,
    }
    try:
        registry.register(
            result.model,
            version=version,
            metrics=result.metrics,
            training_data=training_data,
            fmt=args.format,
            feature_reference=feature_reference(data.X, result.model.feature_names),
        )
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    print(f"registered {version}")
    return version


def list_models(args: argparse.Namespace, settings: Settings) -> int:
    from roostr.registry import ModelRegistry

    infos = ModelRegistry(settings.registry_dir).versions()
    if not infos:
        print(f"no models in {settings.registry_dir}")
        return 0
    print("champion\tversion\tcreated_at\tfeature_set\ttest_auc\ttest_brier")
    for info in infos:
        test = info.metrics.get("test", {})
        print(
            f"{'*' if info.is_champion else ''}\t{info.version}\t{info.created_at}\t"
            f"{info.feature_set_version}\t{_num(test.get('auc'))}\t{_num(test.get('brier'))}"
        )
    return 0


def promote_model(args: argparse.Namespace, settings: Settings) -> int:
    return _apply_and_announce(settings, lambda reg: reg.promote(args.version))


def rollback_model(args: argparse.Namespace, settings: Settings) -> int:
    return _apply_and_announce(settings, lambda reg: reg.rollback())


def shadow_model(args: argparse.Namespace, settings: Settings) -> int:
    return _apply_and_announce(settings, lambda reg: reg.set_shadow(args.version))


def switch_mode(args: argparse.Namespace, settings: Settings) -> int:
    return _apply_and_announce(settings, lambda reg: reg.mode_update(args.mode))


def _apply_and_announce(settings: Settings, change: Callable[[ModelRegistry], ModelUpdate]) -> int:
    from roostr.registry import RegistryError
    from training.model_actions import apply_change

    try:
        update = apply_change(settings, change)
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"champion: {update.model_version} ({update.action})")
    print(f"shadow: {update.shadow_version or 'none'}")
    if update.mode is not None:
        print(f"mode: {update.mode}")
    _publish(update, settings)
    return 0


def _publish(update: ModelUpdate, settings: Settings) -> None:
    """Announce on ``models.updates``; a warning, not a failure, if it cannot."""
    from training.model_actions import announce

    failure = announce(update, settings)
    if failure is not None:
        print(
            f"warning: could not announce on {settings.topic_model_updates} ({failure}); "
            "the champion pointer is changed and consumers will pick it up when they poll it",
            file=sys.stderr,
        )
    else:
        print(f"announced on {settings.topic_model_updates}")


def _zoned(text: str) -> datetime:
    """An RFC 3339 time with its zone (argparse type): an event time is never local."""
    when = datetime.fromisoformat(text)
    if when.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no zone (add Z or ±hh:mm)")
    return when


def _when(value: datetime | None) -> str:
    return value.isoformat() if value is not None else "none"


def _num(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else "–"
