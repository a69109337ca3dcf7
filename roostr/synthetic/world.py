"""A synthetic market where signals are partly informative and labels come from price paths.

Unlike ``training.synthetic`` (the bootstrap prior's set, whose labels are drawn from the rules'
own green flags), here nothing decides a label directly. A *call* (a ticker picked up by one to
three sources within two days) has latent drivers — Dan's involvement, the number of sources, Google
Trends rising or peaked, whale flow, thesis vs. hype wording, the token's liquidity, its prior
run-up, the sources' hidden quality and unobservable noise — that set the drift of the ticker's
price for the next 30 days, while liquidity sets its volatility. Each ticker's price is one
geometric random walk over the whole span (ticks every ``TICK``), so overlapping calls add up and
one signal's label can depend on another's. A signal is labelled by the joiner's own rule
(``roostr.labels.label_in_event_time`` over the whole price record): 1 when a tick within 30 days
after it was posted reaches twice its entry price.

The signals show the drivers only partly: the wording is sometimes neutral whatever the thesis,
whale flow is seen with noise, context blocks go missing as they do from real scrapers, the run-up
is the price path's own 30-day change and the noise is never seen. So a perfect learner cannot
reach AUC 1.0, and the rules (which know nothing of liquidity or run-ups) leave signal on the table.

Variants (``VARIANTS``) change how the drift is made, never what the serving code sees:

- ``base``: the drivers above;
- ``sparse``: the drift depends on Dan's involvement and whale flow only (volatility on liquidity,
  as everywhere); the wording, reactions, trends, sources and authors are drawn independently of
  them and of each other's effect, so most of the 70 columns carry pure noise;
- ``callers``: every call is made by one of ``callers`` authors whose hidden skill (drawn per
  author) shifts the drift; it shows only through the track records
  (``author_hit_rate`` / ``author_resolved_signals``). The other drivers are half as strong.

``World.ceiling`` is each signal's *oracle ceiling*: P(2x within 30 days) from the world's own
formula, by Monte Carlo on the tick grid, given the drift of every call on the ticker posted by
then (this one included) and the ticker's volatility, marginalising the calls' unobservable noise
and their price shocks. It knows the drivers as the world drew them (whale flow without the
observation noise, thesis and hype even when the wording hides them, the callers' true skill), so
it is an upper bound on what the features can carry, not reachable by any learner (the learning
benchmark estimates the observable ceiling separately, from a learner given ample data); it does
not know calls yet to come. It is an attribute of the world, never a feature.

``logged_outcomes`` turns the world into the Outcome records the outcome joiner would emit, the
scored records made by the serving code in event-time order and joined by ``as_logged``. The
learning benchmark and the retrain tests use it; the demo and the backtest bench publish
``signals`` and ``prices`` to Kafka instead and let the pipeline do the same.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cached_property
from itertools import repeat

import numpy as np
import numpy.typing as npt

from roostr.contracts import Market, OnChain, Outcome, PriceTick, RawSignal, Trends
from roostr.features import FeatureExtractor
from roostr.labels import LabelRules, as_logged, label_in_event_time
from roostr.scoring import Scorer, Unscored

__all__ = [
    "HORIZON_DAYS",
    "TICK",
    "VARIANTS",
    "PricePath",
    "Variant",
    "World",
    "generate_market",
    "generate_world",
    "logged_outcomes",
]

START = datetime(2024, 1, 1, tzinfo=UTC)
HORIZON_DAYS = 30
TICK = timedelta(hours=6)
N_TICKERS = 150
SIGNALS_PER_CALL = 1.7  # mean of the sources-per-call distribution below
SOURCE_COUNTS, SOURCE_COUNT_P = (1, 2, 3), (0.5, 0.3, 0.2)

# source → hidden quality (drift shift): discoverable only through the track-record features.
SOURCES = {
    "Yieldschool-YieldHub": 0.15,
    "Yieldschool-DansPicks": 0.1,
    "CT-Alpha": 0.0,
    "Discord-Degens": -0.1,
    "Telegram-Moonshots": -0.2,
}
AUTHORS = ("mira", "kofi", "zed", "lee", "anon42", "pumpking")
THESIS = (
    "Thesis: undervalued vs fundamentals, real adoption and paying users.",
    "Deep dive on tokenomics and revenue; mainnet is live.",
)
HYPE = ("Presale, guaranteed 100x, get in now!", "Risk free, to the moon, last chance!!")
NEUTRAL = ("Watching this one.", "Interesting chart.", "Thoughts?", "On my radar.")
CEILING_PATHS = 512  # Monte Carlo paths per signal: the ceiling's error is about ±0.02
CEILING_CALLS = 12  # the most recent calls on a ticker the ceiling adds up (a handful is usual)


@dataclass(frozen=True)
class Variant:
    """How a world makes the drift: each driver's weight in ``_drift`` and how the drivers hang
    together (``linked``: Dan's calls lean to thesis wording, whale flow, reactions, his source
    and his name as author, so those carry his signal too)."""

    name: str
    dan: float = 0.35
    sources: float = 0.15
    timing: float = 0.3
    whale: float = 0.2
    thesis: float = 0.2
    hype: float = 0.3
    run_up: float = 0.4
    source_quality: float = 1.0
    callers: int = 0  # 0: authors are anonymous and skill-less
    caller_skill: float = 0.0  # standard deviation of a caller's drift shift
    noise: float = 0.25  # standard deviation of the call's unobservable drift
    linked: bool = True


VARIANTS = {
    "base": Variant("base"),
    "sparse": Variant(
        "sparse",
        dan=0.5,
        whale=0.45,
        sources=0.0,
        timing=0.0,
        thesis=0.0,
        hype=0.0,
        run_up=0.0,
        source_quality=0.0,
        linked=False,
    ),
    "callers": Variant(
        "callers",
        dan=0.175,
        sources=0.075,
        timing=0.15,
        whale=0.1,
        thesis=0.1,
        hype=0.15,
        run_up=0.2,
        source_quality=0.5,
        callers=45,
        caller_skill=0.35,
    ),
}


@dataclass(frozen=True)
class PricePath:
    """One ticker's prices: ``ts`` (UTC, datetime64[s]) ascending, ``price`` in USD."""

    ticker: str
    ts: npt.NDArray[np.datetime64]
    price: npt.NDArray[np.float64]

    def price_at(self, when: datetime) -> float:
        """The last price at or before ``when`` (what a scraper would attach as ``price_usd``)."""
        i = int(np.searchsorted(self.ts, _dt64(when), side="right")) - 1
        return float(self.price[max(i, 0)])

    def high_before(self, when: datetime) -> float:
        """The highest price at or before ``when`` (the all-time high so far)."""
        i = int(np.searchsorted(self.ts, _dt64(when), side="right"))
        return float(self._highs[max(i, 1) - 1])

    @cached_property
    def _highs(self) -> npt.NDArray[np.float64]:
        """The running maximum: a call's high is one lookup, not a scan of years of ticks."""
        return np.maximum.accumulate(self.price)

    def ticks(self, source: str = "world") -> Iterator[PriceTick]:
        """The path as PriceTick records, oldest first (what a price feed would publish)."""
        for ts, price in zip(self.ts.tolist(), self.price.tolist(), strict=True):
            yield PriceTick(
                ticker=self.ticker, ts=ts.replace(tzinfo=UTC), price_usd=price, source=source
            )


