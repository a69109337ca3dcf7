"""ConvictionModel: XGBoost's estimate of P(signal reaches 2× entry within 30 days).

A scikit-learn estimator (parameters in ``__init__``, learned state ending in ``_`` set by
``fit``, clone-able) holding a bare ``xgboost.Booster``: either a tree booster (``gbtree``,
served through ``Booster.inplace_predict``, no DMatrix, no pandas) or XGBoost's linear booster
(``gblinear``, a regularised logistic regression on standardised inputs), whichever the model's
own time-ordered validation prefers. On small or mostly additive data the linear booster ranks
better and calibrates better; trees win when interactions carry the signal and rows are many.

With a thousand labelled rows and seventy noisy columns a learner needs priors and sparsity: the
model adds the rule score (computed from the features, so it stays a function of X) as an input
it may lean on, and its linear candidates include L1 (sparse) ones. Which candidate ships is
decided on time-ordered out-of-fold predictions, the simplest unless clearly beaten.

Persistence is XGBoost's own JSON or UBJSON only (never pickle: a pickle runs code on load and
breaks across library versions). Everything the wrapper adds — feature-set version, model version,
calibration, parameters — travels inside the booster's string attributes, so one file is the
whole model.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import xgboost as xgb
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.isotonic import IsotonicRegression

from roostr.contracts import Reason
from roostr.errors import RoostrError
from roostr.features import FEATURE_NAMES
from roostr.rules import DEFAULT_RULE_SET, RULE_SETS

__all__ = ["MODEL_SUFFIXES", "Booster", "Calibration", "ConvictionModel", "ModelError"]

MODEL_SUFFIXES = (".json", ".ubj")
Calibration = Literal["auto", "none", "platt", "isotonic"]
Booster = Literal["auto", "gbtree", "gblinear"]
Standardization = dict[str, list[float]]  # {"mean": [...], "scale": [...]}, one per column
ISOTONIC_MIN_ROWS = 1_000  # below this many validation rows a step function overfits
PLATT_PRIOR_ROWS = 10.0  # weight of the Platt prior, in rows (see ``_platt``)
MIN_VALIDATION_ROWS = 20  # fewer held-out rows cannot choose a booster or calibrate
SIGNIFICANT_SE = 2.0  # a more complex candidate ships only when this much better (see
# ``_simplest_unbeaten``)
LINEAR_ROUNDS = 50  # coordinate descent at eta 1 converges within a few dozen passes
_ATTR = "roostr"  # booster attribute holding the wrapper's own state as JSON
RULE_INPUT_PREFIX = "rule_score:"  # the rule input column's name is this + the rule set's name
PRIOR_SPREAD = 10.0  # the linear booster penalises a prior input's weight this much less
# What a model saved before a parameter existed was trained with (not today's default).
_LEGACY_PARAMS: dict[str, Any] = {"rule_input": None, "linear_l1_rows": (), "spread_priors": False}


class ModelError(RoostrError):
    """The model cannot be trained, loaded or applied as asked."""


@dataclass(frozen=True)
class _Spec:
    """One candidate learner: a booster kind and, for the linear booster, its L1 strength in
    rows (see ``linear_l1_rows``)."""

    kind: str
    l1_rows: float = 0.0

    @property
    def name(self) -> str:
        return f"{self.kind}_l1_{self.l1_rows:g}" if self.l1_rows else self.kind


@dataclass(frozen=True)
class _Candidate:
    """One candidate's out-of-fold margins over the validation slices, and its round count."""

    spec: _Spec
    margin: npt.NDArray[np.float64]
    rounds: int
    early_stopping_round: int | None


