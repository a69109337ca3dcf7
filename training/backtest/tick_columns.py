"""Price ticks as columns: every ticker's ticks as sorted float arrays, decoded in bulk.

A backtest reads the whole ``prices`` topic (846,000 ticks for a 250-day world); validating each
through pydantic and keeping a ``PriceTick`` object per tick took most of its time. Here the
values are parsed with orjson and checked column by column against the contract's rules:

- ``ticker``: a string, normalised through ``normalise_ticker`` once per distinct spelling;
- ``ts``: a string of the plain RFC 3339 shape (``T``, 4-digit year from 1000, at most six
  fractional digits, ``Z`` or ``±hh:mm``), converted by Arrow in one cast;
- ``price_usd``: a JSON number (not a bool), finite, ``0 < price <= MAX_USD``;
- ``source``: a non-empty string.

A tick that fails any of these is not dropped on that account: it is handed to the contract
itself (``PriceTick.model_validate_json``), so what is kept or refused is exactly what the
contract keeps or refuses, and every refusal is counted. Times are epoch seconds as
``PriceTick.ts.timestamp()`` gives them (microseconds / 10**6, correctly rounded).

``tick_rows`` keeps one row per value (a null ticker where refused): the rows the backtest's
cache stores, so a later run neither reads nor decodes them again; ``TickColumns.from_rows``
sorts the kept ones.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import orjson
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import ValidationError

from roostr.contracts import MAX_USD, PriceTick, normalise_ticker

__all__ = ["TICK_ROWS", "TickColumns", "tick_rows"]

# The timestamp shape Arrow's cast reads exactly as the contract does; anything else (lower-case
# ``t``/``z``, years before 1000, nanoseconds) goes to the contract one by one.
_PLAIN_TS = r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})$"  # noqa: E501
_MAX_EXACT_INT = 2**53  # a JSON integer price up to here converts to float exactly


@dataclass(frozen=True)
class TickColumns:
    """Ticks sorted by (ticker, ts, read order); ``code`` indexes ``tickers`` (sorted names)."""

    tickers: tuple[str, ...]
    code: npt.NDArray[np.int32]
    ts: npt.NDArray[np.float64]
    price: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.ts.size)

    @classmethod
    def from_rows(cls, rows: pa.Table, order: npt.NDArray[np.int64] | None = None) -> TickColumns:
        """Columns of the rows (``ticker``, ``ts``, ``price``, as ``tick_rows`` makes them)
        whose ticker is not null; ``order`` ranks rows that share a ticker and ts (default:
        their position)."""
        ticker = pc.dictionary_encode(rows["ticker"].combine_chunks())
        keep = np.flatnonzero(ticker.is_valid().to_numpy(zero_copy_only=False))
        names = ticker.dictionary.to_pylist()  # a few hundred: codes are remapped to sorted order
        alphabetical = sorted(range(len(names)), key=names.__getitem__)
        remap = np.empty(len(names), dtype=np.int64)
        remap[alphabetical] = np.arange(len(names))
        code = remap[ticker.indices.fill_null(0).to_numpy()[keep]]
        ts = rows["ts"].to_numpy()[keep]
        price = rows["price"].to_numpy()[keep]
        rank = np.arange(rows.num_rows) if order is None else order
        sort = np.lexsort((rank[keep], ts, code))
        return cls(
            tuple(names[i] for i in alphabetical),
            code[sort].astype(np.int32),
            np.ascontiguousarray(ts[sort], dtype=np.float64),
            np.ascontiguousarray(price[sort], dtype=np.float64),
        )

    @classmethod
    def from_ticks(cls, ticks: Iterable[PriceTick]) -> TickColumns:
        """Columns of already-validated ticks, in the order given among equal (ticker, ts)."""
        rows = [(t.ticker, t.ts.timestamp(), t.price_usd) for t in ticks]
        names, ts, price = zip(*rows, strict=True) if rows else ((), (), ())
        return cls.from_rows(
            pa.table({"ticker": pa.array(names, pa.string()), "ts": pa.array(ts, pa.float64()),
                      "price": pa.array(price, pa.float64())})
        )  # fmt: skip

    def newest(self) -> float:
        """The latest tick's time (-inf without ticks)."""
        return float(self.ts.max()) if self.ts.size else -math.inf

    def bounds(self) -> dict[str, tuple[int, int]]:
        """Each ticker's [start, stop) rows."""
        edges = np.searchsorted(self.code, np.arange(len(self.tickers) + 1), side="left")
        return {name: (int(edges[i]), int(edges[i + 1])) for i, name in enumerate(self.tickers)}


TICK_ROWS = "ticks-1"  # names the rows ``tick_rows`` makes: change it when they change


def tick_rows(values: Sequence[bytes | None]) -> pa.Table:
    """One row per value: ``ticker`` (normalised; null where the contract refuses the value),
    ``ts`` (epoch seconds) and ``price``."""
    docs = [_object(v) for v in values]
    tickers = [_ticker(d.get("ticker")) if d is not None else None for d in docs]
    texts = [d.get("ts") if d is not None else None for d in docs]
    price = np.array([_price(d.get("price_usd")) if d is not None else math.nan for d in docs])
    sourced = np.array(
        [d is not None and isinstance(d.get("source"), str) and d["source"] != "" for d in docs],
        dtype=bool,
    )
    strings = pa.array([t if isinstance(t, str) else None for t in texts], type=pa.string())
    shaped = pc.fill_null(pc.match_substring_regex(strings, _PLAIN_TS), False)
    ok = (
        np.array([t is not None for t in tickers], dtype=bool)
        & sourced
        & shaped.to_numpy(zero_copy_only=False)
        & np.isfinite(price)
        & (price > 0)
        & (price <= MAX_USD)
    )
    micros = np.zeros(len(values), dtype=np.int64)
    try:
        cast = pc.if_else(shaped, strings, None).cast(pa.timestamp("us", tz="UTC"))
        micros[ok] = cast.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)[ok]
    except pa.ArrowInvalid:
        ok[:] = False  # a date Arrow cannot read (e.g. 30 February): the contract decides each
    ts = micros / 1e6
    names: list[str | None] = [t if k else None for t, k in zip(tickers, ok.tolist(), strict=True)]
    for i in np.flatnonzero(~ok).tolist():
        try:
            tick = PriceTick.model_validate_json(values[i] or b"")
        except ValidationError:
            continue
        names[i], ts[i], price[i] = tick.ticker, tick.ts.timestamp(), tick.price_usd
    return pa.table({"ticker": pa.array(names, pa.string()), "ts": ts, "price": price})


def _object(value: bytes | None) -> dict[str, object] | None:
    """The JSON object, or None (the contract then judges the raw value)."""
    try:
        doc = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        return None
    return doc if type(doc) is dict else None


@lru_cache(maxsize=65_536)
def _normalised(raw: str) -> str | None:
    try:
        return normalise_ticker(raw)
    except ValueError:
        return None


def _ticker(raw: object) -> str | None:
    return _normalised(raw) if type(raw) is str else None


def _price(raw: object) -> float:
    """A strict JSON number as the contract's float field takes it; NaN for anything else."""
    if type(raw) is float:
        return raw
    if type(raw) is int and -_MAX_EXACT_INT <= raw <= _MAX_EXACT_INT:
        return float(raw)
    return math.nan