@dataclass(frozen=True)
class World:
    """Signals in posted_at order, every ticker's price path, each signal's true outcome and
    oracle ceiling (row-aligned with ``signals``; no features: see ``logged_outcomes``)."""

    signals: list[RawSignal]
    prices: dict[str, PricePath]
    outcomes: list[Outcome]
    ceiling: npt.NDArray[np.float64]
    variant: str = "base"

    @property
    def labels(self) -> npt.NDArray[np.int64]:
        return np.array([o.label for o in self.outcomes], dtype=np.int64)


@dataclass(frozen=True)
class _Call:
    at: datetime
    ticker: str
    dan: bool
    sources: tuple[str, ...]
    timing: str  # rising | peaked | flat
    whale: float
    thesis: bool
    hype: bool
    noise: float
    caller: str | None = None
    skill: float = 0.0


def generate_world(
    n_signals: int, seed: int = 0, span_days: float = 730, variant: str = "base"
) -> World:
    """About ``n_signals`` signals (cut to exactly that many) spread over ``span_days``, their
    drift made as ``VARIANTS[variant]`` says."""
    market = _draw_market(n_signals, seed, span_days, VARIANTS[variant])
    outcomes = _labels(market.signals, market.prices)
    ceiling = _ceiling(
        np.random.default_rng([seed, 1]),
        market.signals,
        market.calls,
        market.known,
        market.daily_vol,
        VARIANTS[variant].noise,
    )
    return World(market.signals, market.prices, outcomes, ceiling, variant)


