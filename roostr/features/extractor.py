"""FeatureExtractor: RawSignals in, a float32 feature matrix out, one implementation for live
scoring, replay, backtests and training.

Each signal first updates the state (mention history) and is then featurised against it, so the
row of a signal depends only on the signal, on the signals of its own ticker that came before it
and on the outcomes recorded before it was transformed: never on other tickers, so not on which
partitions a member holds or how far apart they are in event time. Transforming a batch and
transforming the same signals one by one give identical rows. Missing context stays NaN (XGBoost
learns where to send it); it never becomes 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import timedelta
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from roostr.contracts import Market, OnChain, Outcome, RawSignal, Trends
from roostr.features.specs import FEATURE_NAMES
from roostr.features.state import MentionHistory, TrackRecord
from roostr.features.text import FUNDAMENTAL_COLUMNS, SOCIAL_COLUMNS, text_features
from roostr.labels import resolved_at

__all__ = ["FeatureError", "FeatureExtractor", "FeatureRows", "feature_dict", "feature_dicts"]

NAN = math.nan
FIRE_KEYS = ("🔥", ":fire:", "fire")
ROCKET_KEYS = ("🚀", ":rocket:", "rocket")
MIN_VELOCITY_HOURS = 1 / 60  # reactions observed the second they were posted are not "infinite"
HOUR_DELTA = timedelta(hours=1)
PEAKED_BELOW = 0.8  # interest at most 80 % of its 90-day peak and not rising = past its high
_FAILED_ROW = (NAN,) * len(FEATURE_NAMES)


def _opt(value: float | bool | None) -> float:
    return NAN if value is None else float(value)


def _log1p(value: float) -> float:
    return NAN if value != value else math.log1p(value)  # value != value: NaN passes through


def _slog(value: float | None) -> float:
    return NAN if value is None else math.copysign(math.log1p(abs(value)), value)


def _ratio(numerator: float | None, denominator: float | None) -> float:
    return NAN if numerator is None or not denominator else numerator / denominator


def feature_dicts(X: np.ndarray) -> list[dict[str, float | None]]:
    """Per row {feature name: value}, a missing (NaN) or non-finite value as None.

    This is the ``features`` field of ScoredSignal: JSON has no NaN or infinity, so the record
    says None up front. Patching the few missing cells into ``tolist()`` rows beats a per-value
    check or an object array.
    """
    rows = X.astype(np.float64).tolist()
    missing_rows, missing_cols = np.nonzero(~np.isfinite(X))
    for i, j in zip(missing_rows.tolist(), missing_cols.tolist(), strict=True):
        rows[i][j] = None
    return [dict(zip(FEATURE_NAMES, row, strict=True)) for row in rows]


def feature_dict(row: Sequence[float]) -> dict[str, float | None]:
    """One matrix row as ``{name: value}`` (see ``feature_dicts``)."""
    return feature_dicts(np.asarray(row, dtype=np.float32)[np.newaxis])[0]


class FeatureRows(NamedTuple):
    """A batch's feature matrix and the rows that could not be computed."""

    matrix: npt.NDArray[np.float32]  # (n, len(FEATURE_NAMES)); a failed row is all NaN
    errors: dict[int, str]  # row index -> why its features failed


class FeatureError(ValueError):
    """A signal's features could not be computed (raised by ``transform``)."""


