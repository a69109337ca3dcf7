"""Generate the bundled sample: ~300 realistic signals and the daily prices that resolve them.

Run ``python -m roostr.synthetic.sample`` to regenerate ``roostr/data/sample_signals.jsonl``
and ``roostr/data/sample_prices.jsonl``; the output is a pure function of the seed, so the
committed files can be checked against it.

The prices are synthetic random walks, some with a rally that doubles the price. Signals posted
before a rally lean toward the green flags of the seed's methodology (Dan endorsed, rising but
not peaked trends, whale inflow, catalysts in the thesis); shill messages lean toward tickers
that go nowhere. The relation is noisy, as it is in real chats. Context blocks are often
missing or partly missing, as scrapers deliver them.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

__all__ = ["DATA_DIR", "generate", "main"]

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SEED = 20260205
SIGNAL_COUNT = 300
START = datetime(2026, 1, 5, tzinfo=UTC)
SIGNAL_DAYS = 90
PRICE_DAYS = SIGNAL_DAYS + 30
HORIZON_DAYS = 30

# ticker: (asset class, starting price, circulating supply)
TICKERS: dict[str, tuple[str, float, float]] = {
    "TAO": ("crypto", 420.0, 7.4e6),
    "RNDR": ("crypto", 7.2, 5.2e8),
    "FET": ("crypto", 1.35, 2.6e9),
    "PENDLE": ("crypto", 4.1, 1.6e8),
    "ONDO": ("crypto", 1.1, 3.1e9),
    "JUP": ("crypto", 0.82, 1.35e9),
    "HYPE": ("crypto", 24.0, 3.3e8),
    "SUI": ("crypto", 3.4, 3.0e9),
    "INJ": ("crypto", 21.0, 9.7e7),
    "AKT": ("crypto", 2.9, 2.5e8),
    "KAS": ("crypto", 0.11, 2.5e10),
    "TIA": ("crypto", 5.3, 2.1e8),
    "PEPE": ("crypto", 0.0000112, 4.2e14),
    "WIF": ("crypto", 1.9, 1.0e9),
    "BONK": ("crypto", 0.000021, 7.0e13),
    "ASTS": ("equity", 24.5, 2.9e8),
    "RKLB": ("equity", 21.0, 4.9e8),
    "IONQ": ("equity", 38.0, 2.2e8),
    "OKLO": ("equity", 27.0, 1.4e8),
    "SOUN": ("equity", 11.0, 3.9e8),
    "PLTR": ("equity", 71.0, 2.3e9),
}

SOURCES: dict[str, tuple[list[str | None], list[str]]] = {  # channels, authors
    "Yieldschool-YieldHub": (
        ["#alpha-calls", "#dan-picks", "#research", "#altcoin-chat"],
        ["dan", "yieldmaxi", "0xMira", "degen_dave", "cryptokev", "sol_sarah"],
    ),
    "Telegram": (
        ["Alpha Hunters", "Moonshot Calls", "DeFi Degens", "Whale Watch"],
        ["alpha_hunter", "moonboy_77", "chain_sleuth", "gem_finder", "shill_bot_9000"],
    ),
    "X": (
        [None],
        ["@thesiswriter", "@cryptowhale", "@pumpalerts", "@macro_mike", "@onchainlens"],
    ),
}
SOURCE_WEIGHTS = (0.45, 0.3, 0.25)
ZONES = (UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=8)))

THESES = [
    "High conviction on ${t}. {catalyst}. Accumulating under {level}.",
    "${t} thesis: {catalyst}. Product is live and usage is growing week over week.",
    "Sizing up ${t}. {catalyst}. Risk/reward still skewed up from here.",
    "Long-term hold: ${t}. {catalyst}. Team keeps shipping, revenue is real.",
    "${t} looks early. {catalyst}. Google Trends only starting to turn.",
    "Adding ${t} on this dip. {catalyst}. Whales have been buying all week.",
]
CATALYSTS = [
    "Mainnet upgrade ships next month",
    "Partnership with a top-10 exchange announced",
    "Token unlock is done, supply overhang gone",
    "Revenue doubled quarter on quarter",
    "Subnet growth is accelerating",
    "FCC approval for the next launch is close",
    "Earnings beat and raised guidance",
    "New product launch with real users",
    "ETF filing rumours are getting louder",
]
SHILLS = [
    "${t} 🚀🚀🚀 100x incoming, don't miss this one!!!",
    "LAST CHANCE to get ${t} before it moons. Guaranteed 10x 🚀",
    "${t} is the next 1000x gem, devs are based, trust me bro",
    "Pump starting on ${t} NOW 🚀🚀 get in before Binance listing",
]
NEUTRAL = [
    "Watching ${t} here, waiting for a retest of {level}.",
    "Anyone looking at ${t}? Chart is coiling.",
    "${t} volume picking up, not sure why yet.",
    "Took some profit on ${t}, still holding a core bag.",
]


@dataclass(frozen=True)
class _Path:
    """One ticker's daily closes over PRICE_DAYS."""

    ticker: str
    closes: list[float]

    def future_multiple(self, day: int) -> float:
        return max(self.closes[day : day + HORIZON_DAYS + 1]) / self.closes[day]

    def change(self, day: int, back: int) -> float | None:
        return self.closes[day] / self.closes[day - back] - 1 if day >= back else None