def generate_market(
    n_signals: int, seed: int = 0, span_days: float = 730, variant: str = "base"
) -> tuple[list[RawSignal], dict[str, PricePath]]:
    """``generate_world``'s signals and price paths for the same arguments, without its outcomes
    and ceiling: what a bench publishes to Kafka, where the pipeline labels from the prices (at
    a million signals the labels and the ceiling's Monte Carlo would take most of the time)."""
    market = _draw_market(n_signals, seed, span_days, VARIANTS[variant])
    return market.signals, market.prices


@dataclass(frozen=True)
class _Market:
    signals: list[RawSignal]
    prices: dict[str, PricePath]
    calls: list[_Call]
    known: list[float]  # each call's drift but its noise
    daily_vol: dict[str, float]


def _draw_market(n_signals: int, seed: int, span_days: float, kind: Variant) -> _Market:
    rng = np.random.default_rng(seed)
    n_calls = int(np.ceil(n_signals / SIGNALS_PER_CALL * 1.1))
    tickers = [f"W{i:03d}" for i in range(N_TICKERS)]
    liquidity = 10 ** rng.uniform(4.5, 8.0, N_TICKERS)  # USD; small pools swing harder
    equity = rng.random(N_TICKERS) < 0.15
    daily_vol = np.where(equity, 0.03, 0.05 + 0.07 * (8.0 - np.log10(liquidity)) / 3.5)
    callers = _callers(rng, kind)
    calls = sorted(
        (
            _draw_call(rng, tickers, START + timedelta(days=float(d)), kind, callers)
            for d in _call_days(rng, n_calls, span_days)
        ),
        key=lambda c: c.at,
    )
    prices, known = _price_paths(rng, tickers, daily_vol, calls, span_days, kind)
    index = {t: i for i, t in enumerate(tickers)}
    signals: list[RawSignal] = []
    for number, call in enumerate(calls):
        i = index[call.ticker]
        signals.extend(
            _signals(rng, number, call, prices[call.ticker], liquidity[i], bool(equity[i]), kind)
        )
    signals.sort(key=lambda s: (s.posted_at, s.signal_id))
    vol = {t: float(daily_vol[i]) for t, i in index.items()}
    return _Market(signals[:n_signals], prices, calls, known, vol)


def _labels(signals: list[RawSignal], prices: dict[str, PricePath]) -> list[Outcome]:
    """Each signal's outcome (row-aligned), decided by the joiner's rule from its ticker's path.

    The paths are the whole history, so the clock ends past every deadline. Only the ticks
    inside some signal's horizon are fed (fewer than half): no other tick can change a label.
    """
    horizon = np.timedelta64(HORIZON_DAYS, "D")
    posted: dict[str, list[np.datetime64]] = {}
    for signal in signals:
        posted.setdefault(signal.ticker, []).append(_dt64(signal.posted_at))
    ticks: list[tuple[str, float, float]] = []
    for name, times in sorted(posted.items()):
        path = prices[name]
        edges = np.zeros(path.ts.size + 1, dtype=np.int64)
        np.add.at(edges, np.searchsorted(path.ts, times, side="left"), 1)
        np.add.at(edges, np.searchsorted(path.ts, np.add(times, horizon), side="right"), -1)
        inside = np.cumsum(edges[:-1]) > 0
        seconds = path.ts[inside].astype("datetime64[s]").astype(np.int64).astype(np.float64)
        ticks += zip(repeat(name), seconds.tolist(), path.price[inside].tolist())
    rules = LabelRules(horizon=timedelta(days=HORIZON_DAYS))
    decided = label_in_event_time(signals, ticks, rules, watermark=math.inf)
    by_id = {outcome.signal_id: outcome for outcome in decided}
    return [by_id[s.signal_id] for s in signals]