class ConvictionModel(ClassifierMixin, BaseEstimator):
    """Binary XGBoost classifier that picks its booster and round count and calibrates itself
    in time.

    A scikit-learn estimator: every parameter is an ``__init__`` argument, ``fit`` learns
    everything (attributes ending in ``_``), so ``sklearn.clone`` and ``cross_validate`` work and
    what is cross-validated is what ships. ``fit`` expects rows in time order (oldest first):

    1. the last ``validation_fraction`` of the rows is cut into ``validation_folds`` consecutive
       slices; each slice is predicted by boosters trained on every row before it (an expanding
       window, so no slice is predicted from its future);
    2. for each slice, tree boosting stops once the log-loss of as many rows just before the
       slice (held out of that fit) has not improved for ``early_stopping_rounds`` rounds, and
       trees of that many rounds, trained on every row before the slice, predict it: the slice
       that scores a candidate never chooses its round count. The round count that ships is the
       median best one, but never fewer than ``min_rounds`` (a near-flat loss curve on a small
       slice must not collapse the model into one tree and one score bucket). The linear
       booster needs no stopping: its L2 penalty (``linear_reg_rows``) and L1 penalty (each of
       ``linear_l1_rows``, and none) are its regularisers and it runs to convergence;
    3. the candidates, simplest first — the linear booster from the strongest L1 penalty to
       none, then trees (``booster`` restricts them to one kind) — are compared on their
       calibrated out-of-fold log-loss, and the simplest one that the best does not beat by
       more than two standard errors ships (a few dozen rows pick the lower loss almost at
       random, and the simpler model is the safer bet). The linear booster honours monotone
       constraints by pinning a wrong-signed weight at zero;
    4. the pooled out-of-fold margins calibrate the probability (``calibration``: ``platt``, a
       sigmoid of two numbers, right for small data; ``isotonic``, a monotone step function for
       1,000+ validation rows; ``auto`` picks by that size; ``none``). Pooling the slices gives
       the calibration several stretches of time instead of the single latest one;
    5. with ``refit`` the chosen booster is retrained on all rows, so the most recent rows
       (usually the most informative) are not wasted; without, the last slice's booster ships.

    ``validation_fraction=0`` trains ``n_estimators`` rounds of the tree booster (unless
    ``booster="gblinear"``: then the L2-only linear booster) on everything, uncalibrated. Both
    calibrations are monotone, so monotone constraints on features survive them.

    ``linear_l1_rows`` are the L1 strengths tried, in rows like ``linear_reg_rows``: an L1
    penalty worth that many rows' gradient, so a column's weight stays exactly zero unless the
    data's evidence for it outweighs that many rows. Since the strongest unbeaten one ships, the
    largest strength is the effective default; 15 rows suits about a thousand rows with the rule
    input (stronger kept too much of the rules alone, weaker let noise columns in;
    ``benchmarks/learning_bench.py``). The L2 penalty, ``linear_reg_rows``, is 10 rows: with the
    L1 doing the selection, a heavier one (100) shrank the weights the data does support, most
    of all a track record's (next-period AUC at 1,000 outcomes +0.003 / +0.007 / +0.010 on the
    base / sparse / callers worlds, within ±0.003 at 300).

    ``rule_input`` names a rule set (``roostr.rules.RULE_SETS``) whose score the model computes
    from X itself and appends as one more input column, ``rule_score:<name>``, constrained
    increasing: the rules are a prior that ranks well, and with it as an input the sparsest
    candidate is "the rules, re-weighted", so the model has to learn only what the rules miss.
    Serving passes X as before; the column appears in ``contributions``, reasons and importance
    like any feature. An input column rather than a fixed offset (``base_margin``): the score's
    scale (1–10) has to be mapped onto log-odds by a fitted weight anyway, the data may shrink
    that weight when the rules are wrong, XGBoost does not store an offset in the model (every
    prediction path would have to add it), and the column is explained like any other. The rule
    reads roostr's feature columns by position, so it is used only when the features are
    exactly ``roostr.features.FEATURE_NAMES`` (``rule_input_`` says whether it was); a rule
    set's arithmetic must not change under the same name, or saved models change with it.

    ``spread_priors``: the inputs whose direction the methodology fixes (``monotone_constraints``:
    Dan's endorsement, the track records) are priors too, and the linear booster spreads them
    like the rule input, so L1 does not hold a caller's record near zero on a thousand rows
    (chosen by the model's own time-ordered validation loss on matured outcomes, see
    ``training/README.md``; models saved before it existed did not spread them).

    ``predict_proba`` returns P(win) with shape ``(n,)``, not scikit-learn's ``(n, 2)``: the
    serving path (``roostr.scoring``) reads it so. Ranking scorers (``roc_auc``) go through
    ``decision_function``, as scikit-learn prefers for binary classifiers.
    """

    version: str | None = None  # set by the registry when registered or loaded; not learned

    def __init__(
        self,
        *,
        booster: Booster = "auto",
        n_estimators: int = 600,
        max_depth: int = 3,
        learning_rate: float = 0.05,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        min_child_weight: float = 3.0,
        reg_lambda: float = 1.0,
        max_delta_step: float = 0.0,
        linear_reg_rows: float = 10.0,
        linear_l1_rows: tuple[float, ...] = (5.0, 15.0),
        rule_input: str | None = DEFAULT_RULE_SET,
        spread_priors: bool = True,
        monotone_constraints: Mapping[str, int] | None = None,
        validation_fraction: float = 0.4,
        validation_folds: int = 3,
        early_stopping_rounds: int = 50,
        min_rounds: int = 100,
        calibration: Calibration = "auto",
        refit: bool = True,
        n_jobs: int = 1,
        random_state: int = 0,
    ) -> None:
        self.booster = booster
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.reg_lambda = reg_lambda
        self.max_delta_step = max_delta_step
        self.linear_reg_rows = linear_reg_rows
        self.linear_l1_rows = linear_l1_rows
        self.rule_input = rule_input
        self.spread_priors = spread_priors
        self.monotone_constraints = monotone_constraints
        self.validation_fraction = validation_fraction
        self.validation_folds = validation_folds
        self.early_stopping_rounds = early_stopping_rounds
        self.min_rounds = min_rounds
        self.calibration = calibration
        self.refit = refit
        self.n_jobs = n_jobs
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # NaN = missing; XGBoost learns where to send it
        return tags

    # --- fitted views (what the registry and the scorer read) ----------------------------------

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Feature names in column order; empty before ``fit``."""
        names = getattr(self, "feature_names_in_", None)
        return () if names is None else tuple(str(n) for n in names)

    @property
    def input_names(self) -> tuple[str, ...]:
        """The booster's input columns: the features, then the rule input if there is one (the
        columns of ``contributions``)."""
        rule = getattr(self, "rule_input_", None)
        return self.feature_names + (() if rule is None else (RULE_INPUT_PREFIX + rule,))

    @property
    def feature_set_version(self) -> str | None:
        """The feature-set version the model was fitted on (None before ``fit``)."""
        return getattr(self, "feature_set_version_", None)

    # --- learning -----------------------------------------------------------------------------

    def fit(
        self,
        X: npt.ArrayLike,
        y: npt.ArrayLike,
        *,
        feature_names: Sequence[str] | None = None,
        feature_set_version: str | None = None,
    ) -> ConvictionModel:
        """Steps 1–5 of the class docstring on time-ordered rows (NaN = missing).

        Feature names come from ``feature_names``, else a DataFrame's columns, else ``f0..``.
        """
        names = _names_of(X, feature_names)
        matrix = _as_matrix(X, len(names))
        labels = np.asarray(y, dtype=np.float32).ravel()
        if matrix.shape[0] != labels.shape[0]:
            raise ModelError(f"{matrix.shape[0]} rows but {labels.shape[0]} labels")
        if len(np.unique(labels)) < 2:
            raise ModelError("training labels hold a single class")
        self._check_constraints(names)
        if self.rule_input is not None and self.rule_input not in RULE_SETS:
            raise ModelError(f"unknown rule set {self.rule_input!r}; known: {sorted(RULE_SETS)}")
        self.feature_names_in_ = np.array(names, dtype=object)
        self.n_features_in_ = len(names)
        self.rule_input_ = self.rule_input if names == FEATURE_NAMES else None
        matrix, names = self._inputs(matrix), self.input_names
        self.calibration_: dict[str, Any] | None = None
        self.validation_log_loss_: dict[str, float] = {}
        slices = self._validation_slices(labels)
        if slices:
            val_y = np.concatenate([labels[start:stop] for start, stop in slices])
            candidates = [
                self._out_of_fold(spec, matrix, labels, names, slices) for spec in self._specs()
            ]
            losses = [_calibrated_row_losses(c.margin, val_y) for c in candidates]
            self.validation_log_loss_ = {
                c.spec.name: float(loss.mean()) for c, loss in zip(candidates, losses, strict=True)
            }
            chosen = _simplest_unbeaten(candidates, losses)
            self.calibration_ = _fit_calibration(
                self._calibration_method(val_y.size), chosen.margin, val_y
            )
            spec, rounds = chosen.spec, chosen.rounds
            self.early_stopping_round_ = chosen.early_stopping_round
            end = labels.size if self.refit else slices[-1][0]
        else:
            spec = _Spec("gblinear" if self.booster == "gblinear" else "gbtree")
            rounds = self.n_estimators
            self.early_stopping_round_ = None
            end = labels.size
        self.booster_type_, self.candidate_ = spec.kind, spec.name
        self.booster_, self.standardization_ = self._train(
            spec, matrix[:end], labels[:end], names, rounds
        )
        self.n_rounds_ = self.booster_.num_boosted_rounds()
        self.classes_ = np.array([0, 1])
        self.feature_set_version_ = feature_set_version
        return self

    def fit_calibration(self, margin: npt.ArrayLike, y: npt.ArrayLike) -> ConvictionModel:
        """Re-learn the calibration from out-of-sample margins (log-odds) and their labels.

        Margins must come from rows the booster did not see; in-sample margins would teach the
        calibrator the model's overconfidence.
        """
        self._fitted()
        m = np.asarray(margin, dtype=np.float64).ravel()
        self.calibration_ = _fit_calibration(self._calibration_method(m.size), m, y)
        return self

    def _specs(self) -> list[_Spec]:
        """The candidates ``booster`` allows, simplest first (see ``_simplest_unbeaten``)."""
        strengths = sorted({0.0, *(float(s) for s in self.linear_l1_rows)}, reverse=True)
        linear = [_Spec("gblinear", l1) for l1 in strengths]
        trees = [_Spec("gbtree")]
        return {"auto": linear + trees, "gblinear": linear, "gbtree": trees}[self.booster]

    def _inputs(self, matrix: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """The booster's input: the features, plus the rule score when there is a rule input."""
        rule = getattr(self, "rule_input_", None)
        if rule is None:
            return matrix
        score = RULE_SETS[rule].score(matrix).astype(np.float32)
        return np.ascontiguousarray(np.column_stack([matrix, score]), dtype=np.float32)

    def _constraints(self) -> dict[str, int]:
        """Monotone directions by input name: the caller's, and the rule input increasing."""
        rule = getattr(self, "rule_input_", None)
        extra = {} if rule is None else {RULE_INPUT_PREFIX + rule: 1}
        return {**(self.monotone_constraints or {}), **extra}

    def _priors(self) -> list[str]:
        """The inputs the linear booster spreads (see ``spread_priors``): the rule input, and
        with ``spread_priors`` every monotone-constrained one."""
        rule = getattr(self, "rule_input_", None)
        rules = [] if rule is None else [RULE_INPUT_PREFIX + rule]
        constrained = list(self.monotone_constraints or {}) if self.spread_priors else []
        return constrained + rules

    def _validation_slices(self, labels: npt.NDArray[np.float32]) -> list[tuple[int, int]]:
        """(start, stop) of the validation slices, oldest first; empty when they are too small
        to choose or calibrate anything (then ``fit`` trains on everything, uncalibrated)."""
        n_val = round(labels.size * self.validation_fraction)
        if n_val < MIN_VALIDATION_ROWS or self.validation_folds < 1:
            return []
        edges = np.linspace(labels.size - n_val, labels.size, self.validation_folds + 1)
        slices = [(int(a), int(b)) for a, b in itertools.pairwise(edges.round()) if b > a]
        pooled = np.concatenate([labels[start:stop] for start, stop in slices])
        if not _two_classes(labels[: slices[0][0]]) or not _two_classes(pooled):
            return []
        return slices

    def _out_of_fold(
        self,
        spec: _Spec,
        matrix: npt.NDArray[np.float32],
        labels: npt.NDArray[np.float32],
        names: Sequence[str],
        slices: list[tuple[int, int]],
    ) -> _Candidate:
        """Margins of ``spec`` on every slice from boosters trained on the rows before it."""
        margins, best_rounds = [], []
        for start, stop in slices:
            train_x, train_y = matrix[:start], labels[:start]
            if spec.kind == "gblinear":
                booster, scale = self._train(spec, train_x, train_y, names, LINEAR_ROUNDS)
                assert scale is not None  # a linear booster always comes with its scaling
                margins.append(_linear_margin(booster, matrix[start:stop], scale, self.n_jobs))
                continue
            # The round count is chosen on the rows just before the slice, never on the slice
            # it is scored on: stopping on the slice itself picked the count that fitted its
            # labels best, which flattered the trees' validation loss against the linear
            # candidates' (fitted without looking at the slice) and shipped trees that ranked
            # the next period worse.
            stop_at = max(start - (stop - start), 1)
            early = xgb.train(
                self._xgb_params(spec, names, stop_at),
                xgb.DMatrix(train_x[:stop_at], label=train_y[:stop_at], feature_names=list(names)),
                num_boost_round=self.n_estimators,
                evals=[
                    (
                        xgb.DMatrix(
                            train_x[stop_at:], label=train_y[stop_at:], feature_names=list(names)
                        ),
                        "stopping",
                    )
                ],
                early_stopping_rounds=self.early_stopping_rounds,
                verbose_eval=False,
            )
            best = early.best_iteration + 1
            best_rounds.append(best)
            booster = xgb.train(
                self._xgb_params(spec, names, start),
                xgb.DMatrix(train_x, label=train_y, feature_names=list(names)),
                num_boost_round=self._rounds(best),
            )
            dval = xgb.DMatrix(matrix[start:stop], feature_names=list(names))
            margins.append(booster.predict(dval, output_margin=True))
        margin = np.concatenate(margins).astype(np.float64)
        if spec.kind == "gblinear":
            return _Candidate(spec, margin, LINEAR_ROUNDS, None)
        best = int(np.median(best_rounds))
        return _Candidate(spec, margin, self._rounds(best), best)

    def _rounds(self, best: int) -> int:
        """Boosting rounds for an early-stopping ``best``: at least the floor, at most the cap."""
        return int(min(self.n_estimators, max(best, self.min_rounds)))

    def _train(
        self,
        spec: _Spec,
        matrix: npt.NDArray[np.float32],
        labels: npt.NDArray[np.float32],
        names: Sequence[str],
        rounds: int,
    ) -> tuple[xgb.Booster, Standardization | None]:
        """A booster of ``spec`` trained on all of ``matrix``, and (linear only) the column
        means and scales its inputs were standardised with."""
        params = self._xgb_params(spec, names, labels.size)
        if spec.kind == "gbtree":
            dtrain = xgb.DMatrix(matrix, label=labels, feature_names=list(names))
            return xgb.train(params, dtrain, num_boost_round=rounds), None
        # XGBoost's linear booster ignores monotone constraints: a feature whose weight comes
        # out against its constraint is pinned at weight 0 (its column hidden as missing) and
        # the rest refitted, as an active-set solver of the sign-constrained problem would. A
        # weight that L1 holds at exactly zero violates nothing.
        scale = _standardization(matrix)
        column = {name: i for i, name in enumerate(names)}
        for name in self._priors():
            # a prior is not one more noisy column: spread PRIOR_SPREAD times wider, its weight
            # needs that many times less and so pays that much less L1 (and its square less L2)
            scale["scale"][column[name]] /= PRIOR_SPREAD
        standardized = _standardize(matrix, scale)
        while True:
            dtrain = xgb.DMatrix(standardized, label=labels, feature_names=list(names))
            booster = xgb.train(params, dtrain, num_boost_round=min(rounds, LINEAR_ROUNDS))
            pinned = self._linear_violations(booster)
            if not pinned:
                return booster, scale
            standardized[:, [column[name] for name in pinned]] = np.nan

    def _calibration_method(self, rows: int) -> str:
        if self.calibration == "auto":
            return "platt" if rows < ISOTONIC_MIN_ROWS else "isotonic"
        return self.calibration

    def _check_constraints(self, feature_names: Sequence[str]) -> None:
        unknown = set(self.monotone_constraints or {}) - set(feature_names)
        if unknown:
            raise ModelError(f"monotone constraints name unknown features: {sorted(unknown)}")

    def _linear_violations(self, booster: xgb.Booster) -> list[str]:
        """Features whose linear weight points against their monotone constraint."""
        weights = _feature_scores(booster, "weight")
        return [
            name
            for name, direction in self._constraints().items()
            if direction * weights.get(name, 0.0) < 0.0
        ]

    def _xgb_params(self, spec: _Spec, feature_names: Sequence[str], rows: int) -> dict[str, Any]:
        common = {
            "objective": "binary:logistic",
            "eval_metric": "logloss",
            "nthread": self.n_jobs,
            "seed": self.random_state,
        }
        if spec.kind == "gblinear":
            # XGBoost multiplies the linear L1 and L2 penalties by the row count; dividing by it
            # keeps each prior worth a fixed number of rows whatever the data's size.
            return {
                **common,
                "booster": "gblinear",
                "updater": "coord_descent",
                "feature_selector": "cyclic",
                "eta": 1.0,
                "lambda": self.linear_reg_rows / max(rows, 1),
                "alpha": spec.l1_rows / max(rows, 1),
            }
        params: dict[str, Any] = {
            **common,
            "tree_method": "hist",
            "max_depth": self.max_depth,
            "eta": self.learning_rate,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "min_child_weight": self.min_child_weight,
            "lambda": self.reg_lambda,
            "max_delta_step": self.max_delta_step,
        }
        constraints = self._constraints()
        if constraints:
            params["monotone_constraints"] = (
                "(" + ",".join(str(constraints.get(n, 0)) for n in feature_names) + ")"
            )
        return params

    # --- prediction ---------------------------------------------------------------------------

    def decision_function(self, X: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Raw log-odds per row (before calibration)."""
        booster = self._fitted()
        matrix = self._inputs(_as_matrix(X, self.n_features_in_))
        if (linear := self._linear()) is not None:  # the linear booster has no inplace_predict
            return linear.margin(matrix)
        return booster.inplace_predict(matrix, predict_type="margin", validate_features=False)

    def predict_proba(self, X: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """P(2× within 30 days) per row, shape (n,) — calibrated when a calibration was fitted."""
        margin = self.decision_function(X).astype(np.float64)
        calibration = self.calibration_
        if calibration is None:
            return _sigmoid(margin)
        if calibration["method"] == "platt":
            return _sigmoid(calibration["a"] * margin + calibration["b"])
        return np.interp(margin, calibration["x"], calibration["y"])

    def predict(self, X: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """1 where P(win) ≥ 0.5, else 0."""
        return (self.predict_proba(X) >= 0.5).astype(np.int64)

    def contributions(self, X: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Per-input log-odds contributions, shape (n, inputs), columns ``input_names`` (the
        features, then the rule input if any); the bias column is dropped.

        Trees use ``approx_contribs=True`` (Saabas: each split's gain credited to its feature
        along the decision path). Exact TreeSHAP is ~20× slower and serving asks for reasons on
        every signal; the approximation ranks the top few features the same way in practice. A
        linear booster's contribution is exact: weight × standardised value (0 when missing).
        The values are in the raw model's log-odds, before calibration.
        """
        self._fitted()
        return self._contributions(self._inputs(_as_matrix(X, self.n_features_in_)))

    def _contributions(self, inputs: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """``contributions`` of the booster's input matrix (``_inputs``: the rule input added)."""
        if (linear := self._linear()) is not None:
            return linear.contributions(inputs)
        contribs = self._fitted().predict(
            _dmatrix(inputs, self.n_jobs),
            pred_contribs=True,
            approx_contribs=True,
            validate_features=False,
        )
        return contribs[:, :-1]

    def _linear(self) -> _LinearTerms | None:
        """The fitted linear booster as arrays (None for trees), read once per booster."""
        booster, scale = self._fitted(), self.standardization_
        if scale is None:
            return None
        cached: tuple[xgb.Booster, _LinearTerms] | None = getattr(self, "_linear_terms", None)
        if cached is None or cached[0] is not booster:
            cached = (booster, _LinearTerms.of(booster, scale))
            self._linear_terms = cached
        return cached[1]

    def explain(self, X: npt.ArrayLike, top_k: int = 3) -> list[list[Reason]]:
        """The ``top_k`` features with the largest absolute contribution, per row, largest first.

        Features whose contribution is exactly zero (unused by every tree on the path) are left
        out, so a row may get fewer than ``top_k`` reasons.
        """
        # model_construct: the values come straight from the model's arrays (see reason_rows).
        return [[Reason.model_construct(**r) for r in row] for row in self.reason_rows(X, top_k)]

    def reason_rows(self, X: npt.ArrayLike, top_k: int = 3) -> list[list[dict[str, Any]]]:
        """``explain`` as JSON-ready dicts in Reason's layout (feature, value, contribution).

        What a scored record carries: the serving path builds these directly, because a
        Reason model per reason cost more than computing it (hot path).
        """
        self._fitted()
        matrix = self._inputs(_as_matrix(X, self.n_features_in_))  # a rule input's value: its score
        contribs = self._contributions(matrix)
        if contribs.shape[0] == 0 or top_k <= 0:
            return [[] for _ in range(contribs.shape[0])]
        k = min(top_k, contribs.shape[1])
        magnitude = np.abs(contribs)
        top = np.argpartition(-magnitude, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(magnitude, top, axis=1), axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        top_contrib = np.take_along_axis(contribs, top, axis=1)
        top_values = np.take_along_axis(matrix, top, axis=1).ravel()
        # numpy's stubs refuse a None branch in np.where; at run time it makes an object array.
        values = np.where(np.isnan(top_values), None, top_values).tolist()  # type: ignore[call-overload]
        names = self.input_names
        # One flat pass over every row's reasons (half the cost of a nested one), cut into rows.
        reasons = [
            {"feature": names[j], "value": v, "contribution": c}
            for j, v, c in zip(
                top.ravel().tolist(), values, top_contrib.ravel().tolist(), strict=True
            )
        ]
        rows = [reasons[i : i + k] for i in range(0, len(reasons), k)]
        if np.all(top_contrib):  # no contribution is exactly zero (NaN is not zero)
            return rows
        return [[r for r in row if r["contribution"] != 0.0] for row in rows]

    def feature_importance(self) -> dict[str, float]:
        """Trees: total gain per feature (features never split on are absent). Linear: the
        absolute weight, i.e. log-odds per standard deviation (zero weights are absent)."""
        booster = self._fitted()
        if self.standardization_ is not None:
            weights = _feature_scores(booster, "weight")
            spread = dict.fromkeys(self._priors(), PRIOR_SPREAD)
            # the priors are standardised PRIOR_SPREAD times wider (see ``_train``)
            return {name: abs(w) * spread.get(name, 1.0) for name, w in weights.items() if w != 0.0}
        return _feature_scores(booster, "total_gain")

    # --- persistence --------------------------------------------------------------------------

    def save(self, path: Path | str) -> Path:
        """Write the model as XGBoost JSON (``.json``) or UBJSON (``.ubj``); returns the path."""
        target = Path(path)
        if target.suffix not in MODEL_SUFFIXES:
            raise ModelError(f"model files are {' or '.join(MODEL_SUFFIXES)}, not {target.name}")
        booster = self._fitted()
        booster.set_attr(
            **{
                _ATTR: json.dumps(
                    {
                        "version": self.version,
                        "feature_set_version": self.feature_set_version,
                        "calibration": self.calibration_,
                        "standardization": self.standardization_,
                        "rule_input": self.rule_input_,
                        "candidate": self.candidate_,
                        "params": self.get_params(),
                    }
                )
            }
        )
        booster.save_model(str(target))
        return target

    @classmethod
    def load(cls, path: Path | str) -> ConvictionModel:
        """Read a model written by ``save``; raises ModelError if it is not one."""
        source = Path(path)
        if source.suffix not in MODEL_SUFFIXES:
            raise ModelError(f"model files are {' or '.join(MODEL_SUFFIXES)}, not {source.name}")
        booster = xgb.Booster()
        try:
            booster.load_model(str(source))
        except xgb.core.XGBoostError as exc:
            raise ModelError(f"cannot read model {source}: {exc}") from exc
        state_json = booster.attr(_ATTR)
        if state_json is None or not booster.feature_names:
            raise ModelError(f"{source} is an XGBoost model but not a roostr ConvictionModel")
        state = json.loads(state_json)
        # models saved before the linear booster existed lack its state: they are tree models;
        # models saved before the rule input or L1 existed were trained without them
        params = {**_LEGACY_PARAMS, **state["params"]}
        params["linear_l1_rows"] = tuple(params["linear_l1_rows"])  # JSON made it a list
        model = cls(**params)
        model.standardization_ = state.get("standardization")
        model.booster_type_ = json.loads(booster.save_config())["learner"]["gradient_booster"][
            "name"
        ]
        model.candidate_ = state.get("candidate", model.booster_type_)
        if (model.booster_type_ == "gblinear") != (model.standardization_ is not None):
            raise ModelError(f"{source} is a {model.booster_type_} model with inconsistent state")
        model.rule_input_ = state.get("rule_input")
        inputs = tuple(booster.feature_names)
        names = inputs if model.rule_input_ is None else inputs[:-1]
        model.feature_names_in_ = np.array(names, dtype=object)
        if model.rule_input_ is not None and (
            model.rule_input_ not in RULE_SETS
            or names != FEATURE_NAMES
            or inputs != model.input_names
        ):
            raise ModelError(f"{source} has a rule input this code cannot compute from its inputs")
        model.booster_ = booster
        model.booster_.set_param({"nthread": model.n_jobs})
        model.version = state["version"]
        model.feature_set_version_ = state["feature_set_version"]
        model.n_features_in_ = len(names)
        model.classes_ = np.array([0, 1])
        model.calibration_ = state["calibration"]
        model.n_rounds_ = booster.num_boosted_rounds()
        return model

    def _fitted(self) -> xgb.Booster:
        booster: xgb.Booster | None = getattr(self, "booster_", None)
        if booster is None:
            raise ModelError("model is not fitted")
        return booster


def _names_of(X: npt.ArrayLike, feature_names: Sequence[str] | None) -> tuple[str, ...]:
    if feature_names is not None:
        return tuple(feature_names)
    columns = getattr(X, "columns", None)
    if columns is not None:
        return tuple(str(c) for c in columns)
    return tuple(f"f{i}" for i in range(np.shape(X)[1]))


def _two_classes(labels: npt.NDArray[np.float32]) -> bool:
    return len(np.unique(labels)) == 2


def _fit_calibration(method: str, margin: npt.ArrayLike, y: npt.ArrayLike) -> dict[str, Any] | None:
    """The calibration state (JSON-ready) mapping margins to probabilities, by ``method``."""
    m = np.asarray(margin, dtype=np.float64).ravel()
    labels = np.asarray(y, dtype=np.float64).ravel()
    if method == "none":
        return None
    if method == "platt":
        a, b = _platt(m, labels)
        return {"method": "platt", "a": a, "b": b}
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(m, labels)
    return {"method": "isotonic", "x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()}


def _calibrated_row_losses(
    margin: npt.NDArray[np.float64], y: npt.NDArray[np.float32]
) -> npt.NDArray[np.float64]:
    """Per-row log-loss after Platt scaling: compares booster kinds on ranking and
    calibratability, not on how over- or under-confident their raw margins happen to be."""
    labels = y.astype(np.float64)
    a, b = _platt(margin, labels)
    z = a * margin + b
    return np.logaddexp(0.0, z) - labels * z


def _simplest_unbeaten(
    candidates: Sequence[_Candidate], losses: Sequence[npt.NDArray[np.float64]]
) -> _Candidate:
    """The first (simplest) of ``candidates`` that the one with the lowest mean validation loss
    does not beat by more than ``SIGNIFICANT_SE`` standard errors of the paired per-row loss
    difference; ``losses`` are the candidates' per-row losses, in the same order.

    A few dozen validation rows rank two learners almost at random; picking the lower loss
    then ships trees on small data about a third of the time, where the linear model ranks
    better out of sample. Extra freedom (trees, weaker penalties) must be earned with clear
    evidence.
    """
    best = losses[int(np.argmin([loss.mean() for loss in losses]))]
    gains = [loss - best for loss in losses]  # the best's own gain is 0: it always qualifies
    return next(
        candidate
        for candidate, gain in zip(candidates, gains, strict=True)
        if gain.mean() <= SIGNIFICANT_SE * gain.std(ddof=1) / np.sqrt(gain.size)
    )


def _standardization(matrix: npt.NDArray[np.float32]) -> Standardization:
    """Column means and standard deviations over the non-missing values (all-missing or
    constant columns get mean 0 / scale 1, so they standardise to themselves or stay NaN)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        present = ~np.isnan(matrix)
        counts = present.sum(axis=0)
        filled = np.where(present, matrix, 0.0).astype(np.float64)
        mean = np.where(counts > 0, filled.sum(axis=0) / np.maximum(counts, 1), 0.0)
        var = np.where(present, (filled - mean) ** 2, 0.0).sum(axis=0) / np.maximum(counts, 1)
    scale = np.sqrt(var)
    return {"mean": mean.tolist(), "scale": np.where(scale > 0, scale, 1.0).tolist()}


def _standardize(
    matrix: npt.NDArray[np.float32], scale: Standardization
) -> npt.NDArray[np.float32]:
    """(x − mean) / scale per column; NaN stays NaN, which XGBoost's linear booster reads as
    missing and gives no weight: a missing value counts as the training mean."""
    mean = np.asarray(scale["mean"], dtype=np.float32)
    sd = np.asarray(scale["scale"], dtype=np.float32)
    return np.ascontiguousarray((matrix - mean) / sd, dtype=np.float32)


def _feature_scores(booster: xgb.Booster, importance_type: str) -> dict[str, float]:
    """``booster.get_score`` of this single-output model: one number per feature (xgboost gives
    a list per feature only for a model with several outputs)."""
    scores: dict[str, float] = {}
    for name, score in booster.get_score(importance_type=importance_type).items():
        if isinstance(score, list):
            raise ModelError(f"{name} has {len(score)} scores; a single-output model has one")
        scores[name] = score
    return scores


@dataclass(frozen=True)
class _LinearTerms:
    """A linear booster as float32 arrays: its margins and contributions without a DMatrix.

    XGBoost builds a DMatrix per call (~110 µs, more than a serving batch's arithmetic). The
    arithmetic here is XGBoost's own, in its order and precision: a contribution is
    weight × standardised value (0 when missing), the margin is the bias followed by each
    column's contribution in turn, summed in float32 (``np.cumsum`` adds in sequence). The
    weights and bias are XGBoost's, read back through ``pred_contribs`` on unit rows, so every
    number equals ``Booster.predict`` bit for bit (test_model_serves_what_xgboost_predicts.py).
    """

    mean: npt.NDArray[np.float32]
    scale: npt.NDArray[np.float32]
    weights: npt.NDArray[np.float32]
    bias: np.float32

    @classmethod
    def of(cls, booster: xgb.Booster, standardization: Standardization) -> _LinearTerms:
        unit = np.eye(len(standardization["mean"]), dtype=np.float32)
        contribs = booster.predict(
            _dmatrix(unit, 1), pred_contribs=True, validate_features=False
        )  # row j: weight j on the diagonal, the bias (with the base margin) in the last column
        return cls(
            mean=np.asarray(standardization["mean"], dtype=np.float32),
            scale=np.asarray(standardization["scale"], dtype=np.float32),
            weights=np.ascontiguousarray(np.diagonal(contribs[:, :-1]), dtype=np.float32),
            bias=np.float32(contribs[0, -1]),
        )

    def contributions(self, matrix: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        standardised = (matrix - self.mean) / self.scale
        products = standardised * self.weights
        return np.where(np.isnan(standardised), np.float32(0.0), products)

    def margin(self, matrix: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        terms = np.empty((matrix.shape[0], matrix.shape[1] + 1), dtype=np.float32)
        terms[:, 0] = self.bias
        terms[:, 1:] = self.contributions(matrix)
        return np.cumsum(terms, axis=1, dtype=np.float32)[:, -1]


def _dmatrix(matrix: npt.NDArray[np.float32], nthread: int) -> xgb.DMatrix:
    """XGBoost's input for a checked matrix, without feature names: ``_as_matrix`` checked its
    width and the caller its column order (the Scorer takes only a model of its feature names).
    Names cost more than the prediction itself on a serving-sized batch (~2 × 80 µs a batch)."""
    return xgb.DMatrix(matrix, nthread=nthread)


def _linear_margin(
    booster: xgb.Booster, matrix: npt.NDArray[np.float32], scale: Standardization, nthread: int
) -> npt.NDArray[np.float32]:
    dmatrix = _dmatrix(_standardize(matrix, scale), nthread)
    return booster.predict(dmatrix, output_margin=True, validate_features=False)


def _as_matrix(X: npt.ArrayLike, n_features: int) -> npt.NDArray[np.float32]:
    """C-contiguous float32 (what XGBoost predicts from without a copy), shape-checked."""
    matrix = np.ascontiguousarray(X, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[1] != n_features:
        raise ModelError(f"expected a (rows, {n_features}) matrix, got shape {matrix.shape}")
    return matrix


def _sigmoid(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp(-x))


def _platt(margin: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> tuple[float, float]:
    """P = sigmoid(a·margin + b) by maximum likelihood, with a Gaussian prior at (a, b) = (1, 0).

    The prior is "the booster's own probabilities are right", worth ``PLATT_PRIOR_ROWS`` rows:
    on a small validation slice, plain Platt scaling follows its noise (a slope near zero flattens
    every score into one bucket; a negative one inverts the ranking), while on thousands of rows
    the data outweighs the prior. The slope is kept positive so calibration never reorders rows.
    """

    def loss(theta: npt.NDArray[np.float64]) -> tuple[float, npt.NDArray[np.float64]]:
        a, b = theta
        z = a * margin + b
        nll = float(np.sum(np.logaddexp(0.0, z) - y * z))
        residual = _sigmoid(z) - y
        prior = np.array([a - 1.0, b])
        value = nll + 0.5 * PLATT_PRIOR_ROWS * float(prior @ prior)
        gradient = np.array([residual @ margin, residual.sum()]) + PLATT_PRIOR_ROWS * prior
        return value, gradient

    fitted = minimize(
        loss,
        x0=np.array([1.0, 0.0]),
        jac=True,
        method="L-BFGS-B",
        bounds=[(1e-3, None), (None, None)],
    )
    return float(fitted.x[0]), float(fitted.x[1])
