"""Ticks decoded in bulk are exactly the ticks the PriceTick contract accepts, with its values;
every value it refuses is counted, none is kept."""

from __future__ import annotations

import json

import numpy as np
from pydantic import ValidationError

from roostr.contracts import PriceTick
from training.backtest.tick_columns import TickColumns, tick_rows

GOOD = {"ticker": "TAO", "ts": "2026-02-05T14:30:00Z", "price_usd": 412.5, "source": "feed"}


def raw(**changes: object) -> bytes:
    return json.dumps({**GOOD, **changes}).encode()


VALUES: list[bytes | None] = [
    raw(),
    raw(ticker=" $tao "),  # normalised
    raw(ticker="$btc"),
    raw(ts="2026-02-05T14:30:00.123456+05:30"),
    raw(ts="2026-02-05t14:30:00z"),  # lower case: the contract takes it, Arrow's cast does not
    raw(ts="2026-02-05T14:30:00.1234567Z"),  # nanoseconds
    raw(ts="0999-02-05T14:30:00Z"),
    raw(price_usd=3),  # an integer is a float
    raw(price_usd=1e15),
    raw(extra="kept out, not refused"),
    # refused:
    raw(price_usd=0.0),
    raw(price_usd=-1.0),
    raw(price_usd=1e16),
    raw(price_usd=True),
    raw(price_usd="1.0"),
    raw(ts="2026-02-05T14:30:00"),  # no zone
    raw(ts=1_770_000_000),
    raw(ts="2026-02-30T00:00:00Z"),
    raw(ts="0000-01-01T00:00:00Z"),
    raw(ticker="not a ticker!"),
    raw(ticker=7),
    raw(source=""),
    json.dumps({k: v for k, v in GOOD.items() if k != "source"}).encode(),
    b"[1, 2]",
    b"{not json",
    b"",
    None,
    b'{"ticker": "TAO", "ts": "2026-02-05T14:30:00Z", "price_usd": NaN, "source": "x"}',
]


def contract(values: list[bytes | None]) -> tuple[list[tuple[str, float, float]], int]:
    kept, refused = [], 0
    for value in values:
        try:
            tick = PriceTick.model_validate_json(value or b"")
        except ValidationError:
            refused += 1
            continue
        kept.append((tick.ticker, tick.ts.timestamp(), tick.price_usd))
    return sorted(kept), refused


def decode_ticks(
    values: list[bytes | None], order: np.ndarray | None = None
) -> tuple[TickColumns, int]:
    """The kept ticks as the backtest holds them, and how many rows were refused (no ticker)."""
    rows = tick_rows(values)
    assert rows.num_rows == len(values)  # one row per value, refused ones included
    return TickColumns.from_rows(rows, order), rows["ticker"].null_count


def test_bulk_decoding_keeps_and_refuses_exactly_what_the_contract_does() -> None:
    columns, invalid = decode_ticks(VALUES)
    kept = sorted(
        zip(
            [columns.tickers[c] for c in columns.code.tolist()],
            columns.ts.tolist(),
            columns.price.tolist(),
            strict=True,
        )
    )
    expected, refused = contract(VALUES)
    assert (kept, invalid) == (expected, refused)
    assert refused == 18 and len(kept) == 10


def test_a_date_arrow_cannot_read_leaves_the_other_ticks_to_the_contract() -> None:
    values = [raw(), raw(ts="2026-02-30T00:00:00Z"), raw(ticker="ETH")]
    columns, invalid = decode_ticks(values)
    assert invalid == 1 and columns.tickers == ("ETH", "TAO")


def test_ticks_are_sorted_by_ticker_then_time_then_the_given_rank() -> None:
    values = [
        raw(ts="2026-02-05T15:00:00Z", price_usd=2.0),
        raw(ts="2026-02-05T14:00:00Z", price_usd=1.0),
        raw(ts="2026-02-05T15:00:00Z", price_usd=3.0),
        raw(ticker="AAA", price_usd=9.0),
    ]
    columns, _invalid = decode_ticks(values, np.array([0, 1, 3, 2]))
    assert columns.price.tolist() == [9.0, 1.0, 2.0, 3.0]
    columns, _invalid = decode_ticks(values, np.array([3, 1, 0, 2]))
    assert columns.price.tolist() == [9.0, 1.0, 3.0, 2.0]
