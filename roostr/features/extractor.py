"""FeatureExtractor: RawSignals in, a float32 feature matrix out, one implementation for live
scoring, replay, backtests and training.

Each signal first updates the state (mention history) and is then featurised against it, so the
row of a signal depends only on the signal, on the signals of its own ticker that came before it
and on the outcomes matured a ``TRACK_RECORD_LAG`` before it was posted (``TrackRecords``),
whenever they were recorded, as long as it was before the signal was featurised: never on
other tickers, so not on which partitions a member holds or how far apart they are in event
time. Transforming a batch and transforming the same signals one by one give identical rows.
Missing context stays NaN (XGBoost learns where to send it); it never becomes 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import timedelta
from itertools import chain
from operator import itemgetter
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from roostr.contracts import Outcome, RawSignal
from roostr.errors import RoostrError
from roostr.features.specs import FEATURE_INDEX, FEATURE_NAMES
from roostr.features.state import MentionHistory, TrackRecords
from roostr.features.text import FUNDAMENTAL_COLUMNS, SOCIAL_COLUMNS, text_features
from roostr.labels import matured_at

__all__ = ["FeatureError", "FeatureExtractor", "FeatureRows", "feature_dict", "feature_dicts"]

NAN = math.nan
FIRE_KEYS = ("🔥", ":fire:", "fire")
ROCKET_KEYS = ("🚀", ":rocket:", "rocket")
MIN_VELOCITY_HOURS = 1 / 60  # reactions observed the second they were posted are not "infinite"
HOUR_DELTA = timedelta(hours=1)
PEAKED_BELOW = 0.8  # interest at most 80 % of its 90-day peak and not rising = past its high


def feature_dicts(X: np.ndarray) -> list[dict[str, float | None]]:
    """Per row {feature name: value}, a missing (NaN) or non-finite value as None.

    This is the ``features`` field of ScoredSignal: JSON has no NaN or infinity, so the record
    says None up front. Patching the few missing cells into ``tolist()`` rows beats a per-value
    check or an object array.
    """
    rows = X.tolist()  # float32 to Python float is exact, as through float64
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


class FeatureError(RoostrError, ValueError):
    """A signal's features could not be computed (raised by ``advance``)."""


