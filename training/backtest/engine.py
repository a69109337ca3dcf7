"""The backtest itself, given what was read from the topics: label, score in event time,
select, trade, measure. Pure: no broker, no clock, so it runs in tests on crafted inputs.

1. Labels (``training.backtest.labelling``) for every replayed signal; every resolved outcome
   feeds the track records, which credit an outcome only to signals posted after it resolved.
2. Every signal posted before the end is scored in event-time order (``posted_at``, then
   ``signal_id``) by the live scoring code (``Scorer.score_records`` in ``parallel`` mode: rule
   score, ML probability and score, hybrid score) with one model, or, walking forward, with the
   model refitted at each window start. Signals before the start only warm the feature state
   up (and give walk-forward its training rows). Memory stays bounded: signals are decoded a
   batch at a time (``training.backtest.replay_signals``), each keeps a float32 row of
   features and its scores, and labels stay compact until a trade or a refit needs them.
3. Each scorer — ML, hybrid and every rule set — selects signals of the range, trades them and
   is measured (``training.backtest.trades`` / ``performance``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from roostr.contracts import Outcome
from roostr.features import FEATURE_NAMES, FEATURE_SET_VERSION, FeatureExtractor, feature_dicts
from roostr.labels import as_logged
from roostr.model import ConvictionModel
from roostr.rules import RULE_SETS, rule_scores
from roostr.scale import round_score
from roostr.scoring import Scorer, Unscored
from roostr.settings import Settings
from training.backtest.inputs import BacktestInputs
from training.backtest.labelling import Labels, label_signals
from training.backtest.performance import curve_stats, signal_stats, trade_stats, verdicts
from training.backtest.replay_signals import SignalFacts
from training.backtest.selection import Selection
from training.backtest.trades import (
    DAY_S,
    EquityCurve,
    PriceBook,
    Trade,
    equity_curve,
    simulate,
    tradable,
)
from training.backtest.walk_forward import WalkForward

__all__ = ["BacktestConfig", "BacktestResult", "ScorerColumn", "run_backtest"]

BATCH = 1000
# Scored records carry a scored_at; the backtest keeps none, so a fixed one keeps runs equal.
_SCORED_AT = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class BacktestConfig:
    start: datetime
    end: datetime
    selection: Selection
    fees_bps: float = 10.0
    topic: str = "signals.raw"
    walk_forward: WalkForward | None = None


@dataclass(frozen=True)
class ScorerColumn:
    """One scorer's view of the signals in range (row-aligned): its ranking (NaN: not scored),
    its 1–10 score (0: not scored) and, for the model, its probability."""

    name: str
    ranking: npt.NDArray[np.float64]
    score: npt.NDArray[np.int64]
    probability: npt.NDArray[np.float64] | None = None


@dataclass
class BacktestResult:
    summary: dict[str, Any]
    columns: dict[str, ScorerColumn]
    curves: dict[str, EquityCurve]
    labels: npt.NDArray[np.float64]  # per signal in range: 1, 0 or NaN (unlabelled)
    trades: dict[str, list[Trade]] = field(default_factory=dict)


@dataclass
class _Scores:
    """Row-aligned with all replayed signals."""

    features: npt.NDArray[np.float32]  # NaN rows: not scored
    scored: npt.NDArray[np.bool_]
    rule: dict[str, npt.NDArray[np.int64]]
    probability: npt.NDArray[np.float64]
    ml_score: npt.NDArray[np.int64]
    hybrid: npt.NDArray[np.float64]
    unscored: int
    windows: list[dict[str, Any]]


def run_backtest(
    inputs: BacktestInputs,
    config: BacktestConfig,
    settings: Settings,
    model: ConvictionModel | None = None,
    model_info: dict[str, Any] | None = None,
) -> BacktestResult:
    rules = settings.label_rules()
    labels = label_signals(inputs.signals.facts, inputs.outcomes, inputs.ticks, rules)
    scores = _score(inputs, labels, config, settings, model)
    start, end = config.start.timestamp(), config.end.timestamp()
    posted = np.array([s.posted_at.timestamp() for s in inputs.signals.facts])
    rows = np.flatnonzero((posted >= start) & (posted < end))
    signals = [inputs.signals.facts[i] for i in rows.tolist()]
    y = np.array([labels.label_of(s.signal_id) for s in signals], dtype=np.float64)
    columns = _columns(scores, rows)
    equities = [s.asset_class == "equity" for s in signals]
    periods = 252 if equities and all(equities) else 365
    book = PriceBook(inputs.ticks)
    order = np.arange(rows.size)
    stats: dict[str, dict[str, Any]] = {}
    curves: dict[str, EquityCurve] = {}
    traded: dict[str, list[Trade]] = {}
    for name, column in columns.items():
        selected = config.selection.mask(column.ranking, column.score, order)
        # an Outcome (about 1.5 KB) only for the chosen: one for each signal in a range of a
        # million was the largest thing a backtest held
        chosen = [labels.get(signals[i].signal_id) for i in np.flatnonzero(selected).tolist()]
        to_trade = [o for o in chosen if o is not None and tradable(o)]
        trades, skipped_open = simulate(to_trade, rules.target_multiple, config.fees_bps)
        curves[name] = equity_curve(trades, book, start, end, config.fees_bps, periods)
        traded[name] = trades
        stats[name] = {
            **signal_stats(y, column.ranking, column.score, selected, column.probability),
            "skipped_unlabelled": len(chosen) - len(to_trade),
            "skipped_open_position": skipped_open,
            **trade_stats(trades),
            **curve_stats(curves[name]),
        }
    rule_names = [name for name in columns if name in RULE_SETS]
    for name, verdict in verdicts(stats, rule_names).items():
        stats[name]["verdict"] = verdict
    summary = {
        "range": {"from": config.start.isoformat(), "to": config.end.isoformat()},
        "topic": config.topic,
        "selection": config.selection.text,
        "fees_bps": config.fees_bps,
        "model": model_info or {"mode": "none", "version": None},
        "walk_forward": scores.windows if config.walk_forward else None,
        "sharpe_days_per_year": periods,
        "sharpe_basis": _sharpe_basis(periods, equities),
        "signals": {
            **inputs.counts,
            "replayed": len(inputs.signals),
            "in_range": int(rows.size),
            "unscored": scores.unscored,
        },
        "labels": {
            "from_outcomes_topic": labels.from_outcomes_topic,
            "from_prices": labels.from_prices,
            "unlabelled": labels.unlabelled,
            "in_range_labelled": int((~np.isnan(y)).sum()),
            "in_range_positive_rate": float(np.nanmean(y)) if (~np.isnan(y)).any() else None,
        },
        "scorers": stats,
    }
    return BacktestResult(summary, columns, curves, y, traded)


def _score(
    inputs: BacktestInputs,
    labels: Labels,
    config: BacktestConfig,
    settings: Settings,
    model: ConvictionModel | None,
) -> _Scores:
    """Step 2 of the module docstring, over every replayed signal, decoded and scored a batch
    at a time: what is kept of each is its row of features (float32) and its scores."""
    signals = inputs.signals
    scorer = Scorer(FeatureExtractor(), model=model, mode="parallel")
    for outcome in labels.outcomes():
        scorer.extractor.record_outcome(outcome)
    n = len(signals)
    matrix = np.full((n, len(FEATURE_NAMES)), np.nan, dtype=np.float32)
    scored = np.zeros(n, dtype=bool)
    rule = np.zeros(n, dtype=np.int64)
    probability = np.full(n, np.nan)
    ml_score = np.zeros(n, dtype=np.int64)
    hybrid = np.full(n, np.nan)
    windows: list[dict[str, Any]] = []
    wf = config.walk_forward
    starts = wf.window_starts(config.start, config.end) if wf is not None else []
    posted = np.array([s.posted_at.timestamp() for s in signals.facts])
    bounds = [int(np.searchsorted(posted, ws.timestamp(), side="left")) for ws in starts]
    segments = list(zip([0, *bounds], [*bounds, n], [None, *starts], strict=True))
    logged: list[Outcome] = []  # of signals[since:done]: extended per window (a row is final)
    done = 0
    # one C-level lookup per row (None becomes NaN in the float conversion): a Python call
    # per value took a quarter of a 200,000-signal backtest
    row = itemgetter(*FEATURE_NAMES)
    for first, stop, window_start in segments:
        if window_start is not None and wf is not None:
            # windows start later and later: what is too old for this one never trains again
            # (the rows from a day before, a superset of the posted_at filter below)
            since = window_start - wf.train_window
            done = max(done, int(np.searchsorted(posted, since.timestamp() - DAY_S)))
            part = slice(done, first)
            logged += _logged(signals.facts[part], matrix[part], scored[part], rule[part], labels)
            logged = [o for o in logged if o.posted_at >= since]
            done = first
            fitted, window = wf.fit(logged, window_start, settings)
            windows.append(window)
            if fitted is not None:
                scorer.set_model(fitted)
        for at in range(first, stop, BATCH):
            chunk = signals.batch(at, min(at + BATCH, stop))
            done_rows, feature_rows = [], []
            for i, record in enumerate(scorer.score_records(chunk, _SCORED_AT), start=at):
                if isinstance(record, Unscored):
                    continue
                done_rows.append(i)
                feature_rows.append(row(record["features"]))
                rule[i] = record["rule_score"]
                if record["ml_probability"] is not None:
                    probability[i] = record["ml_probability"]
                    ml_score[i] = record["ml_score"]
                    hybrid[i] = record["hybrid_score"]
            if done_rows:
                scored[done_rows] = True
                matrix[done_rows] = np.array(feature_rows, dtype=np.float64)
    rules = {}
    ok = np.flatnonzero(scored)
    for name in sorted(RULE_SETS):
        column = np.zeros(n, dtype=np.int64)
        column[ok] = rule_scores(name, ok, matrix[ok])
        rules[name] = column
    assert np.array_equal(rules[scorer.rule_set][scored], rule[scored]), "rule scores disagree"
    return _Scores(
        matrix, scored, rules, probability, ml_score, hybrid, int(n - scored.sum()), windows
    )


def _logged(
    signals: Sequence[SignalFacts],
    features: npt.NDArray[np.float32],
    scored: npt.NDArray[np.bool_],
    rule: npt.NDArray[np.int64],
    labels: Labels,
) -> list[Outcome]:
    """The outcomes of scored signals as the joiner would have logged them (``as_logged``), with
    what the replay keeps of each scored record: its features (``feature_dicts`` of the scored
    rows is the records' ``features``) and rule score, the final score in ``parallel`` mode."""
    logged = []
    rows = np.flatnonzero(scored).tolist()
    for i, features_of in zip(rows, feature_dicts(features[rows]), strict=True):
        outcome = labels.get(signals[i].signal_id)
        if outcome is not None:
            score = int(rule[i])
            record = {
                "source": outcome.source,
                "author": outcome.author,
                "features": features_of,
                "feature_set_version": FEATURE_SET_VERSION,
                "rule_score": score,
                "final_score": score,
            }
            logged.append(as_logged(outcome, record))
    return logged


def _columns(scores: _Scores, rows: npt.NDArray[np.intp]) -> dict[str, ScorerColumn]:
    """ML and hybrid (when a model scored any signal of the range), then each rule set."""
    columns: dict[str, ScorerColumn] = {}
    probability = scores.probability[rows]
    if (~np.isnan(probability)).any():
        hybrid = scores.hybrid[rows]
        hybrid_score = np.where(np.isnan(hybrid), 0, round_score(np.nan_to_num(hybrid, nan=1.0)))
        columns["ml"] = ScorerColumn("ml", probability, scores.ml_score[rows], probability)
        columns["hybrid"] = ScorerColumn("hybrid", hybrid, hybrid_score.astype(np.int64))
    for name, rule in scores.rule.items():
        score = rule[rows]
        ranking = np.where(score > 0, score.astype(np.float64), np.nan)
        columns[name] = ScorerColumn(name, ranking, score)
    return columns


def _sharpe_basis(periods: int, equities: Sequence[bool]) -> str:
    if periods == 252:
        return "equities only: weekday marks, annualised by sqrt(252)"
    if any(equities):
        return (
            "mixed crypto and equities: daily calendar marks (crypto trades every day; "
            "equities are flat on weekends), annualised by sqrt(365)"
        )
    return "crypto: daily calendar marks, annualised by sqrt(365)"
