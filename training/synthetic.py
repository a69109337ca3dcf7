"""Synthetic labelled signals for the cold-start (bootstrap) model, following Dan's green flags.

Each sample is a "call": a ticker picked up by one to three sources within two days, so the
multi-source features arise from the stream itself, exactly as they would live. Whether the
call doubled within 30 days is drawn from a logistic model of its latent flags:

- raise P: Dan endorsed, several sources, Google Trends rising but not peaked, whales
  accumulating, working-product language, a source with a good track record;
- lower P: shill red flags (presale, guaranteed, 100x…), already in mainstream news, Trends
  past their peak, vaporware language.

The label is a Bernoulli draw (plus Gaussian noise on the logit), so even a perfect learner
cannot reach AUC 1.0; context blocks are sometimes absent, as they are from real scrapers.
Nothing here knows feature names: the FeatureExtractor sees only RawSignals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from roostr.contracts import Market, OnChain, Outcome, RawSignal, Trends

__all__ = ["SyntheticSet", "generate"]

START = datetime(2025, 3, 1, tzinfo=UTC)
SPAN_DAYS = 720
HORIZON_DAYS = 30

# source → latent quality (log-odds shift): the track record the model should discover.
SOURCES = {
    "Yieldschool-YieldHub": 0.6,
    "Yieldschool-DansPicks": 0.4,
    "CT-Alpha": 0.0,
    "Discord-Degens": -0.4,
    "Telegram-Moonshots": -0.7,
}
AUTHORS = ("dan", "mira", "kofi", "zed", "lee", "anon42", "pumpking")
TICKERS = tuple(f"SYN{i:02d}" for i in range(70))

PRODUCT = ("Mainnet is live and shipped to real users.", "Working product, paying customers.")
VAPOR = ("Roadmap says mainnet coming soon.", "Whitepaper vision, will launch later.")
SHILL = ("Presale, guaranteed 100x, get in now!", "Risk free, to the moon, last chance!!")
THESIS = ("Thesis: undervalued vs fundamentals, real adoption.", "Deep dive on tokenomics.")
NEUTRAL = ("Watching this one.", "Interesting chart.", "Thoughts?")
CONVICTION = ("High conviction, accumulating here.", "Loading a position.")


@dataclass(frozen=True)
class SyntheticSet:
    """Signals in posted_at order, their labels, and the outcomes an outcome joiner would emit."""

    signals: list[RawSignal]
    labels: np.ndarray
    outcomes: list[Outcome]


def generate(n_samples: int = 400, seed: int = 7) -> SyntheticSet:
    """About ``n_samples`` signals (calls are cut to exactly ``n_samples``), time-ordered."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[RawSignal, int, Outcome]] = []
    call = 0
    while len(rows) < n_samples:
        rows.extend(_call(rng, call))
        call += 1
    rows.sort(key=lambda row: (row[0].posted_at, row[0].signal_id))
    rows = rows[:n_samples]
    return SyntheticSet(
        signals=[row[0] for row in rows],
        labels=np.array([row[1] for row in rows], dtype=np.int64),
        outcomes=[row[2] for row in rows],
    )