class FeatureExtractor:
    """Owns the per-ticker / per-source / per-author state and turns signals into feature rows.

    Every signal advances the state exactly once, when it is featurised or observed, and its
    row is read right then: callers never featurise a signal twice (a second pass would read
    state that later signals have moved on). Per-ticker state is a function of that ticker's
    own signals (``MentionHistory``); track records are a function of the outcomes recorded.
    """

    def __init__(self) -> None:
        self._mentions = MentionHistory()
        self._track_records = TrackRecords()
        self._outcomes: set[str] = set()

    @property
    def feature_names(self) -> tuple[str, ...]:
        return FEATURE_NAMES

    def observe(self, signals: Iterable[RawSignal]) -> None:
        """Update the state only (a restored partition's tail replay, a backtest's history)."""
        for signal in signals:
            self._observe_one(signal)

    def featurise(self, signals: Sequence[RawSignal]) -> FeatureRows:
        """Every signal's row, updating state in the given order; a failing row fails alone.

        A signal whose row raises gets a NaN row and an entry in ``errors``; its mention still
        counts (the failure is a property of the signal, so every replay fails it the same way)
        and the other rows are exactly those of a batch without the failure.

        Per signal (Python): the state it reads and advances, its text and its reactions. For
        the whole batch at once (numpy, ``_context_columns`` and ``_interactions``): the context
        blocks and the interactions, with the same float64 arithmetic as one row at a time, so a
        batch's rows equal those of its signals featurised one by one.
        """
        n = len(signals)
        if not n:
            return FeatureRows(np.empty((0, len(FEATURE_NAMES)), dtype=np.float32), {})
        rows: list[tuple[float, ...]] = []
        errors: dict[int, str] = {}
        for i, signal in enumerate(signals):
            try:
                rows.append(self._own_row(signal, self._observe_one(signal)))
            except Exception as exc:  # noqa: BLE001 - one bad signal must not fail its batch
                errors[i] = f"{type(exc).__name__}: {exc}"
                rows.append(_FAILED_OWN_ROW)
        matrix = np.empty((n, len(FEATURE_NAMES)), dtype=np.float64)
        matrix[:, _OWN_COLUMNS] = _own_block(rows)
        matrix[:, _CONTEXT_COLUMNS] = _context_columns(signals)
        _interactions(matrix)
        if errors:
            matrix[list(errors)] = NAN
        return FeatureRows(matrix.astype(np.float32), errors)

    def advance(self, signals: Sequence[RawSignal]) -> npt.NDArray[np.float32]:
        """Advance the state by ``signals`` (in order) and return their feature matrix
        (n, len(FEATURE_NAMES)) float32. Not scikit-learn's ``transform``: the state moves, so
        a second call with the same signals reads different rows.

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
        self._outcomes.add(outcome.signal_id)
        self._track_records.add(
            outcome.source, outcome.author, matured_at(outcome).timestamp(), outcome.label == 1
        )
        return True

    def _observe_one(self, signal: RawSignal) -> float:
        """Count the mention once per signal id and ticker (a redelivery is not counted again).

        Returns the signal's ``posted_at`` in POSIX seconds, which ``_own_row`` reads too.
        """
        posted = signal.posted_at.timestamp()
        self._mentions.add(signal.ticker, signal.source, signal.signal_id, posted)
        return posted

    def _own_row(self, s: RawSignal, posted: float) -> tuple[float, ...]:
        """The signal's own columns (``_OWN_COLUMNS``): state, reactions, text, lag, asset class.

        ``posted`` is ``s.posted_at`` in POSIX seconds (from ``_observe_one``).
        """
        sources_24h, sources_7d, mentions_24h, mentions_7d, since_first, since_prev = (
            self._mentions.counts(s.ticker, posted)
        )
        source_rate, source_n, author_rate, author_n = self._track_records.at(
            s.source, s.author, posted
        )
        text = text_features(s.message)
        total = float(s.total_reactions or 0)
        lag_hours = NAN if s.observed_at is None else (s.observed_at - s.posted_at) / HOUR_DELTA
        # mypy types a tuple indexed by a slice *object* (text[SOCIAL_COLUMNS]) as one element.
        return (  # type: ignore[misc]
            # source credibility
            float(s.dan_endorsed),
            source_rate,
            float(source_n),
            author_rate,
            NAN if s.author is None else float(author_n),
            float(sources_24h),
            float(sources_7d),
            float(sources_7d >= 2),
            float(mentions_24h),
            float(mentions_7d),
            float(s.mention_count),
            math.log1p(s.mention_count),
            # social conviction
            *_reactions_block(s.reactions, total, math.log1p(total), lag_hours),
            *text[SOCIAL_COLUMNS],
            # market timing
            since_first,
            since_prev,
            lag_hours,
            # fundamentals
            *text[FUNDAMENTAL_COLUMNS],
            float(s.asset_class == "equity"),
            # interactions
            text.green_minus_red_terms,
        )


def _own_block(rows: list[tuple[float, ...]]) -> npt.NDArray[np.float64]:
    """``rows`` as an (n, len(_OWN_COLUMNS)) array: one flat pass, not numpy's nested one (a
    row of another length fails the reshape)."""
    flat = np.fromiter(chain.from_iterable(rows), np.float64)
    return flat.reshape(len(rows), len(_OWN_COLUMNS))


def _reactions_block(
    reactions: dict[str, int], total: float, log_total: float, lag_hours: float
) -> tuple[float, ...]:
    """total … log_reaction_velocity (10 columns)."""
    counts = reactions.values()
    denominator = max(total, sum(counts))
    get = reactions.get
    fire = float(sum(map(get, FIRE_KEYS, _ZEROS)))
    rocket = float(sum(map(get, ROCKET_KEYS, _ZEROS)))
    velocity = total / max(lag_hours, MIN_VELOCITY_HOURS) if lag_hours >= 0 else NAN
    if denominator:
        most = max(counts) if counts else 0
        shares = (fire / denominator, rocket / denominator, most / denominator)
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
        math.log1p(velocity),  # NaN passes through
    )


_ZEROS = (0,) * max(len(FIRE_KEYS), len(ROCKET_KEYS))  # reactions.get's default, per key


def _columns(*names: str) -> list[int]:
    return [FEATURE_INDEX[name] for name in names]


def _span(first: str, last: str) -> list[int]:
    return list(range(FEATURE_INDEX[first], FEATURE_INDEX[last] + 1))


# Where ``_own_row``'s values go, in its order; the rest come from the batch-wide columns.
_OWN_COLUMNS = [
    *_span("dan_endorsed", "cashtags_in_text"),
    *_span("hours_since_first_mention", "observation_lag_hours"),
    *_span("product_terms", "is_equity"),
    FEATURE_INDEX["green_minus_red_terms"],
]
_FAILED_OWN_ROW = (NAN,) * len(_OWN_COLUMNS)
_CONTEXT_COLUMNS = [
    *_span("trends_now", "volume_to_market_cap"),
    *_span("whale_net_flow_slog", "liquidity_to_market_cap"),
]
_DAN, _SOURCE_RATE, _SOURCES_7D, _MULTI_SOURCE = _columns(
    "dan_endorsed", "source_hit_rate", "sources_7d", "multi_source"
)
_LOG_TOTAL, _THESIS, _RISING, _PEAKED, _MAINSTREAM, _WHALE_UP = _columns(
    "log_total_reactions", "thesis_keywords", "trends_rising", "trends_peaked",
    "mainstream_news", "whale_accumulating",
)  # fmt: skip
_INTERACTIONS = _span("dan_x_reactions", "credibility_x_reactions")

# The context fields read per signal, in this order; None (a missing block or field) is NaN.
_TRENDS_FIELDS = ("google_trends_now", "google_trends_7d_ago", "google_trends_peak_90d")
_MARKET_FIELDS = (
    "price_change_7d", "price_change_30d", "ath_distance", "market_cap_usd", "volume_24h_usd",
)  # fmt: skip
_ONCHAIN_FIELDS = (
    "whale_net_flow_usd", "liquidity_usd", "smart_money_inflow_usd", "holder_growth_7d",
    "top10_holder_share",
)  # fmt: skip
_NO_TRENDS = (None,) * (len(_TRENDS_FIELDS) + 1)
_NO_MARKET = (None,) * len(_MARKET_FIELDS)
_NO_ONCHAIN = (None,) * len(_ONCHAIN_FIELDS)
# Read from a block's ``__dict__``, one C call per block: the blocks' fields all have defaults,
# so every field is there.
_TRENDS_VALUES = itemgetter(*_TRENDS_FIELDS, "mainstream_news")
_MARKET_VALUES = itemgetter(*_MARKET_FIELDS)
_ONCHAIN_VALUES = itemgetter(*_ONCHAIN_FIELDS)


def _raw_context(s: RawSignal) -> tuple[float | bool | None, ...]:
    """The signal's context values as given (``_context_columns`` computes from them)."""
    trends, market, onchain = s.trends, s.market, s.onchain
    return (
        (_NO_TRENDS if trends is None else _TRENDS_VALUES(trends.__dict__))
        + (_NO_MARKET if market is None else _MARKET_VALUES(market.__dict__))
        + (_NO_ONCHAIN if onchain is None else _ONCHAIN_VALUES(onchain.__dict__))
    )


