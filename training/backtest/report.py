"""The backtest report: one self-contained HTML file (tables, and the plots embedded as base64
PNGs) plus the JSON summary, both byte-for-byte the same for the same inputs and arguments.

Nothing in them reads a clock; matplotlib writes no version or date into its PNGs
(``metadata={"Software": None}``) and JSON keys are sorted.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from training.backtest.engine import BacktestResult
from training.backtest.exports import write_trades_and_equity

__all__ = ["PLOTS", "summary_json", "write_report"]

PLOTS = {
    "equity": "Equity curves (daily mark-to-market, 1.0 at the start)",
    "drawdown": "Drawdown from the running peak",
    "calibration": "Actual 2x rate by score",
    "scores": "Score histograms (winners vs. losers)",
}
_LABELS = {"ml": "ML", "hybrid": "hybrid"}


def summary_json(result: BacktestResult) -> str:
    return json.dumps(result.summary, sort_keys=True, indent=2, allow_nan=False) + "\n"


def write_report(result: BacktestResult, directory: Path) -> tuple[Path, Path]:
    """``backtest.html`` and ``backtest.json`` in ``directory``, beside the trades and equity
    files (``training.backtest.exports``); returns the first two's paths."""
    directory.mkdir(parents=True, exist_ok=True)
    page, summary = directory / "backtest.html", directory / "backtest.json"
    page.write_text(render_html(result), encoding="utf-8")
    summary.write_text(summary_json(result), encoding="utf-8")
    write_trades_and_equity(result, directory)
    return page, summary


def render_html(result: BacktestResult) -> str:
    s = result.summary
    images = _plots(result)
    model = s["model"]
    lines = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>roostr backtest {_e(s['range']['from'])} to {_e(s['range']['to'])}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Backtest {_e(s['range']['from'])} → {_e(s['range']['to'])}</h1>",
        "<ul>",
        f"<li>Topic <code>{_e(s['topic'])}</code>; selection <code>{_e(s['selection'])}</code>; "
        f"fees and slippage {_fmt(s['fees_bps'])} bps each way; equal sizing, one position per "
        "ticker at a time.</li>",
        f"<li>Model: {_e(_model_text(model))}.</li>",
        f"<li>Sharpe: {_e(s['sharpe_basis'])}.</li>",
        f"<li>Signals: {_e(_counts(s['signals']))}. Labels: {_e(_counts(s['labels']))}.</li>",
        "</ul>",
        "<h2>Scorers side by side</h2>",
        _scorer_table(s["scorers"]),
        f"<p>Verdict: the seed's criteria — win rate &gt; 60 %, Sharpe &gt; 1.5, a win rate more "
        f"than 10 points above the best rule set's.</p>{_verdict_table(s['scorers'])}",
    ]
    for name, title in PLOTS.items():
        lines += [
            f'<figure id="plot-{name}"><img alt="{_e(title)}" '
            f'src="data:image/png;base64,{images[name]}"><figcaption>{_e(title)}</figcaption>'
            "</figure>"
        ]
    lines += ["<h2>Win rate by score</h2>", _bucket_table(s["scorers"])]
    if s["walk_forward"]:
        lines += ["<h2>Walk-forward windows</h2>", _windows_table(s["walk_forward"])]
    lines += ["</body></html>", ""]
    return "\n".join(lines)


# --- tables ------------------------------------------------------------------------------------

_COLUMNS = (
    ("trades", "trades"),
    ("win_rate", "win rate"),
    ("target_hit_rate", "2x hit rate"),
    ("mean_return", "mean return"),
    ("median_return", "median return"),
    ("profit_factor", "profit factor"),
    ("sharpe", "Sharpe"),
    ("max_drawdown", "max drawdown"),
    ("final_equity", "final equity"),
    ("precision", "precision"),
    ("recall", "recall"),
    ("auc", "AUC"),
    ("selected", "selected"),
    ("skipped_open_position", "skipped (open position)"),
    ("skipped_unlabelled", "skipped (no label)"),
)


def _scorer_table(scorers: dict[str, Any]) -> str:
    head = "".join(f"<th>{_e(label)}</th>" for _key, label in _COLUMNS)
    rows = [
        f"<tr><th>{_e(_label(name))}</th>"
        + "".join(f"<td>{_fmt(row[key])}</td>" for key, _l in _COLUMNS)
        + "</tr>"
        for name, row in scorers.items()
    ]
    return f"<table><tr><th>scorer</th>{head}</tr>{''.join(rows)}</table>"


def _verdict_table(scorers: dict[str, Any]) -> str:
    keys = ("win_rate_above_60pct", "sharpe_above_1_5", "beats_rules_by_10_points", "passed")
    head = "".join(f"<th>{_e(k.replace('_', ' '))}</th>" for k in keys)
    rows = [
        f"<tr><th>{_e(_label(name))}</th>"
        + "".join(f"<td>{_verdict(row['verdict'].get(k, 'n/a'))}</td>" for k in keys)
        + "</tr>"
        for name, row in scorers.items()
    ]
    return f"<table><tr><th>scorer</th>{head}</tr>{''.join(rows)}</table>"