def logged_outcomes(world: World, rule_set: str = "green_flags_v1") -> list[Outcome]:
    """The world's outcomes as the joiner logs them, scored by the serving ``Scorer`` (rules mode)
    over the signals in event-time order.

    The extractor credits an outcome to track records only for signals posted after it resolved,
    so recording every outcome first leaks no label.
    """
    extractor = FeatureExtractor()
    for outcome in world.outcomes:
        extractor.record_outcome(outcome)
    scorer = Scorer(extractor, model=None, mode="rules", rule_set=rule_set)
    records = scorer.score_records(world.signals, scored_at=world.signals[-1].posted_at)
    logged = []
    for outcome, record in zip(world.outcomes, records, strict=True):
        if isinstance(record, Unscored):
            raise ValueError(f"signal {record.signal_id!r} not scored: {record.error}")
        logged.append(as_logged(outcome, record))
    return logged


# --- internals -----------------------------------------------------------------------------


def _dt64(when: datetime) -> np.datetime64:
    return np.datetime64(when.astimezone(UTC).replace(tzinfo=None), "s")


def _call_days(rng: np.random.Generator, n_calls: int, span_days: float) -> npt.NDArray[np.float64]:
    # the first 30 days leave room for a run-up before the first call
    return np.sort(rng.uniform(HORIZON_DAYS, span_days, n_calls))


def _callers(rng: np.random.Generator, kind: Variant) -> dict[str, tuple[float, float]]:
    """Caller name → (hidden skill, share of the calls): a few callers make most calls."""
    if not kind.callers:
        return {}
    skill = rng.normal(0.0, kind.caller_skill, kind.callers)
    share = rng.dirichlet(np.full(kind.callers, 1.5))
    return {f"caller{i:02d}": (float(skill[i]), float(share[i])) for i in range(kind.callers)}


def _draw_call(
    rng: np.random.Generator,
    tickers: list[str],
    at: datetime,
    kind: Variant,
    callers: dict[str, tuple[float, float]],
) -> _Call:
    dan = bool(rng.random() < 0.2)
    lean = dan and kind.linked  # Dan's calls differ in more than his endorsement
    n_sources = int(rng.choice(SOURCE_COUNTS, p=SOURCE_COUNT_P))
    sources = list(rng.choice(list(SOURCES), size=n_sources, replace=False))
    if lean and "Yieldschool-DansPicks" not in sources:
        sources[0] = "Yieldschool-DansPicks"
    call = _Call(
        at=at,
        ticker=str(rng.choice(tickers)),
        dan=dan,
        sources=tuple(str(s) for s in sources),
        timing=str(rng.choice(["rising", "peaked", "flat"], p=[0.3, 0.3, 0.4])),
        whale=float(rng.normal(0.3 if lean else 0.0, 1.0)),
        thesis=bool(rng.random() < (0.55 if lean else 0.3)),
        hype=bool(rng.random() < (0.1 if lean else 0.3)),
        noise=float(rng.normal(0.0, kind.noise)),
    )
    if not callers:
        return call
    names = list(callers)
    caller = names[int(rng.choice(len(names), p=[share for _, share in callers.values()]))]
    return replace(call, caller=caller, skill=callers[caller][0])


def _drift(call: _Call, run_up: float, kind: Variant) -> float:
    """The call's log-price drift over the next 30 days (the latent truth) but its noise."""
    return (
        kind.dan * call.dan
        + kind.sources * (len(call.sources) - 1)
        + kind.timing * ((call.timing == "rising") - (call.timing == "peaked"))
        + kind.whale * np.tanh(call.whale)
        + kind.thesis * call.thesis
        - kind.hype * call.hype
        - kind.run_up * max(run_up, 0.0)
        + kind.source_quality * float(np.mean([SOURCES[s] for s in call.sources]))
        + call.skill
    )