class FeatureExtractor:
    """Owns the per-ticker / per-source / per-author state and turns signals into feature rows.

    Every signal advances the state exactly once, when it is transformed or observed, and its
    row is read right then: callers never transform a signal twice (a second pass would read
    state that later signals have moved on). Per-ticker state is a function of that ticker's
    own signals (``MentionHistory``); track records are a function of the outcomes recorded.
    """

    def __init__(self) -> None:
        self._mentions = MentionHistory()
        self._sources = TrackRecord()
        self._authors = TrackRecord()
        self._outcomes: set[str] = set()

    @property
    def feature_names(self) -> tuple[str, ...]:
        return FEATURE_NAMES

    def observe(self, signals: Iterable[RawSignal]) -> None:
        """Update the state only (e.g. warm-up from a topic replay after a rebalance)."""
        for signal in signals:
            self._observe_one(signal)

    def featurise(self, signals: Sequence[RawSignal]) -> FeatureRows:
        """Every signal's row, updating state in the given order; a failing row fails alone.

        A signal whose row raises gets a NaN row and an entry in ``errors``; its mention still
        counts (the failure is a property of the signal, so every replay fails it the same way)
        and the other rows are exactly those of a batch without the failure.
        """
        rows: list[tuple[float, ...]] = []
        errors: dict[int, str] = {}
        for i, signal in enumerate(signals):
            try:
                self._observe_one(signal)
                rows.append(self._row(signal))
            except Exception as exc:  # noqa: BLE001 - one bad signal must not fail its batch
                errors[i] = f"{type(exc).__name__}: {exc}"
                rows.append(_FAILED_ROW)
        if not rows:
            return FeatureRows(np.empty((0, len(FEATURE_NAMES)), dtype=np.float32), errors)
        return FeatureRows(np.array(rows, dtype=np.float32), errors)

    def transform(self, signals: Sequence[RawSignal]) -> npt.NDArray[np.float32]:
        """Feature matrix (n, len(FEATURE_NAMES)) float32, updating state in the given order.

        Raises ``FeatureError`` naming the first signal whose row failed (after the whole batch
        was observed); ``featurise`` reports failures per row instead.
        """
        matrix, errors = self.featurise(signals)
        if errors:
            i, error = next(iter(errors.items()))
            raise FeatureError(f"signal {signals[i].signal_id!r}: {error}")
        return matrix

    def export_tickers(self, tickers: Iterable[str]) -> Iterator[tuple[str, Any]]:
        """The named tickers' state as JSON-ready entries (a partition's snapshot)."""
        return self._mentions.export(tickers)

    def load_tickers(self, entries: Mapping[str, Any]) -> list[str]:
        """Add tickers from ``export_tickers`` entries; returns their names."""
        return self._mentions.load(entries)

    def forget_tickers(self, tickers: Iterable[str]) -> None:
        """Drop the named tickers' state (their partition moved elsewhere)."""
        self._mentions.forget(tickers)

    def record_outcome(self, outcome: Outcome) -> bool:
        """Feed the source and author track records; False when the outcome cannot count.

        Ignored: unresolved outcomes, a signal_id already recorded (redelivery), and outcomes
        that do not name their source. Every member reads every outcome, but each member sees
        only its own partitions' signals: filling a missing source from them would give one
        source a different track record on each member.
        """
        if outcome.label is None or outcome.source is None or outcome.signal_id in self._outcomes:
            return False
        resolved, won = resolved_at(outcome).timestamp(), outcome.label == 1
        self._outcomes.add(outcome.signal_id)
        self._sources.add(outcome.source, resolved, won)
        if outcome.author is not None:
            self._authors.add(outcome.author, resolved, won)
        return True

    def _observe_one(self, signal: RawSignal) -> None:
        """Count the mention once per signal id and ticker (a redelivery is not counted again)."""
        self._mentions.add(
            signal.ticker, signal.source, signal.signal_id, signal.posted_at.timestamp()
        )

    def _row(self, s: RawSignal) -> tuple[float, ...]:
        """One row, in the exact order of roostr.features.specs.FEATURES."""
        posted = s.posted_at.timestamp()
        window = self._mentions.counts(s.ticker, posted)
        source_rate, source_n = self._sources.at(s.source, posted)
        author_rate, author_n = self._authors.at(s.author, posted)
        text = text_features(s.message)
        total = float(s.total_reactions or 0)
        log_total = math.log1p(total)
        lag_hours = NAN if s.observed_at is None else (s.observed_at - s.posted_at) / HOUR_DELTA
        trends = _trends_block(s.trends)
        market = _market_block(s.market)
        onchain = _onchain_block(s.onchain, s.market.market_cap_usd if s.market else None)
        whale_up = onchain[1]
        multi_source = float(window.sources_7d >= 2)
        dan = float(s.dan_endorsed)
        # rising x (not peaked) x (not mainstream); NaN when any is unknown
        early = trends[2] * (1.0 - trends[4]) * (1.0 - trends[5])
        return (
            # source credibility
            dan,
            source_rate,
            float(source_n),
            author_rate,
            NAN if s.author is None else float(author_n),
            float(window.sources_24h),
            float(window.sources_7d),
            multi_source,
            float(window.mentions_24h),
            float(window.mentions_7d),
            float(s.mention_count),
            math.log1p(s.mention_count),
            # social conviction
            *_reactions_block(s.reactions, total, log_total, lag_hours),
            *text[SOCIAL_COLUMNS],
            # market timing
            *trends,
            *market,
            window.hours_since_first,
            window.hours_since_prev,
            lag_hours,
            # on-chain
            *onchain,
            # fundamentals
            *text[FUNDAMENTAL_COLUMNS],
            float(s.asset_class == "equity"),
            # interactions
            dan * log_total,
            dan * window.sources_7d,
            dan * text.thesis_keywords,
            early,
            whale_up * multi_source,
            source_rate * log_total,
            text.green_minus_red_terms,
        )