def _bucket_table(scorers: dict[str, Any]) -> str:
    head = "".join(f"<th>{score}</th>" for score in range(1, 11))
    rows = []
    for name, row in scorers.items():
        cells = "".join(
            f"<td>{_fmt(b['win_rate'])}<br><small>n={b['rows']}</small></td>"
            for b in row["win_rate_by_score"]
        )
        rows.append(f"<tr><th>{_e(_label(name))}</th>{cells}</tr>")
    return f"<table><tr><th>scorer \\ score</th>{head}</tr>{''.join(rows)}</table>"


def _windows_table(windows: list[dict[str, Any]]) -> str:
    keys = (
        "window_start",
        "train_outcomes",
        "immature",
        "positives",
        "last_matured_at",
        "model_version",
    )
    head = "".join(f"<th>{_e(k.replace('_', ' '))}</th>" for k in keys) + "<th>refused</th>"
    rows = [
        "<tr>"
        + "".join(f"<td>{_fmt(w[k])}</td>" for k in keys)
        + f"<td>{_fmt(w['refused'])}</td></tr>"
        for w in windows
    ]
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


# --- plots -------------------------------------------------------------------------------------


def _plots(result: BacktestResult) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    drawers: dict[str, Callable[[Any], None]] = {
        "equity": lambda ax: _curves(ax, result, "equity"),
        "drawdown": lambda ax: _curves(ax, result, "drawdown"),
        "calibration": lambda ax: _calibration(ax, result),
    }
    images = {}
    for name, draw in drawers.items():
        fig, ax = plt.subplots(figsize=(8, 4.5))
        draw(ax)
        ax.set_title(PLOTS[name])
        images[name] = _png(fig)
        plt.close(fig)
    columns = list(result.columns.values())
    fig, axes = plt.subplots(1, len(columns), figsize=(3.2 * len(columns), 3.4), squeeze=False)
    for ax, column in zip(axes[0], columns, strict=True):
        bins = np.arange(0.5, 11.5)
        for label, colour, value in (("losers", "tab:red", 0.0), ("winners", "tab:green", 1.0)):
            picked = (column.score > 0) & (result.labels == value)
            ax.hist(column.score[picked], bins=bins, alpha=0.6, color=colour, label=label)
        ax.set(title=_label(column.name), xlabel="score", xticks=range(1, 11))
    axes[0][0].set_ylabel("signals")
    axes[0][0].legend()
    fig.suptitle(PLOTS["scores"])
    fig.tight_layout()
    images["scores"] = _png(fig)
    plt.close(fig)
    return images


def _curves(ax: Any, result: BacktestResult, what: str) -> None:
    for name, curve in result.curves.items():
        days = (curve.times - curve.times[0]) / 86_400
        ax.plot(days, curve.equity if what == "equity" else -curve.drawdown, label=_label(name))
    ax.set(xlabel=f"days since {result.summary['range']['from'][:10]}")
    ax.set_ylabel("equity" if what == "equity" else "drawdown")
    ax.legend(loc="best")
    ax.grid(alpha=0.3)


def _calibration(ax: Any, result: BacktestResult) -> None:
    for name, row in result.summary["scorers"].items():
        buckets = [b for b in row["win_rate_by_score"] if b["rows"]]
        ax.plot(
            [b["score"] for b in buckets], [b["win_rate"] for b in buckets], "o-",
            label=_label(name),
        )  # fmt: skip
    ml = result.summary["scorers"].get("ml")
    if ml is not None:
        buckets = [b for b in ml["win_rate_by_score"] if b["rows"]]
        ax.plot(
            [b["score"] for b in buckets], [b["mean_probability"] for b in buckets], "k--",
            label="ML mean predicted P",
        )  # fmt: skip
    ax.set(xlabel="score", ylabel="share of signals that reached 2x", xticks=range(1, 11))
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80, metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


# --- text --------------------------------------------------------------------------------------


def _label(name: str) -> str:
    return _LABELS.get(name, f"rules: {name}")


def _model_text(model: dict[str, Any]) -> str:
    text = {"walk-forward": "walk-forward retraining", "none": "none (rules only)"}.get(
        model["mode"], f"{model['mode']} {model['version']}"
    )
    if model.get("trained_until"):
        text += f", trained on signals up to {model['trained_until']}"
    if model.get("overlaps_range"):
        text += " — its training data overlaps the backtest range (lookahead)"
    return text


def _counts(counts: dict[str, Any]) -> str:
    return ", ".join(f"{k.replace('_', ' ')} {_fmt(v)}" for k, v in sorted(counts.items()))


def _verdict(value: bool | str | None) -> str:
    if value is None or isinstance(value, str):
        return _fmt(value)
    return "✅ yes" if value else "❌ no"


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return _e(str(value))


def _e(text: str) -> str:
    return html.escape(text, quote=True)


_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}"
    "table{border-collapse:collapse;margin:1em 0}"
    "th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}"
    "figure{margin:1.5em 0}img{max-width:100%}"
)