def _round(value: float, digits: int = 6) -> float:
    return float(f"{value:.{digits}g}")


def _price_path(rng: random.Random, ticker: str, start: float) -> _Path:
    """A random walk; 40% of tickers get a rally of 2-3.5x over 6-20 days, then a partial fade."""
    volatility = rng.uniform(0.025, 0.07)
    drift = rng.uniform(-0.004, 0.003)
    rally = rng.random() < 0.4
    rally_day, rally_len = rng.randrange(8, PRICE_DAYS - 25), rng.randrange(6, 21)
    rally_size = rng.uniform(2.0, 3.5)
    log_price, closes = math.log(start), []
    for day in range(PRICE_DAYS):
        log_price += drift + rng.gauss(0, volatility)
        if rally and rally_day <= day < rally_day + rally_len:
            log_price += math.log(rally_size) / rally_len
        if rally and rally_day + rally_len <= day < rally_day + rally_len + 10:
            log_price -= math.log(rally_size) * 0.03  # some of the gain fades
        closes.append(math.exp(log_price))
    return _Path(ticker, closes)


def _maybe(rng: random.Random, probability: float, value: Any) -> Any:
    return value if rng.random() < probability else None


def _blocks(rng: random.Random, path: _Path, day: int, hot: bool, shill: bool) -> dict[str, Any]:
    """Optional context blocks, often absent or with missing fields (missing = unknown)."""
    asset_class, _, supply = TICKERS[path.ticker]
    price = path.closes[day]
    blocks: dict[str, Any] = {}
    if rng.random() < 0.75:
        peak = max(path.closes[: day + 1])
        market = {
            "market_cap_usd": _round(price * supply),
            "volume_24h_usd": _round(price * supply * rng.uniform(0.01, 0.25)),
            "price_change_7d": path.change(day, 7),
            "price_change_30d": path.change(day, 30),
            "ath_distance": _round(price / peak - 1, 4),
        }
        blocks["market"] = {
            k: (_round(v, 4) if isinstance(v, float) and k.startswith("price") else v)
            for k, v in market.items()
            if v is not None and rng.random() > 0.15
        }
    if rng.random() < 0.6:
        now = rng.uniform(30, 95) if hot else rng.uniform(10, 80)
        before = now * (rng.uniform(0.4, 0.85) if hot else rng.uniform(0.8, 1.4))
        blocks["trends"] = {
            "google_trends_now": round(now, 1),
            "google_trends_7d_ago": _maybe(rng, 0.85, round(min(before, 100.0), 1)),
            "google_trends_peak_90d": round(min(100.0, max(now, before) * rng.uniform(1, 1.6)), 1),
            "mainstream_news": _maybe(rng, 0.7, rng.random() < (0.15 if hot else 0.45)),
        }
    if asset_class == "crypto" and rng.random() < 0.55:
        flow = rng.gauss(2.5e6 if hot else -0.5e6, 2e6)
        blocks["onchain"] = {
            "whale_net_flow_usd": round(flow),
            "liquidity_usd": _maybe(rng, 0.8, round(price * supply * rng.uniform(0.002, 0.03))),
            "smart_money_inflow_usd": _maybe(rng, 0.6, round(flow * rng.uniform(0.1, 0.6))),
            "holder_growth_7d": _maybe(rng, 0.7, round(rng.gauss(0.04 if hot else 0.0, 0.03), 4)),
            "top10_holder_share": round(
                rng.uniform(0.45, 0.85) if shill else rng.uniform(0.1, 0.5), 3
            ),
        }
    return blocks


def _reactions(rng: random.Random, hot: bool, shill: bool, endorsed: bool) -> dict[str, int]:
    scale = (3.0 if hot else 1.0) * (1.8 if endorsed else 1.0)
    reactions = {
        "🔥": int(rng.lognormvariate(2.2, 0.8) * scale),
        "🚀": int(rng.lognormvariate(1.6 if not shill else 2.6, 0.9) * scale),
        "💎": int(rng.lognormvariate(0.8, 1.0) * scale),
        "👀": int(rng.lognormvariate(1.2, 0.9)),
        "🤡": int(rng.lognormvariate(1.8, 0.7)) if shill else int(rng.lognormvariate(0, 0.8)),
    }
    return {emoji: count for emoji, count in reactions.items() if count > 0}