def _price_paths(
    rng: np.random.Generator,
    tickers: list[str],
    daily_vol: npt.NDArray[np.float64],
    calls: list[_Call],
    span_days: float,
    kind: Variant,
) -> tuple[dict[str, PricePath], list[float]]:
    """Geometric random walks whose drift each call raises or lowers for 30 days, and each
    call's drift but its noise (what the ceiling knows).

    Calls are applied in time order, so a call's run-up is read from the path it inherits.
    """
    step_days = TICK / timedelta(days=1)
    n = int((span_days + HORIZON_DAYS + 2) / step_days)
    ts = np.datetime64(START.replace(tzinfo=None), "s") + np.arange(n) * np.timedelta64(TICK)
    vol = daily_vol[:, None] * np.sqrt(step_days)
    shocks = rng.normal(0.0, 1.0, (len(tickers), n)) * vol - 0.5 * vol**2
    drift = np.zeros((len(tickers), n))
    start_log = np.log(10 ** rng.uniform(-2, 2, len(tickers)))[:, None]
    index = {t: i for i, t in enumerate(tickers)}
    per_tick = round(HORIZON_DAYS / step_days)
    # the running sum of shocks + drift; a call changes it only from its own tick on, so each
    # row is kept valid up to ``valid[i]`` and extended when a later call reads it (the same
    # additions in the same order as summing the whole row again after every call)
    walk = np.cumsum(shocks, axis=1)
    valid = np.full(len(tickers), n)
    known = []
    for call in calls:
        i = index[call.ticker]
        k = int((call.at - START) / TICK)
        _extend(walk[i], shocks[i], drift[i], valid[i], k + 1)
        valid[i] = max(valid[i], k + 1)
        back = max(k - per_tick, 0)
        now, then = start_log[i, 0] + walk[i, k], start_log[i, 0] + walk[i, back]
        run_up = float(np.exp(now - then) - 1.0)
        known.append(_drift(call, run_up, kind))
        drift[i, k : k + per_tick] += (known[-1] + call.noise) / per_tick
        valid[i] = min(valid[i], k)
    for i in range(len(tickers)):
        _extend(walk[i], shocks[i], drift[i], valid[i], n)
    log_price = start_log + walk
    paths = {
        t: PricePath(ticker=t, ts=ts, price=_rounded(np.exp(log_price[index[t]]))) for t in tickers
    }
    return paths, known


def _extend(
    walk: npt.NDArray[np.float64],
    shocks: npt.NDArray[np.float64],
    drift: npt.NDArray[np.float64],
    start: int,
    stop: int,
) -> None:
    """``walk[start:stop]`` summed on from ``walk[start - 1]``, in place."""
    if start >= stop:
        return
    steps = shocks[start:stop] + drift[start:stop]
    if start:
        steps[0] = walk[start - 1] + steps[0]
    np.cumsum(steps, out=walk[start:stop])


