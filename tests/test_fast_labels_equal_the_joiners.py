"""The backtest's columnar labels equal the joiner's (``roostr.labels``) field by field, over random
worlds built to hit the edges: a 2x exactly at the horizon, ticks at exactly the entry tolerance
and at the deadline, no entry tick, ticks given out of time order (late, had the labeler read
them as given), duplicate ticks and duplicate signal ids, tickers without ticks, zero grace.
The joiner's side is ``label_in_event_time``: its labeler fed ticks and signals merged in event
time, then advanced to the newest tick, which is what the backtest asks of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from roostr.contracts import PriceTick, RawSignal
from roostr.labels import LabelRules, label_in_event_time
from training.backtest.price_labels import labels_from_prices
from training.backtest.tick_columns import TickColumns

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
TICKERS = ("AAA", "BBB", "CCC")  # CCC never has a tick


def _prices(ticks: list[PriceTick]) -> list[tuple[str, float, float]]:
    return [(t.ticker, t.ts.timestamp(), t.price_usd) for t in ticks]


prices = st.sampled_from([1.0, 1.5, 1.999999, 2.0, 3.0, 4.0, 0.5, 7.25])
ticks_strategy = st.lists(
    st.builds(
        lambda ticker, hours, price: PriceTick(
            ticker=ticker, ts=T0 + hours * HOUR, price_usd=price, source="feed"
        ),
        st.sampled_from(TICKERS[:2]),
        st.integers(0, 50) | st.floats(0, 50, allow_nan=False).map(lambda h: round(h, 3)),
        prices,
    ),
    min_size=1,
    max_size=60,
)
signals_strategy = st.lists(
    st.builds(
        lambda sid, ticker, hours, price: RawSignal(
            signal_id=f"s{sid}",
            source="src",
            author=None,
            ticker=ticker,
            posted_at=T0 + hours * HOUR,
            message="m",
            price_usd=price,
        ),
        st.integers(0, 25),  # few ids: duplicates happen
        st.sampled_from(TICKERS),
        st.integers(0, 45),
        st.none() | prices,
    ),
    min_size=1,
    max_size=30,
)
rules_strategy = st.builds(
    lambda horizon, tolerance, grace, target: LabelRules(
        horizon=horizon * HOUR,
        entry_tolerance=tolerance * HOUR,
        grace=grace * HOUR,
        target_multiple=target,
    ),
    st.sampled_from([3, 6, 24]),
    st.sampled_from([0, 1, 3]),
    st.sampled_from([0, 1, 2]),
    st.sampled_from([2.0, 1.5]),
)


@settings(max_examples=600, deadline=None)
@given(signals_strategy, ticks_strategy, rules_strategy)
def test_columnar_labels_equal_the_joiners_labeler(
    signals: list[RawSignal], ticks: list[PriceTick], rules: LabelRules
) -> None:
    expected = {
        o.signal_id: o.model_dump() for o in label_in_event_time(signals, _prices(ticks), rules)
    }
    got = labels_from_prices(signals, TickColumns.from_ticks(ticks), rules)
    assert {o.signal_id: o.model_dump() for o in got} == expected
    assert len(got) == len(expected)


def test_the_edges_are_each_decided_as_the_joiner_decides_them() -> None:
    """Hand-made: a 2x exactly at the horizon wins; a tick after the tolerance is no entry;
    duplicate ticks at one instant keep their read order; a ticker without ticks is
    unresolved once the newest tick passes its deadline."""
    rules = LabelRules(horizon=24 * HOUR, entry_tolerance=HOUR, grace=HOUR)

    def tick(ticker: str, hours: float, price: float) -> PriceTick:
        return PriceTick(ticker=ticker, ts=T0 + hours * HOUR, price_usd=price, source="feed")

    def signal(sid: str, ticker: str, hours: float) -> RawSignal:
        return RawSignal(
            signal_id=sid, source="src", ticker=ticker, posted_at=T0 + hours * HOUR, message="m"
        )

    ticks = [
        tick("AAA", 0, 1.0),
        tick("AAA", 24, 2.0),  # exactly 2x, exactly at the horizon
        tick("BBB", 1.5, 5.0),  # after the tolerance
        tick("BBB", 30, 10.0),
        tick("AAA", 40, 1.0),
        tick("AAA", 40, 3.0),  # same instant: read after the 1.0
    ]
    signals = [signal("won", "AAA", 0), signal("no-entry", "BBB", 0),
               signal("quiet", "CCC", 0), signal("tie", "AAA", 40)]  # fmt: skip
    fast = labels_from_prices(signals, TickColumns.from_ticks(ticks), rules)
    got = {o.signal_id: o for o in fast}
    assert got["won"].status == "won" and got["won"].hit_at == T0 + 24 * HOUR
    assert got["no-entry"].status == "unresolved"
    assert got["no-entry"].reason == "no price within tolerance"
    assert got["quiet"].status == "unresolved"
    assert got["tie"].entry_price == 1.0 and got["tie"].max_multiple == 3.0
    assert got["tie"].status == "won"  # 1.5x is no 2x, but 3.0 after entry 1.0 is
    expected = {
        o.signal_id: o.model_dump() for o in label_in_event_time(signals, _prices(ticks), rules)
    }
    assert {k: v.model_dump() for k, v in got.items()} == expected


def test_without_grace_the_first_tick_at_the_deadline_ends_the_label() -> None:
    """Grace 0: the first tick at exactly the horizon's end resolves the signal (lost), so a 2x
    read after it at the same instant does not count, for the joiner and for the fast path."""
    rules = LabelRules(horizon=24 * HOUR, entry_tolerance=HOUR, grace=timedelta(0))
    ticks = [
        PriceTick(ticker="AAA", ts=T0 + hours * HOUR, price_usd=price, source="feed")
        for hours, price in [(0, 1.0), (24, 1.5), (24, 2.5)]
    ]
    signal = RawSignal(signal_id="s", source="src", ticker="AAA", posted_at=T0, message="m")
    [outcome] = labels_from_prices([signal], TickColumns.from_ticks(ticks), rules)
    assert (outcome.status, outcome.max_multiple, outcome.return_at_horizon) == ("lost", 1.5, 0.5)
    joiners = label_in_event_time([signal], _prices(ticks), rules)
    assert [outcome.model_dump()] == [o.model_dump() for o in joiners]