def _log1p(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``math.log1p`` of each value (NaN stays NaN).

    numpy's SIMD log1p differs from the C library's in the last bit for a few percent of
    inputs; the features must not change with the batch code, so log1p is the C library's.
    """
    return np.fromiter(map(math.log1p, values.tolist()), np.float64, len(values))


def _slog(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Signed log: sign(v) · log1p(|v|)."""
    return np.copysign(_log1p(np.abs(values)), values)


def _ratio(numerator: npt.NDArray[np.float64], denominator: npt.NDArray[np.float64]) -> Any:
    """numerator / denominator, NaN where either is unknown or the denominator is 0."""
    safe = np.where(denominator == 0, NAN, denominator)
    return numerator / safe


def _above(values: npt.NDArray[np.float64], threshold: float) -> Any:
    """1.0 / 0.0 for known values, NaN for unknown ones."""
    return np.where(np.isnan(values), NAN, values > threshold)


def _context_columns(signals: Sequence[RawSignal]) -> npt.NDArray[np.float64]:
    """trends_now … volume_to_market_cap and whale_net_flow_slog … liquidity_to_market_cap.

    Columns of the whole batch; a missing block or field is NaN. Context values are finite and
    within the contract's bounds (validated on the way in), so no row can fail here.
    """
    raw = np.array([_raw_context(s) for s in signals], dtype=np.float64)  # None -> NaN
    now, week_ago, peak, mainstream = raw[:, 0], raw[:, 1], raw[:, 2], raw[:, 3]
    change_7d, change_30d, ath, cap, volume = raw[:, 4:9].T
    whale, liquidity, smart, holders, top10 = raw[:, 9:14].T
    both = ~(np.isnan(now) | np.isnan(week_ago))
    rising = np.where(both, now > week_ago, NAN)
    # peaked: interest at most 80 % of its 90-day peak and not rising; needs a non-zero peak
    peaked = np.where(
        both & ~np.isnan(peak) & (peak != 0), (now <= PEAKED_BELOW * peak) & (rising == 0), NAN
    )
    return np.column_stack(
        (
            now, (now - week_ago) / 7.0, rising, _ratio(now, peak), peaked, mainstream,
            change_7d, change_30d, ath, _log1p(cap), _log1p(volume), _ratio(volume, cap),
            _slog(whale), _above(whale, 0.0), _log1p(liquidity), _slog(smart), _above(smart, 0.0),
            holders, top10, _ratio(liquidity, cap),
        )
    )  # fmt: skip


def _interactions(matrix: npt.NDArray[np.float64]) -> None:
    """dan_x_reactions … credibility_x_reactions, from the matrix's own columns (in place)."""
    dan, log_total = matrix[:, _DAN], matrix[:, _LOG_TOTAL]
    # early attention: rising x (not peaked) x (not mainstream); NaN when any is unknown
    early = matrix[:, _RISING] * (1.0 - matrix[:, _PEAKED]) * (1.0 - matrix[:, _MAINSTREAM])
    matrix[:, _INTERACTIONS] = np.column_stack(
        (
            dan * log_total,
            dan * matrix[:, _SOURCES_7D],
            dan * matrix[:, _THESIS],
            early,
            matrix[:, _WHALE_UP] * matrix[:, _MULTI_SOURCE],
            matrix[:, _SOURCE_RATE] * log_total,
        )
    )