def _message(rng: random.Random, ticker: str, price: float, hot: bool, shill: bool) -> str:
    fill = {"t": ticker, "catalyst": rng.choice(CATALYSTS), "level": f"${_round(price * 0.9, 3)}"}
    if shill:
        template = rng.choice(SHILLS)
    else:
        template = rng.choice(THESES if rng.random() < (0.8 if hot else 0.45) else NEUTRAL)
    return template.replace("${t}", f"${ticker}").format(**fill)


def _signal(rng: random.Random, number: int, path: _Path, day: int) -> dict[str, Any]:
    ticker = path.ticker
    hot = path.future_multiple(day) >= 1.8 and rng.random() < 0.85  # what the chat "knows"
    shill = rng.random() < (0.04 if hot else 0.25)
    source = rng.choices(list(SOURCES), weights=SOURCE_WEIGHTS)[0]
    channels, authors = SOURCES[source]
    author = "shill_bot_9000" if shill and source == "Telegram" else rng.choice(authors)
    endorsed = source == "Yieldschool-YieldHub" and rng.random() < (0.6 if hot else 0.1)
    zone = ZONES[0] if source != "X" else rng.choice(ZONES)
    posted = START + timedelta(days=day, seconds=rng.randrange(86_400))
    price = path.closes[day]
    message_id = 100_000 + number * 37
    if source == "X":
        signal_id = f"x:{1_890_000_000_000 + message_id}"
        url = f"https://x.com/{author.lstrip('@')}/status/{1_890_000_000_000 + message_id}"
    else:
        prefix = "yieldhub" if source == "Yieldschool-YieldHub" else "tg"
        signal_id, url = f"{prefix}:{message_id}", None
    signal: dict[str, Any] = {
        "signal_id": signal_id,
        "ticker": ticker,
        "source": source,
        "channel": rng.choice(channels),
        "author": "dan" if endorsed and rng.random() < 0.5 else author,
        "url": url,
        "message": _message(rng, ticker, price, hot, shill),
        "reactions": _reactions(rng, hot, shill, endorsed),
        "dan_endorsed": endorsed,
        "mention_count": min(40, int(rng.lognormvariate(1.3 if hot else 0.6, 0.7)) + 1),
        "posted_at": posted.astimezone(zone).isoformat(),
        "observed_at": (posted + timedelta(seconds=rng.randrange(5, 600))).isoformat(),
        "asset_class": TICKERS[ticker][0],
        "price_usd": _maybe(rng, 0.9, _round(price)),
        **_blocks(rng, path, day, hot, shill),
    }
    signal["total_reactions"] = sum(signal["reactions"].values())
    return {k: v for k, v in signal.items() if v is not None}


def generate(seed: int = SEED) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(signals ordered by posting time, daily price ticks); deterministic for a seed."""
    rng = random.Random(seed)
    paths = {t: _price_path(rng, t, start) for t, (_, start, _) in TICKERS.items()}
    weights = [3.0 if t in ("TAO", "ASTS", "RNDR") else 1.0 for t in TICKERS]
    picks = []
    for _ in range(SIGNAL_COUNT):
        ticker = rng.choices(list(TICKERS), weights=weights)[0]
        path = paths[ticker]  # chats talk more about a ticker in the run-up to its rally
        busy = [3.0 if path.future_multiple(d) >= 1.8 else 1.0 for d in range(SIGNAL_DAYS)]
        picks.append((ticker, rng.choices(range(SIGNAL_DAYS), weights=busy)[0]))
    signals = [_signal(rng, n, paths[t], day) for n, (t, day) in enumerate(picks)]
    signals.sort(key=lambda s: (datetime.fromisoformat(s["posted_at"]), s["signal_id"]))
    prices = [
        {
            "ticker": ticker,
            "ts": (START + timedelta(days=day + 1)).isoformat(),  # close of day `day`
            "price_usd": _round(close),
            "source": "sample-daily-close",
        }
        for day in range(PRICE_DAYS)
        for ticker, path in paths.items()
        for close in [path.closes[day]]
    ]
    return signals, prices


def _write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    path.write_text(text, encoding="utf-8")


def main(directory: Path = DATA_DIR) -> None:
    signals, prices = generate()
    directory.mkdir(parents=True, exist_ok=True)
    _write_jsonl(directory / "sample_signals.jsonl", signals)
    _write_jsonl(directory / "sample_prices.jsonl", prices)
    print(f"{len(signals)} signals, {len(prices)} prices → {directory}")


if __name__ == "__main__":
    main()
