"""A scorer's backtest numbers and the seed's verdict on them.

Per trade: win rate (share of trades with a positive return after fees), the share that hit
the 2x target, mean and median return, profit factor (gains over losses; None without a losing
trade). On the equity curve: Sharpe and maximum drawdown (``training.backtest.trades``). On
the signals: precision and recall of the selection against the 2x label, AUC of the ranking,
and the win rate per 1–10 score (the seed's calibration check).

The seed's success criteria: win rate > 60 %, Sharpe > 1.5, and a win rate more than 10 points
above the rules'. A model-based scorer is compared with the best rule set's win rate; the rule
sets are the baseline and have no third criterion.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.metrics import roc_auc_score

from training.backtest.trades import EquityCurve, Trade
from training.predictive_metrics import win_rate_by_score

__all__ = [
    "BEATS_RULES_BY",
    "SHARPE_MIN",
    "WIN_RATE_MIN",
    "curve_stats",
    "signal_stats",
    "trade_stats",
    "verdicts",
]

WIN_RATE_MIN = 0.60
SHARPE_MIN = 1.5
BEATS_RULES_BY = 0.10


def trade_stats(trades: Sequence[Trade]) -> dict[str, Any]:
    returns = np.array([t.net_return for t in trades], dtype=np.float64)
    if not returns.size:
        return {
            "trades": 0,
            "win_rate": None,
            "target_hit_rate": None,
            "mean_return": None,
            "median_return": None,
            "profit_factor": None,
        }
    gains, losses = returns[returns > 0].sum(), -returns[returns < 0].sum()
    return {
        "trades": int(returns.size),
        "win_rate": float((returns > 0).mean()),
        "target_hit_rate": float(np.mean([t.hit_target for t in trades])),
        "mean_return": float(returns.mean()),
        "median_return": float(np.median(returns)),
        "profit_factor": float(gains / losses) if losses > 0 else None,
    }


def curve_stats(curve: EquityCurve) -> dict[str, Any]:
    return {
        "sharpe": curve.sharpe(),
        "max_drawdown": curve.max_drawdown(),
        "final_equity": float(curve.equity[-1]),
        "capital_positions": curve.positions,
    }


def signal_stats(
    labels: npt.NDArray[np.float64],
    ranking: npt.NDArray[np.float64],
    score: npt.NDArray[np.int64],
    selected: npt.NDArray[np.bool_],
    probability: npt.NDArray[np.float64] | None = None,
) -> dict[str, Any]:
    """Over the signals the scorer scored that have a label (``labels`` NaN: none)."""
    known = ~np.isnan(labels) & ~np.isnan(ranking)
    y = labels[known].astype(np.int64)
    picked = selected[known]
    return {
        "signals_scored": int((~np.isnan(ranking)).sum()),
        "signals_labelled": int(y.size),
        "selected": int(selected.sum()),
        "precision": float(y[picked].mean()) if picked.any() else None,
        "recall": float(picked[y == 1].mean()) if (y == 1).any() else None,
        "auc": float(roc_auc_score(y, ranking[known])) if np.unique(y).size == 2 else None,
        "win_rate_by_score": win_rate_by_score(
            y, score[known], None if probability is None else probability[known]
        ),
    }


def verdicts(
    stats: Mapping[str, Mapping[str, Any]], rule_scorers: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Per scorer: each criterion (None when it cannot be judged) and whether all passed."""
    rule_rates = [stats[name]["win_rate"] for name in rule_scorers]
    best_rules = max((r for r in rule_rates if r is not None), default=None)
    out = {}
    for name, row in stats.items():
        win_rate, sharpe = row["win_rate"], row["sharpe"]
        criteria: dict[str, bool | None] = {
            "win_rate_above_60pct": None if win_rate is None else win_rate > WIN_RATE_MIN,
            "sharpe_above_1_5": None if sharpe is None else sharpe > SHARPE_MIN,
        }
        if name not in rule_scorers:
            criteria["beats_rules_by_10_points"] = (
                None
                if win_rate is None or best_rules is None
                else win_rate - best_rules > BEATS_RULES_BY
            )
        out[name] = {**criteria, "passed": all(v is True for v in criteria.values())}
    return out