def _call(rng: np.random.Generator, call: int) -> list[tuple[RawSignal, int, Outcome]]:
    ticker = str(rng.choice(TICKERS))
    posted = START + timedelta(seconds=float(rng.uniform(0, SPAN_DAYS * 86_400)))
    dan = rng.random() < 0.25
    n_sources = int(rng.choice([1, 1, 2, 3], p=[0.45, 0.15, 0.25, 0.15]))
    sources = list(rng.choice(list(SOURCES), size=n_sources, replace=False))
    if dan and "Yieldschool-DansPicks" not in sources:
        sources[0] = "Yieldschool-DansPicks"
    timing = rng.choice(["early", "peaked", "flat"], p=[0.35, 0.3, 0.35])
    mainstream = rng.random() < (0.45 if timing == "peaked" else 0.15)
    whales = rng.normal(0.3 if dan else 0.0, 1.0)
    product = rng.random() < 0.35
    vapor = not product and rng.random() < 0.35
    shill = rng.random() < (0.08 if dan else 0.3)
    equity = rng.random() < 0.2

    logit = (
        -2.3
        + 1.8 * dan
        + 0.8 * (n_sources - 1)
        + 1.3 * (timing == "early")
        - 1.2 * (timing == "peaked")
        - 1.2 * mainstream
        + 0.8 * np.tanh(whales) * (not equity)
        + 1.0 * product
        - 0.6 * vapor
        - 1.6 * shill
        + 1.5 * np.mean([SOURCES[s] for s in sources])
        + rng.normal(0, 0.5)
    )
    label = int(rng.random() < 1 / (1 + np.exp(-logit)))
    hit_days = float(rng.uniform(2, HORIZON_DAYS - 1))

    trends = _trends(rng, str(timing), mainstream)
    market = Market(
        market_cap_usd=float(10 ** rng.uniform(6, 10)),
        volume_24h_usd=float(10 ** rng.uniform(4, 8)),
        price_change_7d=float(rng.normal(0.35 if timing == "peaked" else 0.05, 0.2)),
        price_change_30d=float(rng.normal(0.8 if timing == "peaked" else 0.1, 0.4)),
    )
    onchain = None
    if not equity and rng.random() < 0.8:
        onchain = OnChain(
            whale_net_flow_usd=float(whales * 250_000),
            liquidity_usd=float(10 ** rng.uniform(5, 8)),
            smart_money_inflow_usd=float((whales + rng.normal(0, 1)) * 100_000),
            holder_growth_7d=float(rng.normal(0.05 + 0.05 * np.tanh(whales), 0.05)),
        )

    out = []
    for j, source in enumerate(sources):
        at = posted + timedelta(hours=float(rng.uniform(0, 48)) if j else 0.0)
        parts = [
            str(rng.choice(CONVICTION if dan or rng.random() < 0.3 else NEUTRAL)),
            str(rng.choice(THESIS)) if rng.random() < 0.4 else "",
            str(rng.choice(PRODUCT)) if product else str(rng.choice(VAPOR)) if vapor else "",
            str(rng.choice(SHILL)) if shill else "",
            f"${ticker}",
        ]
        message = " ".join(part for part in parts if part)
        hype = rng.poisson(8 + 25 * dan + 10 * shill)
        author = "dan" if dan and j == 0 else str(rng.choice(AUTHORS[1:]))
        signal = RawSignal(
            signal_id=f"synthetic:{call}:{j}",
            ticker=ticker,
            source=source,
            author=author,
            message=message,
            reactions={
                "🔥": int(hype),
                "🚀": int(rng.poisson(hype / 2)),
                "👀": int(rng.poisson(3)),
            },
            dan_endorsed=bool(dan),
            mention_count=int(1 + rng.poisson(1 + n_sources)),
            posted_at=at,
            observed_at=at + timedelta(minutes=float(rng.uniform(1, 120))),
            asset_class="equity" if equity else "crypto",
            price_usd=float(10 ** rng.uniform(-2, 2)),
            market=market if rng.random() < 0.9 else None,
            trends=trends if rng.random() < 0.8 else None,
            onchain=onchain,
        )
        out.append((signal, label, _outcome(signal, label, hit_days)))
    return out


def _trends(rng: np.random.Generator, timing: str, mainstream: bool) -> Trends:
    peak = float(rng.uniform(40, 100))
    if timing == "early":
        now = peak * float(rng.uniform(0.85, 1.0))
        before = now * float(rng.uniform(0.3, 0.7))
    elif timing == "peaked":
        now = peak * float(rng.uniform(0.2, 0.7))
        before = min(peak, now * float(rng.uniform(1.2, 2.0)))
    else:
        now = peak * float(rng.uniform(0.3, 0.9))
        before = now * float(rng.uniform(0.9, 1.1))
    return Trends(
        google_trends_now=round(now, 1),
        google_trends_7d_ago=round(min(before, 100.0), 1),
        google_trends_peak_90d=round(peak, 1),
        mainstream_news=mainstream,
    )


def _outcome(signal: RawSignal, label: int, hit_days: float) -> Outcome:
    entry = signal.price_usd or 1.0
    won = label == 1
    return Outcome(
        signal_id=signal.signal_id,
        ticker=signal.ticker,
        posted_at=signal.posted_at,
        entry_price=entry,
        label=label,
        status="won" if won else "lost",
        hit_at=signal.posted_at + timedelta(days=hit_days) if won else None,
        max_multiple=2.0 if won else 1.3,
        horizon_days=HORIZON_DAYS,
        source=signal.source,
        author=signal.author,
    )
