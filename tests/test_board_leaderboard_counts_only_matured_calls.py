"""The leaderboard's rules on hand-made calls: early wins wait until their horizon has ended,
losing calls stay, unresolved calls are counted apart, the first caller is per ticker across
channels; its CSV quotes what a spreadsheet would run; the report folder keeps to itself."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from board.backtests import find_reports, report_path
from board.leaderboard import Call, leaderboard, to_csv
from roostr.contracts import Outcome, OutcomeStatus

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _call(
    i: int, ticker: str, author: str, days: float, status: OutcomeStatus | None, **fields: float
) -> Call:
    posted = T0 + timedelta(days=days)
    outcome = None
    if status is not None:
        outcome = Outcome(
            signal_id=f"s{i}", ticker=ticker, posted_at=posted, status=status,
            label={"won": 1, "lost": 0}.get(status), entry_price=1.0, author=author,
            source="chat", horizon_days=30,
            hit_at=posted + timedelta(days=2) if status == "won" else None, **fields,
        )  # fmt: skip
    return Call(f"s{i}", ticker, posted, "chat", author, outcome)


def test_early_wins_are_pending_until_their_horizon_ends_and_losses_count() -> None:
    calls = [
        _call(1, "AAA", "ann", 0, "won", max_multiple=2.1),
        _call(2, "BBB", "ann", 1, "lost", max_multiple=1.5, return_at_horizon=-0.4),
        _call(3, "CCC", "ann", 2, "unresolved"),
        _call(4, "DDD", "ann", 20, "won", max_multiple=2.4),  # won, horizon not over: pending
        _call(5, "EEE", "ann", 21, None),  # not labelled yet: pending
        _call(6, "AAA", "bob", -1, "lost", max_multiple=1.1, return_at_horizon=-0.5),
    ]
    cutoff = T0 + timedelta(days=40)
    rows = {r.caller: r for r in leaderboard(calls, cutoff, "author")}
    ann = rows["ann"]
    assert (ann.calls, ann.hits, ann.pending, ann.unresolved) == (2, 1, 2, 1)
    assert ann.hit_rate == 0.5
    assert ann.hit_rate_low == pytest.approx(0.0945, abs=1e-4)  # Wilson, n=2, k=1
    assert ann.hit_rate_high == pytest.approx(0.9055, abs=1e-4)
    assert ann.median_multiple == pytest.approx((2.1 + 0.6) / 2)  # the loss at its horizon
    assert ann.first_share == pytest.approx(4 / 5)  # bob called AAA a day earlier
    assert rows["bob"].first_share == 1.0 and rows["bob"].hit_rate == 0.0
    assert all(r.calls == 0 for r in leaderboard(calls, None, "author"))  # no cutoff: none


def test_the_csv_quotes_formulas_and_the_report_folder_keeps_to_itself(tmp_path: Path) -> None:
    calls = [_call(1, "AAA", "=HYPERLINK(1)", 0, "lost", return_at_horizon=-0.1)]
    exported = list(csv.DictReader(io.StringIO(to_csv(leaderboard(calls, T0, "author")))))
    assert exported[0]["caller"] == "'=HYPERLINK(1)"
    reports = tmp_path / "reports"
    (reports / "bt").mkdir(parents=True)
    (reports / "bt" / "backtest.html").write_text("<p>ok</p>")
    (reports / "bt" / "backtest.json").write_text("{}")
    (tmp_path / "secret.html").write_text("<p>no</p>")
    (reports / "link.html").symlink_to(tmp_path / "secret.html")
    assert [r.name for r in find_reports(reports)] == ["bt/backtest.html"]
    for name in ("../secret.html", "link.html", "bt/backtest.json", "/etc/passwd"):
        assert report_path(reports, name) is None, name