def _rounded(price: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """8 decimals, or 4 significant digits below 1e-4: a path of years can decay to dust,
    and a price rounded to 0 would end it."""
    digits = np.maximum(8, 3 - np.floor(np.log10(price))).astype(np.int64)
    return np.array(list(map(round, price.tolist(), digits.tolist())))


def _ceiling(
    rng: np.random.Generator,
    signals: list[RawSignal],
    calls: list[_Call],
    known: list[float],
    daily_vol: dict[str, float],
    noise: float,
) -> npt.NDArray[np.float64]:
    """Each signal's P(2x within the horizon) given the calls on its ticker posted by then (see
    the module docstring), by Monte Carlo with the ticks of ``_price_paths``."""
    step_days = TICK / timedelta(days=1)
    per_tick = round(HORIZON_DAYS / step_days)
    shocks = rng.normal(0.0, 1.0, (CEILING_PATHS, per_tick))
    noises = rng.normal(0.0, noise, (CEILING_PATHS, CEILING_CALLS))
    by_ticker: dict[str, list[tuple[int, datetime, float]]] = {}
    for call, drift in zip(calls, known, strict=True):
        k = int((call.at - START) / TICK)
        by_ticker.setdefault(call.ticker, []).append((k, call.at, drift))
    ticks = np.arange(1, per_tick + 1)
    out = np.empty(len(signals))
    for row, signal in enumerate(signals):
        entry = int((signal.posted_at - START) / TICK)  # the tick price_at reads
        vol = daily_vol[signal.ticker] * np.sqrt(step_days)
        log_path = vol * shocks - 0.5 * vol**2
        active = [
            (k, d)
            for k, at, d in by_ticker[signal.ticker]
            if at <= signal.posted_at and k + per_tick > entry + 1
        ]
        for j, (k, drift) in enumerate(active[-CEILING_CALLS:]):
            on = ((entry + ticks) >= k) & ((entry + ticks) < k + per_tick)
            log_path = log_path + (drift + noises[:, j : j + 1]) * on / per_tick
        out[row] = float((np.cumsum(log_path, axis=1).max(axis=1) >= np.log(2.0)).mean())
    return out


def _signals(
    rng: np.random.Generator,
    number: int,
    call: _Call,
    path: PricePath,
    liquidity: float,
    equity: bool,
    kind: Variant,
) -> list[RawSignal]:
    """One signal per source of the call, the first at the call, the rest within 48 hours."""
    now, week, month = (path.price_at(call.at - timedelta(days=d)) for d in (0, 7, 30))
    trends = _trends(rng, call.timing) if rng.random() < 0.75 else None
    market = (
        Market(
            market_cap_usd=float(liquidity * 10 ** rng.uniform(1.0, 2.0)),
            volume_24h_usd=float(liquidity * 10 ** rng.uniform(-1.0, 0.5)),
            price_change_7d=now / week - 1.0,
            price_change_30d=now / month - 1.0,
            ath_distance=now / path.high_before(call.at) - 1.0,
        )
        if rng.random() < 0.9
        else None
    )
    onchain = None
    if not equity and rng.random() < 0.8:
        seen_whale = call.whale + rng.normal(0.0, 0.7)
        onchain = OnChain(
            whale_net_flow_usd=float(seen_whale * 200_000),
            liquidity_usd=float(liquidity * np.exp(rng.normal(0.0, 0.3))),
            smart_money_inflow_usd=float((seen_whale + rng.normal(0.0, 1.0)) * 80_000),
            holder_growth_7d=float(rng.normal(0.03 + 0.03 * np.tanh(call.whale), 0.05)),
            top10_holder_share=float(rng.uniform(0.2, 0.8)),
        )
    out = []
    for j, source in enumerate(call.sources):
        at = call.at + timedelta(hours=float(rng.uniform(0, 48)) if j else 0.0)
        # the wording shows the thesis / hype only most of the time
        parts = [
            str(rng.choice(THESIS)) if call.thesis and rng.random() < 0.7 else "",
            str(rng.choice(HYPE)) if call.hype and rng.random() < 0.7 else "",
            str(rng.choice(NEUTRAL)) if rng.random() < 0.5 else "",
            f"${call.ticker}",
        ]
        hype_reactions = int(rng.poisson(6 + 15 * (call.dan and kind.linked) + 12 * call.hype))
        out.append(
            RawSignal(
                signal_id=f"world:{number}:{j}",
                ticker=call.ticker,
                source=source,
                author=_author(rng, call, j, kind),
                message=" ".join(p for p in parts if p),
                reactions={
                    "🔥": hype_reactions,
                    "🚀": int(rng.poisson(hype_reactions / 2)),
                    "👀": int(rng.poisson(3)),
                },
                dan_endorsed=call.dan,
                mention_count=int(1 + rng.poisson(len(call.sources))),
                posted_at=at,
                observed_at=at + timedelta(minutes=float(rng.uniform(1, 90))),
                asset_class="equity" if equity else "crypto",
                price_usd=path.price_at(at),
                market=market,
                trends=trends,
                onchain=onchain,
            )
        )
    return out


def _author(rng: np.random.Generator, call: _Call, j: int, kind: Variant) -> str:
    """The caller if the world has callers, Dan for his own call's first post, else anyone."""
    if call.caller is not None:
        return call.caller
    if call.dan and j == 0 and kind.linked:
        return "dan"
    return str(rng.choice(AUTHORS))


def _trends(rng: np.random.Generator, timing: str) -> Trends:
    peak = float(rng.uniform(40, 100))
    if timing == "rising":
        now = peak * float(rng.uniform(0.8, 1.0))
        before = now * float(rng.uniform(0.3, 0.8))
    elif timing == "peaked":
        now = peak * float(rng.uniform(0.2, 0.7))
        before = min(peak, now * float(rng.uniform(1.2, 2.0)))
    else:
        now = peak * float(rng.uniform(0.3, 0.9))
        before = now * float(rng.uniform(0.85, 1.15))
    return Trends(
        google_trends_now=round(now, 1),
        google_trends_7d_ago=round(min(before, 100.0), 1),
        google_trends_peak_90d=round(peak, 1),
        mainstream_news=bool(rng.random() < (0.5 if timing == "peaked" else 0.15)),
    )
