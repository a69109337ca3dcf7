"""The training report: ``reports/training_report_<version>.md`` plus ROC, calibration and
feature-importance PNGs next to it (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from training.datasets import LabelledSet
from training.trainer import TrainingResult

__all__ = ["write_report"]


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _plots(result: TrainingResult, stem: Path) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_curve

    paths = {name: stem.with_name(f"{stem.name}_{name}.png") for name in ("roc", "calibration")}
    paths["importance"] = stem.with_name(f"{stem.name}_importance.png")
    y, p = result.y_test, result.p_test

    fig, ax = plt.subplots(figsize=(5, 5))
    if len(np.unique(y)) == 2:
        fpr, tpr, _ = roc_curve(y, p)
        ax.plot(fpr, tpr, label=f"model (AUC {_fmt(result.metrics['test']['auc'])})")
        ruled = result.rule_test > 0
        fpr, tpr, _ = roc_curve(y[ruled], result.rule_test[ruled])
        ax.plot(fpr, tpr, label=f"rules (AUC {_fmt(result.metrics['test_rules']['auc'])})")
    ax.plot([0, 1], [0, 1], "k--", label="constant")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC, walk-forward")
    ax.legend(loc="lower right")
    fig.savefig(paths["roc"], dpi=80)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 5))
    rows = [r for r in result.metrics["calibration_table"] if r["rows"]]
    ax.plot([0, 1], [0, 1], "k--", label="perfect")
    ax.plot(
        [r["mean_probability"] for r in rows],
        [r["win_rate"] for r in rows],
        "o-",
        label="per score bucket",
    )
    ax.set(
        xlabel="mean predicted P(2x)", ylabel="actual 2x rate", title="Calibration, walk-forward"
    )
    ax.legend(loc="upper left")
    fig.savefig(paths["calibration"], dpi=80)
    plt.close(fig)

    top = list(result.importance.items())[:15][::-1]
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.barh([name for name, _ in top], [gain for _, gain in top])
    ax.set(xlabel="total gain", title="Feature importance")
    fig.tight_layout()
    fig.savefig(paths["importance"], dpi=80)
    plt.close(fig)
    return paths


def write_report(
    result: TrainingResult, data: LabelledSet, version: str, reports_dir: Path
) -> Path:
    """Write the Markdown report and its plots on ``data`` (the rows ``result`` was trained
    on, with what was left out); returns the report's path."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    stem = reports_dir / f"training_report_{version}"
    plots = _plots(result, stem)
    m = result.metrics
    lines = [
        f"# Training report {version}",
        "",
        f"- Training rows: {m['train_rows']} (the model ships fitted on all of them); "
        f"walk-forward test rows: {m['test_rows']} in {len(m['test_folds'])} folds, each "
        f"predicted from the purged rows before it (from {m['test_starts_at']})",
        f"- Label cutoff: {data.cutoff.isoformat() if data.cutoff else 'none (all final)'}; "
        f"outcomes left out: {data.skipped.get('immature', 0)} immature (horizon open at the "
        f"cutoff, early wins included), others {_others(data.skipped)}",
        f"- Base rate (train): {_fmt(m['base_rate_train'])}",
        f"- Booster: {m['booster']} (calibrated validation log loss by kind: "
        f"{', '.join(f'{k} {_fmt(v)}' for k, v in m['validation_log_loss'].items()) or '–'})",
        f"- Boosting rounds: {m['best_rounds']} (validation loss best at "
        f"{_fmt(m['early_stopping_round'])})",
        f"- Calibration: {m['calibration']}; monotone increasing: "
        f"{', '.join(m['monotone_increasing']) or 'none'}",
        "",
        "## Walk-forward test rows (each fold predicted from the rows before it)",
        "",
        "Actionable = score ≥ 7 (tiers medium and high).",
        "",
        "| scorer | AUC-ROC | precision | recall | actionable share | Brier | log loss | ECE |",
        "|---|---|---|---|---|---|---|---|",
    ]
    retrain = m.get("retrain")
    scorers = [("model", m["test"])]
    if retrain and retrain["champion"] is not None:
        scorers.append((f"champion {retrain['champion_version']}", retrain["champion"]))
    scorers += [("rules", m["test_rules"]), ("constant base rate", m["test_constant_baseline"])]
    for label, row in scorers:
        lines.append(
            f"| {label} | {_fmt(row['auc'])} | {_fmt(row['precision'])} | "
            f"{_fmt(row['recall'])} | {_fmt(row['actionable_share'])} | {_fmt(row.get('brier'))} "
            f"| {_fmt(row.get('log_loss'))} | {_fmt(row.get('ece'))} |"
        )
    if retrain:
        verdict = (
            "promoted" if retrain["promote"] else "not promoted: " + "; ".join(retrain["reasons"])
        )
        lines += ["", f"**Challenger {verdict}.**"]
    lines += [
        "",
        "## Calibration by score",
        "",
        "| score | rows | mean predicted P | actual 2x rate |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {r['score']} | {r['rows']} | {_fmt(r['mean_probability'])} | {_fmt(r['win_rate'])} |"
        for r in m["calibration_table"]
    ]
    lines += ["", "## Rules' win rate by score", "", "| score | rows | actual 2x rate |"]
    lines += ["|---|---|---|"]
    lines += [
        f"| {r['score']} | {r['rows']} | {_fmt(r['win_rate'])} |" for r in m["test_rules_by_score"]
    ]
    lines += [
        "",
        "## Top features",
        "",
        "Trees: total gain; linear booster: |weight| in log-odds per standard deviation.",
        "",
        "| feature | importance |",
        "|---|---|",
    ]
    lines += [f"| `{r['feature']}` | {r['importance']:.3g} |" for r in m["top_features"]]
    lines += ["", "## Plots", ""]
    lines += [f"![{name}]({path.name})" for name, path in plots.items()]
    report = stem.with_name(f"{stem.name}.md")  # not with_suffix: versions contain dots
    report.write_text("\n".join(lines) + "\n")
    return report


def _others(skipped: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in skipped.items() if k != "immature" and v) or "none"
