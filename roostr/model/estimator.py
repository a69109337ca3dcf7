"""ConvictionModel: XGBoost's estimate of P(signal reaches 2× entry within 30 days).

A scikit-learn estimator holding a bare ``xgboost.Booster``: a tree booster (served through
``Booster.inplace_predict``) or XGBoost's linear booster (a regularised logistic regression on
standardised inputs, ``roostr.model.linear``), whichever its own time-ordered validation prefers
(``roostr.model.candidates``). On small or mostly additive data the linear booster ranks and
calibrates better; trees win when interactions carry the signal and rows are many.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import xgboost as xgb
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from roostr.contracts import Reason
from roostr.errors import ModelError
from roostr.features import FEATURE_NAMES
from roostr.model.calibration import Calibration, calibrate, calibration_method, fit_calibration
from roostr.model.candidates import Candidate, Spec, calibrated_row_losses, simplest_unbeaten
from roostr.model.explanations import feature_scores, top_reasons
from roostr.model.linear import (
    LinearTerms,
    Standardization,
    linear_margin,
    standardization,
    standardize,
)
from roostr.model.matrices import as_matrix, dmatrix, names_of
from roostr.rules import DEFAULT_RULE_SET, RULE_SETS

__all__ = ["MIN_VALIDATION_ROWS", "Booster", "ConvictionModel"]

Booster = Literal["auto", "gbtree", "gblinear"]
MIN_VALIDATION_ROWS = 20  # fewer held-out rows cannot choose a booster or calibrate
LINEAR_ROUNDS = 50  # coordinate descent at eta 1 converges within a few dozen passes
RULE_INPUT_PREFIX = "rule_score:"  # the rule input column's name is this + the rule set's name
PRIOR_SPREAD = 10.0  # the linear booster penalises a prior input's weight this much less


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
       sigmoid of two numbers; ``isotonic``, a monotone step function, only worth it on
       ``ISOTONIC_MIN_ROWS`` (10,000) validation rows or more; ``auto`` picks by that size;
       ``none``). Pooling the slices gives the calibration several stretches of time instead
       of the single latest one;
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

    ``excluded_features`` are read as missing in every row, by every booster, in fitting and in
    serving: columns that stay in the feature set (and on the scored record) but that the model
    must not weigh. roostr excludes the deployment's clocks (``training.trainer``): counts that
    grow with the deployment's age, onto which a model fits any drift of the win rate within its
    training window and then extrapolates it.

    ``predict_proba`` has scikit-learn's shape ``(n, 2)``; ranking scorers (``roc_auc``) go
    through ``decision_function``, as scikit-learn prefers for binary classifiers. Before
    ``fit`` every prediction raises scikit-learn's ``NotFittedError``. Saving and loading:
    ``roostr.model.persistence``.
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
        excluded_features: tuple[str, ...] = (),
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
        self.excluded_features = excluded_features
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
        names = names_of(X, feature_names)
        matrix = as_matrix(X, len(names))
        labels = np.asarray(y, dtype=np.float32).ravel()
        if matrix.shape[0] != labels.shape[0]:
            raise ModelError(f"{matrix.shape[0]} rows but {labels.shape[0]} labels")
        if len(np.unique(labels)) < 2:
            raise ModelError("training labels hold a single class")
        self._check_names(names)
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
            losses = [calibrated_row_losses(c.margin, val_y) for c in candidates]
            self.validation_log_loss_ = {
                c.spec.name: float(loss.mean()) for c, loss in zip(candidates, losses, strict=True)
            }
            chosen = simplest_unbeaten(candidates, losses)
            self.calibration_ = fit_calibration(
                calibration_method(self.calibration, val_y.size), chosen.margin, val_y
            )
            spec, rounds = chosen.spec, chosen.rounds
            self.early_stopping_round_ = chosen.early_stopping_round
            end = labels.size if self.refit else slices[-1][0]
        else:
            spec = Spec("gblinear" if self.booster == "gblinear" else "gbtree")
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
        self.calibration_ = fit_calibration(calibration_method(self.calibration, m.size), m, y)
        return self

    def _specs(self) -> list[Spec]:
        """The candidates ``booster`` allows, simplest first (see ``simplest_unbeaten``)."""
        strengths = sorted({0.0, *(float(s) for s in self.linear_l1_rows)}, reverse=True)
        linear = [Spec("gblinear", l1) for l1 in strengths]
        trees = [Spec("gbtree")]
        return {"auto": linear + trees, "gblinear": linear, "gbtree": trees}[self.booster]

    def _inputs(self, matrix: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """The booster's input: the features with the excluded ones missing, plus the rule score
        (of every feature, as the rule set reads them) when there is a rule input."""
        rule = getattr(self, "rule_input_", None)
        excluded = np.isin(self.feature_names_in_, self.excluded_features)
        if rule is None and not excluded.any():
            return matrix
        columns = [matrix]
        if rule is not None:
            columns.append(RULE_SETS[rule].score(matrix).astype(np.float32)[:, None])
        inputs = np.ascontiguousarray(np.hstack(columns), dtype=np.float32)  # a copy
        inputs[:, : matrix.shape[1]][:, excluded] = np.nan
        return inputs

    def _constraints(self) -> dict[str, int]:
        """Monotone directions by input name: the caller's, and the rule input increasing."""
        rule = getattr(self, "rule_input_", None)
        extra = {} if rule is None else {RULE_INPUT_PREFIX + rule: 1}
        return {**(self.monotone_constraints or {}), **extra}

    def _priors(self) -> list[str]:
        """The inputs the linear booster spreads (see ``spread_priors``): the rule input, and
        with ``spread_priors`` every monotone-constrained one."""
        if self.spread_priors:
            return list(self._constraints())
        rule = getattr(self, "rule_input_", None)
        return [] if rule is None else [RULE_INPUT_PREFIX + rule]

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
        spec: Spec,
        matrix: npt.NDArray[np.float32],
        labels: npt.NDArray[np.float32],
        names: Sequence[str],
        slices: list[tuple[int, int]],
    ) -> Candidate:
        """Margins of ``spec`` on every slice from boosters trained on the rows before it."""
        margins, best_rounds = [], []
        for start, stop in slices:
            train_x, train_y = matrix[:start], labels[:start]
            if spec.kind == "gblinear":
                booster, scale = self._train(spec, train_x, train_y, names, LINEAR_ROUNDS)
                assert scale is not None  # a linear booster always comes with its scaling
                margins.append(linear_margin(booster, matrix[start:stop], scale, self.n_jobs))
                continue
            # The round count is chosen on the rows just before the slice, never on the slice
            # it is scored on: stopping on the slice itself picked the count that fitted its
            # labels best, which flattered the trees' validation loss against the linear
            # candidates' (fitted without looking at the slice) and shipped trees that ranked
            # the next period worse.
            stop_at = max(start - (stop - start), 1)
            early = xgb.train(
                self._xgb_params(spec, names, stop_at),
                dmatrix(train_x[:stop_at], self.n_jobs, train_y[:stop_at]),
                num_boost_round=self.n_estimators,
                evals=[(dmatrix(train_x[stop_at:], self.n_jobs, train_y[stop_at:]), "stopping")],
                early_stopping_rounds=self.early_stopping_rounds,
                verbose_eval=False,
            )
            best = early.best_iteration + 1
            best_rounds.append(best)
            booster = xgb.train(
                self._xgb_params(spec, names, start),
                dmatrix(train_x, self.n_jobs, train_y),
                num_boost_round=self._rounds(best),
            )
            margins.append(
                booster.predict(dmatrix(matrix[start:stop], self.n_jobs), output_margin=True)
            )
        margin = np.concatenate(margins).astype(np.float64)
        if spec.kind == "gblinear":
            return Candidate(spec, margin, LINEAR_ROUNDS, None)
        best = int(np.median(best_rounds))
        return Candidate(spec, margin, self._rounds(best), best)

    def _rounds(self, best: int) -> int:
        """Boosting rounds for an early-stopping ``best``: at least the floor, at most the cap."""
        return int(min(self.n_estimators, max(best, self.min_rounds)))

    def _train(
        self,
        spec: Spec,
        matrix: npt.NDArray[np.float32],
        labels: npt.NDArray[np.float32],
        names: Sequence[str],
        rounds: int,
    ) -> tuple[xgb.Booster, Standardization | None]:
        """A booster of ``spec`` trained on all of ``matrix``, and (linear only) the column
        means and scales its inputs were standardised with."""
        params = self._xgb_params(spec, names, labels.size)
        if spec.kind == "gbtree":
            booster = xgb.train(params, dmatrix(matrix, self.n_jobs, labels), rounds)
            booster.feature_names = list(names)  # the same model as one trained on named inputs
            return booster, None
        # XGBoost's linear booster ignores monotone constraints: a feature whose weight comes
        # out against its constraint is pinned at weight 0 (its column hidden as missing) and
        # the rest refitted, as an active-set solver of the sign-constrained problem would. A
        # weight that L1 holds at exactly zero violates nothing.
        scale = standardization(matrix)
        column = {name: i for i, name in enumerate(names)}
        for name in self._priors():
            # a prior is not one more noisy column: spread PRIOR_SPREAD times wider, its weight
            # needs that many times less and so pays that much less L1 (and its square less L2)
            scale["scale"][column[name]] /= PRIOR_SPREAD
        standardized = standardize(matrix, scale)
        while True:
            dtrain = dmatrix(standardized, self.n_jobs, labels)
            booster = xgb.train(params, dtrain, num_boost_round=min(rounds, LINEAR_ROUNDS))
            booster.feature_names = list(names)
            pinned = self._linear_violations(booster)
            if not pinned:
                return booster, scale
            standardized[:, [column[name] for name in pinned]] = np.nan

    def _check_names(self, feature_names: Sequence[str]) -> None:
        for what, names in (
            ("monotone constraints", set(self.monotone_constraints or {})),
            ("excluded features", set(self.excluded_features)),
        ):
            if unknown := names - set(feature_names):
                raise ModelError(f"{what} name unknown features: {sorted(unknown)}")

    def _linear_violations(self, booster: xgb.Booster) -> list[str]:
        """Features whose linear weight points against their monotone constraint."""
        weights = feature_scores(booster, "weight")
        return [
            name
            for name, direction in self._constraints().items()
            if direction * weights.get(name, 0.0) < 0.0
        ]

    def _xgb_params(self, spec: Spec, feature_names: Sequence[str], rows: int) -> dict[str, Any]:
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
        matrix = self._inputs(as_matrix(X, self.n_features_in_))
        if (linear := self._linear()) is not None:  # the linear booster has no inplace_predict
            return linear.margin(matrix)
        return booster.inplace_predict(matrix, predict_type="margin", validate_features=False)

    def predict_proba(self, X: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Shape (n, 2): P(no 2×) and P(2× within 30 days) per row, calibrated when a calibration
        was fitted (scikit-learn's layout; the serving path reads column 1)."""
        margin = self.decision_function(X).astype(np.float64)  # NotFittedError first
        p = calibrate(self.calibration_, margin)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """1 where P(win) ≥ 0.5, else 0."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)

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
        return self._contributions(self._inputs(as_matrix(X, self.n_features_in_)))

    def _contributions(self, inputs: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """``contributions`` of the booster's input matrix (``_inputs``: the rule input added)."""
        if (linear := self._linear()) is not None:
            return linear.contributions(inputs)
        contribs = self._fitted().predict(
            dmatrix(inputs, self.n_jobs),
            pred_contribs=True,
            approx_contribs=True,
            validate_features=False,
        )
        return contribs[:, :-1]

    def _linear(self) -> LinearTerms | None:
        """The fitted linear booster as arrays (None for trees), read once per booster."""
        booster, scale = self._fitted(), self.standardization_
        if scale is None:
            return None
        cached: tuple[xgb.Booster, LinearTerms] | None = getattr(self, "_linear_terms", None)
        if cached is None or cached[0] is not booster:
            cached = (booster, LinearTerms.of(booster, scale))
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
        matrix = self._inputs(as_matrix(X, self.n_features_in_))  # a rule input's value: its score
        return top_reasons(self.input_names, matrix, self._contributions(matrix), top_k)

    def feature_importance(self) -> dict[str, float]:
        """Trees: total gain per feature (features never split on are absent). Linear: the
        absolute weight, i.e. log-odds per standard deviation (zero weights are absent)."""
        booster = self._fitted()
        if self.standardization_ is not None:
            weights = feature_scores(booster, "weight")
            spread = dict.fromkeys(self._priors(), PRIOR_SPREAD)
            # the priors are standardised PRIOR_SPREAD times wider (see ``_train``)
            return {name: abs(w) * spread.get(name, 1.0) for name, w in weights.items() if w != 0.0}
        return feature_scores(booster, "total_gain")

    # --- persistence --------------------------------------------------------------------------

    def _fitted(self) -> xgb.Booster:
        """The booster; sklearn's NotFittedError before ``fit`` or loading."""
        check_is_fitted(self, "booster_")
        booster: xgb.Booster = self.booster_
        return booster


def _two_classes(labels: npt.NDArray[np.float32]) -> bool:
    return len(np.unique(labels)) == 2
