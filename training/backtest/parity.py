"""Replay equals live, checked: ``roostr parity`` re-scores what ``signals.scored`` holds.

For the signals live scored with ``posted_at`` in a range, the raw topic is replayed through the
live ``Scorer`` (its batch path, its rule set) with the model version and mode each record says
it was scored with: the feature state observes every raw signal in event time, and the track
records every outcome of ``signals.outcomes`` (each counts from its maturity, as live). Then,
per ``signal_id``, every feature, the rule score, the ML probability, the final score and the
tier must be what live wrote. Numbers agree within ``TOLERANCE`` (relative, or absolute near
zero; a JSON round trip of a float64 is exact, so any real drift is far larger). A model
version that no longer loads (its file changed behind the registry: the sha256 check refuses
it) counts every signal it scored as a mismatch of ``model``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from roostr.contracts import Mode, Outcome, ScoredSignal
from roostr.features import FeatureExtractor
from roostr.model import ConvictionModel
from roostr.registry import ModelRegistry, RegistryError
from roostr.rules import DEFAULT_RULE_SET
from roostr.scoring import Scorer, Unscored
from roostr.settings import Settings
from training.backtest.replay_signals import ReplaySignals

__all__ = ["TOLERANCE", "Parity", "check_parity", "read_and_check"]

TOLERANCE = 1e-9
SCORES = ("rule_score", "ml_probability", "final_score", "tier")
EXAMPLES = 3  # signal ids named per differing field
BATCH = 1000
_SCORED_AT = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Parity:
    """What the replay found: signals compared, fields that differ (how many signals each, and
    a few of their ids), live signals it could not re-score, models it could not load."""

    compared: int = 0
    scored_with: Counter[str] = field(default_factory=Counter)  # "version (mode)" → signals
    differing: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    not_replayed: list[str] = field(default_factory=list)
    unloadable: dict[str, str] = field(default_factory=dict)
    signals_differing: int = 0

    @property
    def mismatches(self) -> int:
        return self.signals_differing + len(self.not_replayed)

    def _differ(self, signal_id: str, fields: Sequence[str]) -> None:
        self.signals_differing += 1
        for name in fields:
            self.differing[name] += 1
            named = self.examples.setdefault(name, [])
            if len(named) < EXAMPLES:
                named.append(signal_id)

    def summary(self) -> str:
        lines = [
            f"parity: {self.compared} live signals re-scored, {self.mismatches} mismatches "
            f"(numbers within {TOLERANCE:g})",
            *(f"  scored with {key}: {n}" for key, n in sorted(self.scored_with.items())),
            *(f"  model {v} not loadable: {why}" for v, why in sorted(self.unloadable.items())),
        ]
        if self.not_replayed:
            lines.append(
                f"  not re-scored (no raw record, or unscored): {len(self.not_replayed)}, "
                f"e.g. {', '.join(self.not_replayed[:EXAMPLES])}"
            )
        for name, n in self.differing.most_common():
            lines.append(f"  {name}: {n} signals differ, e.g. {', '.join(self.examples[name])}")
        return "\n".join(lines)


def check_parity(
    signals: ReplaySignals,
    outcomes: Sequence[Outcome],
    live: Sequence[ScoredSignal],
    load: Callable[[str], ConvictionModel],
) -> Parity:
    """Re-score ``signals`` (event-time order, every raw signal up to the range's end) per model
    version and mode found in ``live`` and compare with it (first copy of each signal_id)."""
    parity = Parity()
    by_id: dict[str, ScoredSignal] = {}
    for record in live:
        by_id.setdefault(record.signal_id, record)
    groups: dict[tuple[str | None, Mode], set[str]] = {}
    for record in by_id.values():
        groups.setdefault((record.model_version, record.mode), set()).add(record.signal_id)
    replayed: set[str] = set()
    for (version, mode), ids in sorted(groups.items(), key=lambda g: (g[0][0] or "", g[0][1])):
        parity.scored_with[f"{version or 'no model'} ({mode})"] = len(ids)
        try:
            model = load(version) if version is not None else None
        except RegistryError as exc:
            parity.unloadable[version or ""] = str(exc)
            for signal_id in sorted(ids):
                parity._differ(signal_id, ["model"])
                replayed.add(signal_id)
            continue
        for replay in _replay(signals, outcomes, model, mode):
            signal_id = replay["signal_id"]
            if signal_id in ids:
                replayed.add(signal_id)
                parity.compared += 1
                fields = differences(by_id[signal_id], replay)
                if fields:
                    parity._differ(signal_id, fields)
    parity.not_replayed = sorted(set(by_id) - replayed)
    return parity


def _replay(
    signals: ReplaySignals,
    outcomes: Sequence[Outcome],
    model: ConvictionModel | None,
    mode: Mode,
) -> list[dict[str, Any]]:
    """The live scorer's records for every signal, scored in batches in the order given."""
    scorer = Scorer(FeatureExtractor(), model=model, mode=mode, rule_set=DEFAULT_RULE_SET)
    for outcome in outcomes:
        scorer.extractor.record_outcome(outcome)
    records = []
    for at in range(0, len(signals), BATCH):
        batch = scorer.score_records(signals.batch(at, min(at + BATCH, len(signals))), _SCORED_AT)
        records += [r for r in batch if not isinstance(r, Unscored)]
    return records


def differences(live: ScoredSignal, replay: dict[str, Any]) -> list[str]:
    """The fields whose values differ: ``features.<name>`` for each feature, then the scores."""
    names = sorted(set(live.features) | set(replay["features"]))
    fields = [
        f"features.{name}"
        for name in names
        if not _same(live.features.get(name, "absent"), replay["features"].get(name, "absent"))
    ]
    return fields + [name for name in SCORES if not _same(getattr(live, name), replay[name])]


def _same(a: object, b: object) -> bool:
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
    return a == b


def read_and_check(settings: Settings, start: datetime, end: datetime) -> Parity:
    """Read ``signals.scored``, the raw topic and ``signals.outcomes`` to their ends; check the
    signals live scored with ``posted_at`` in [start, end). Raises TopicUnreadable."""
    from roostr.topic_reader import read_parsed
    from training.backtest.inputs import read_signals
    from training.outcomes_topic import read_outcomes

    scored, _invalid = read_parsed(
        settings, settings.topic_scored, ScoredSignal.model_validate_json,
        purpose="parity",
    )  # fmt: skip
    live = [s for s in scored if start <= s.posted_at < end]
    signals, _counts = read_signals(settings, settings.topic_raw, end)
    outcomes, _invalid = read_outcomes(settings)
    registry = ModelRegistry(settings.registry_dir)
    return check_parity(signals, outcomes, live, registry.load)