def _reactions_block(
    reactions: dict[str, int], total: float, log_total: float, lag_hours: float
) -> tuple[float, ...]:
    """total … log_reaction_velocity (10 columns)."""
    counts = reactions.values()
    denominator = max(total, sum(counts))
    fire = float(sum(reactions.get(k, 0) for k in FIRE_KEYS))
    rocket = float(sum(reactions.get(k, 0) for k in ROCKET_KEYS))
    velocity = total / max(lag_hours, MIN_VELOCITY_HOURS) if lag_hours >= 0 else NAN
    if denominator:
        shares = (fire / denominator, rocket / denominator, max(counts, default=0) / denominator)
    else:
        shares = (NAN, NAN, NAN)
    return (
        total,
        log_total,
        fire,
        rocket,
        *shares,
        float(len(counts) - [*counts].count(0)),
        velocity,
        _log1p(velocity),
    )


_NO_TRENDS = (NAN,) * 6
_NO_MARKET = (NAN,) * 6
_NO_ONCHAIN = (NAN,) * 8


def _trends_block(trends: Trends | None) -> tuple[float, ...]:
    """trends_now … mainstream_news (6 columns)."""
    if trends is None:
        return _NO_TRENDS
    now, week_ago, peak = (
        trends.google_trends_now,
        trends.google_trends_7d_ago,
        trends.google_trends_peak_90d,
    )
    slope = rising = peaked = NAN
    if now is not None and week_ago is not None:
        slope, rising = (now - week_ago) / 7.0, float(now > week_ago)
        if peak:
            peaked = float(now <= PEAKED_BELOW * peak and not rising)
    return (_opt(now), slope, rising, _ratio(now, peak), peaked, _opt(trends.mainstream_news))


def _market_block(market: Market | None) -> tuple[float, ...]:
    """price_change_7d … volume_to_market_cap (6 columns)."""
    if market is None:
        return _NO_MARKET
    cap, volume = market.market_cap_usd, market.volume_24h_usd
    return (
        _opt(market.price_change_7d),
        _opt(market.price_change_30d),
        _opt(market.ath_distance),
        _log1p(_opt(cap)),
        _log1p(_opt(volume)),
        _ratio(volume, cap),
    )


def _onchain_block(onchain: OnChain | None, cap: float | None) -> tuple[float, ...]:
    """whale_net_flow_slog … liquidity_to_market_cap (8 columns)."""
    if onchain is None:
        return _NO_ONCHAIN
    whale, smart, liquidity = (
        onchain.whale_net_flow_usd,
        onchain.smart_money_inflow_usd,
        onchain.liquidity_usd,
    )
    return (
        _slog(whale),
        NAN if whale is None else float(whale > 0),
        _log1p(_opt(liquidity)),
        _slog(smart),
        NAN if smart is None else float(smart > 0),
        _opt(onchain.holder_growth_7d),
        _opt(onchain.top10_holder_share),
        _ratio(liquidity, cap),
    )
