"""The learning benchmark's worlds: every variant generates, its oracle ceiling (a score the
world computes from its own formula, never a feature) ranks the true labels better than chance
and better than the rules, the sparse world's noise inputs say nothing of the label, and the
features' code never reads the world's formula."""

import ast
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

import roostr.features
from roostr.features import FEATURE_INDEX
from roostr.synthetic.world import VARIANTS, World, generate_world, logged_outcomes
from training.datasets import LabelledSet, labelled_outcomes

SIGNALS, SPAN_DAYS = 1_500, 400
# Wording, reactions, attention and holder share: drawn apart from the sparse world's drivers.
SPARSE_NOISE = (
    "thesis_keywords",
    "red_flag_words",
    "product_terms",
    "total_reactions",
    "fire_reactions",
    "trends_peaked",
    "early_attention",
    "mainstream_news",
    "top10_holder_share",
)


@cache
def logged_world(variant: str) -> tuple[World, LabelledSet]:
    """The variant's world and its rows as the serving code logs them (made once per run)."""
    world = generate_world(SIGNALS, seed=4, span_days=SPAN_DAYS, variant=variant)
    return world, labelled_outcomes(logged_outcomes(world), source="world")


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_the_ceiling_ranks_the_labels_better_than_the_rules(variant: str) -> None:
    world, logged = logged_world(variant)
    assert len(world.signals) == SIGNALS == world.ceiling.size
    assert ((world.ceiling >= 0) & (world.ceiling <= 1)).all()
    assert np.array_equal(logged.y, world.labels)  # rows in the world's order
    ceiling_auc = roc_auc_score(world.labels, world.ceiling)
    rules_auc = roc_auc_score(world.labels, logged.rule_score)
    assert ceiling_auc > 0.7
    assert ceiling_auc > rules_auc + 0.05


def _noise_aucs(variant: str) -> tuple[dict[str, float], float]:
    """|AUC − 0.5| of each SPARSE_NOISE column against the labels, and dan_endorsed's AUC."""
    world, logged = logged_world(variant)
    X = logged.X
    gaps = {}
    for name in SPARSE_NOISE:
        column = X[:, FEATURE_INDEX[name]]
        known = ~np.isnan(column)
        gaps[name] = abs(roc_auc_score(world.labels[known], column[known]) - 0.5)
    return gaps, roc_auc_score(world.labels, X[:, FEATURE_INDEX["dan_endorsed"]])


def test_the_sparse_worlds_noise_inputs_are_independent_of_the_label() -> None:
    # Labels cluster (a call's signals, overlapping calls), so a single column's AUC strays by
    # up to ±0.06 by chance; the mean over the columns is tighter. The base world, where these
    # inputs drive the drift or lean on Dan, fails the same check.
    sparse, sparse_dan = _noise_aucs("sparse")
    assert max(sparse.values()) < 0.08, sparse
    assert np.mean(list(sparse.values())) < 0.035, sparse
    assert sparse_dan > 0.55  # the informative inputs do inform
    base, _ = _noise_aucs("base")
    assert np.mean(list(base.values())) > 0.035, base


def test_the_features_code_never_reads_the_world() -> None:
    for source in Path(roostr.features.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            worlds = [m for m in modules if m.startswith(("training", "roostr.synthetic"))]
            assert not worlds, source
