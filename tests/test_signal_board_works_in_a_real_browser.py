"""``roostr board`` in a real browser (Playwright driving Debian's chromium) against a real
broker, scoring consumer, outcome joiner and board, each its own process.

The world: scored calls with known prices published to ``signals.scored`` and ``prices`` (the
joiner labels them; ``label_world``), and raw signals scored live by the consumer, one of them
carrying script and image-onerror payloads in its message, author, channel and source. The
leaderboard is checked against a computation of its own from the topics, written from the
definitions (matured at the joiner's cutoff, Wilson by formula), not from ``board.leaderboard``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import random
import re
import shutil
import statistics
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import ROOSTR, private_settings
from label_world import T0, world
from playwright.sync_api import Browser, Dialog, Page, sync_playwright
from scoring_service_support import (
    ConsumerProcess,
    LoggedProcess,
    produce,
    train_tiny_model,
    wait_until,
)
from topic_reading import read_topic

from roostr.contracts import ScoredSignal
from roostr.kafka import make_producer
from roostr.registry import ModelRegistry
from roostr.scale import tier_for_score
from roostr.settings import Settings
from roostr.synthetic.stream import encoded, synthetic_signals

pytestmark = pytest.mark.slow

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(1)>"
AUTHORS = ("alice", "bob", "carol")
SOURCES = ("telegram-alpha", "discord-beta")
HORIZON_DAYS = 30
ADMIN_TOKEN = "board-admin-" + uuid.uuid4().hex
# Where the test saves its picture of the board: the pytest run's own directory, unless this
# variable names a file (``docs/board.png`` refreshes README's picture, on purpose only).
SCREENSHOT_TO = "ROOSTR_BOARD_SCREENSHOT"


@dataclass
class Stack:
    settings: Settings
    url: str
    board: LoggedProcess
    consumer: ConsumerProcess
    joiner: ConsumerProcess
    champion: str
    labelled: list[dict]  # the scored calls published straight to signals.scored


def _chromium() -> str:
    found = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)
    if found is None:
        pytest.skip("no headless browser on this machine (.ci/run installs Debian's chromium)")
    return found


def _labelled_calls() -> tuple[list[dict], list]:
    """``label_world``'s calls with authors, sources, messages, reasons and shadow scores."""
    records, ticks = world(seed=21, tickers=6, days=80)
    rng = random.Random(21)
    calls = []
    for i, record in enumerate(sorted(records, key=lambda r: r["posted_at"])):
        ml, shadow = rng.randint(1, 10), rng.randint(1, 10)
        doc = {
            **record,
            "author": AUTHORS[i % 3] if i % 7 else None,
            "source": SOURCES[i % 2],
            "channel": "calls",
            "message": f"${record['ticker']} looks ready, entry now",
            "scored_at": (T0 + timedelta(days=90)).isoformat(),
            "ml_score": ml,
            "ml_probability": ml / 10 - 0.05,
            "final_score": ml,
            "tier": tier_for_score(ml),
            "mode": "hybrid",
            "reasons": [
                {"feature": "dan_endorsed", "value": 1.0, "contribution": 0.4},
                {"feature": "trends_now", "value": None, "contribution": -0.15},
            ],
            "degraded": False,
            "shadow_model_version": "v-shadow",
            "shadow_probability": shadow / 10 - 0.05,
            "shadow_score": shadow,
        }
        if doc["price_usd"] is None:
            del doc["price_usd"]
        calls.append(ScoredSignal.model_validate(doc).model_dump(mode="json"))
    return calls, sorted(ticks, key=lambda t: t.ts)


def _raw(prefix: str, count: int, **fields: str) -> list[tuple[bytes, bytes]]:
    """Raw signals for the consumer, on tickers no price covers, posted at the world's start."""
    docs = []
    for i, doc in enumerate(synthetic_signals(count, tickers=3, seed=len(prefix), prefix=prefix)):
        doc.update(ticker=f"ZZ{prefix.upper()}{i}", source="live-feed", author=f"live-{i % 2}")
        doc.update(fields)
        docs.append(encoded(doc))
    return docs


@pytest.fixture(scope="module")
def stack(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("board")
    settings = private_settings(
        kafka_bootstrap,
        tmp,
        mode="hybrid",
        outcome_horizon_days=HORIZON_DAYS,
        outcome_entry_tolerance_hours=4,
        outcome_grace_hours=2,
        outcome_lookback_days=100,
        outcome_idle_partition_s=2,
        track_record_max_wait_s=2,
    )
    registry = ModelRegistry(settings.registry_dir)
    champion = train_tiny_model(registry, seed=3)
    train_tiny_model(registry, seed=4, promote=False)
    reports = tmp / "reports" / "backtest"
    reports.mkdir(parents=True)
    (reports / "backtest.html").write_text("<html><body><h1>walk-forward</h1></body></html>")
    token_file = tmp / "admin-token"
    token_file.write_text(ADMIN_TOKEN + "\n")
    env = settings.child_env()
    board = LoggedProcess(
        [*ROOSTR, "board", "--port", "0", "--reports", str(tmp / "reports"),
         "--admin-token-file", str(token_file)],
        env, tmp / "board.log",
    )  # fmt: skip
    consumer = ConsumerProcess(settings, tmp, "consumer")
    joiner = ConsumerProcess(settings, tmp, "joiner", command="join")
    try:
        wait_until(lambda: "board: http" in board.tail(), 60, "the board's address")
        url = board.tail().split("board: ", 1)[1].split()[0]
        calls, ticks = _labelled_calls()
        producer = make_producer(settings, **{"linger.ms": 5})
        for call in calls:
            producer.produce(settings.topic_scored, json.dumps(call), call["ticker"].encode())
        for tick in ticks:
            producer.produce(settings.topic_prices, tick.model_dump_json(), tick.ticker.encode())
            producer.poll(0)
        assert producer.flush(30) == 0
        yield Stack(settings, url, board, consumer, joiner, champion, calls)
    finally:
        for process in (board, consumer, joiner):
            process.ensure_stopped()


@dataclass
class Tab:
    """A browser page with what it reported: dialogs, console errors, uncaught script errors."""

    page: Page
    dialogs: list[str]
    errors: list[str]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = _chromium()
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def tab(browser: Browser) -> Iterator[Tab]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    opened = Tab(context.new_page(), [], [])

    def on_dialog(dialog: Dialog) -> None:
        opened.dialogs.append(dialog.message)
        dialog.dismiss()

    opened.page.on("dialog", on_dialog)
    opened.page.on("console", lambda m: m.type == "error" and opened.errors.append(m.text))
    opened.page.on("pageerror", lambda e: opened.errors.append(str(e)))
    yield opened
    context.close()


def _feed_ids(page: Page) -> list[str]:
    return page.eval_on_selector_all("#feed tbody tr", "rows => rows.map(r => r.dataset.signalId)")


def test_published_signals_appear_on_the_open_page_within_two_seconds(
    stack: Stack, tab: Tab
) -> None:
    tab.page.goto(stack.url)
    # Warm-up: the consumer's group join and the joiner's first cutoff come before scoring.
    produce(stack.settings, _raw("warm", 3))
    wait_until(lambda: any(i.startswith("warm:") for i in _feed_ids(tab.page)), 90, "warm-up rows")
    for round_ in range(3):
        prefix = f"live{round_}"
        sent = time.time()
        produce(stack.settings, _raw(prefix, 2))
        tab.page.wait_for_function(
            "p => [...document.querySelectorAll('#feed tbody tr')]"
            ".filter(r => r.dataset.signalId.startsWith(p)).length === 2",
            arg=prefix + ":", timeout=10_000,
        )  # fmt: skip
        shown = time.time()
        scored = [
            ScoredSignal.model_validate_json(m.value())
            for m in read_topic(stack.settings, stack.settings.topic_scored, 0, settle_s=0.3)
        ]
        scored_at = max(s.scored_at.timestamp() for s in scored if s.signal_id.startswith(prefix))
        timing = f"round {round_}: published→shown {shown - sent:.2f}s, scored→shown " \
                 f"{shown - scored_at:.2f}s"  # fmt: skip
        assert shown - scored_at < 1.0 and shown - sent < 2.0, timing
    row = tab.page.locator("#feed tbody tr").first
    assert row.locator("td").nth(5).inner_text() == "hybrid"
    assert row.locator("td").nth(6).inner_text() == stack.champion
    assert tab.errors == []


def test_the_filters_keep_only_matching_signals(stack: Stack, tab: Tab) -> None:
    wait_until(lambda: _held(stack) >= len(stack.labelled), 60, "the labelled calls held")
    tab.page.goto(stack.url + "?tier=medium")
    tiers = tab.page.eval_on_selector_all("#feed .score", "badges => badges.map(b => b.className)")
    assert tiers and all("tier-medium" in t or "tier-high" in t for t in tiers), tiers
    tab.page.select_option("select[name=tier]", "")
    tab.page.select_option("select[name=source]", SOURCES[1])
    tab.page.select_option("select[name=author]", "bob")
    tab.page.click("#filters button")
    tab.page.wait_for_url("**author=bob**")
    expected = {
        c["signal_id"] for c in stack.labelled
        if c["source"] == SOURCES[1] and c["author"] == "bob"
    }  # fmt: skip
    assert set(_feed_ids(tab.page)) == expected
    tab.page.goto(stack.url + "?ticker=tk2")
    tickers = {c["ticker"] for c in stack.labelled}
    shown = tab.page.eval_on_selector_all(
        "#feed tbody tr td:nth-child(2)", "cells => cells.map(c => c.textContent)"
    )
    assert "TK2" in tickers and set(shown) == {"TK2"}


def test_the_detail_view_shows_reasons_features_rule_score_outcome_and_prices(
    stack: Stack, tab: Tab
) -> None:
    won = _outcomes(stack, lambda o: o["status"] == "won")
    call = next(c for c in stack.labelled if c["signal_id"] == won[0]["signal_id"])
    wait_until(lambda: _detail_has_outcome(stack, call["signal_id"]), 60, "its outcome held")
    tab.page.goto(stack.url + "?ticker=" + call["ticker"])
    tab.page.click(f"#feed tr[data-signal-id='{call['signal_id']}'] a")
    tab.page.wait_for_selector("#reasons-chart")
    assert tab.page.inner_text("#message") == call["message"]
    assert tab.page.inner_text("#rule-score") == str(call["rule_score"])
    reasons = tab.page.eval_on_selector_all(
        "#reasons tbody tr td:first-child", "cells => cells.map(c => c.textContent)"
    )
    assert reasons == ["dan_endorsed", "trends_now"]
    features = tab.page.eval_on_selector_all(
        "#features tbody tr td:first-child", "cells => cells.map(c => c.textContent)"
    )
    assert features == sorted(call["features"])
    outcome = tab.page.inner_text("#outcome")
    assert outcome.startswith("won") and "hit at" in outcome, outcome
    assert f"{won[0]['max_multiple']:.2f}x" in outcome
    for chart in ("reasons-chart", "price-chart"):  # Chart.js drew on both canvases
        tab.page.wait_for_function(
            "id => window.Chart && Chart.getChart(document.getElementById(id)) !== undefined",
            arg=chart,
        )
    drawn = tab.page.evaluate(
        "() => Chart.getChart(document.getElementById('price-chart')).data.datasets[0].data.length"
    )
    assert drawn > 100  # hourly-ish ticks over the horizon
    assert tab.errors == []


def test_the_model_panel_shows_the_champion_and_the_calibration_chart(
    stack: Stack, tab: Tab
) -> None:
    tab.page.goto(stack.url + "model")
    assert tab.page.inner_text("#champion") == stack.champion
    tab.page.wait_for_selector("#calibration-chart[data-drawn=true]")
    series = tab.page.evaluate(
        "() => Chart.getChart(document.getElementById('calibration-chart')).data.datasets"
        ".map(d => [d.label, d.data.filter(v => v !== null).length])"
    )
    assert [label for label, _n in series] == ["champion win rate %", "shadow win rate %"]
    assert all(n >= 5 for _label, n in series), series  # buckets with matured outcomes
    tab.page.goto(stack.url + "backtests")
    tab.page.click("text=backtest/backtest.html")
    assert tab.page.inner_text("h1") == "walk-forward"
    assert tab.errors == []


def test_hostile_text_is_shown_as_text_with_no_dialog_script_or_console_error(
    stack: Stack, tab: Tab
) -> None:
    hostile = _raw("evil", 1, message=f"buy {HOSTILE}", author=HOSTILE, channel=HOSTILE)
    hostile_source = _raw("evilsrc", 1, source=HOSTILE)
    produce(stack.settings, [*hostile, *hostile_source])
    tab.page.goto(stack.url)
    tab.page.wait_for_function(
        "() => document.querySelectorAll('#feed tr[data-signal-id^=\"evil\"]').length === 2",
        timeout=60_000,
    )
    tab.page.reload()  # the server-rendered rows too
    tab.page.click("#feed tr[data-signal-id^='evil:'] a")
    assert tab.page.inner_text("#message") == f"buy {HOSTILE}"
    for path in ("leaderboard", "leaderboard?by=source", "?author=" + HOSTILE):
        tab.page.goto(stack.url + path)
        assert HOSTILE in tab.page.inner_text("main")
    for path in ("", "leaderboard?by=source"):
        response = tab.page.goto(stack.url + path)
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert tab.page.locator("img[src=x]").count() == 0
        assert tab.page.locator("main script").count() == 0
        tab.page.wait_for_timeout(500)  # live updates included
    assert tab.dialogs == []
    assert tab.errors == []


def test_an_action_needs_the_admin_token_and_switches_a_running_consumers_mode(
    stack: Stack, tab: Tab
) -> None:
    assert _post(stack.url + "actions/mode", {"value": "rules"}) == 401
    assert _post(stack.url + "actions/rollback", {}) == 401
    assert stack.consumer.events("mode_switched") == []
    tab.page.goto(stack.url + "login")
    tab.page.fill("input[name=who]", "dana")
    tab.page.fill("input[name=token]", ADMIN_TOKEN)
    tab.page.click("form.login button")
    cookies = tab.page.context.cookies()
    session = next(c["value"] for c in cookies if c["name"] == "roostr_board_session")
    forged = _post(stack.url + "actions/mode", {"value": "rules", "csrf": "guess"}, session)
    assert forged == 403  # a session without the page's CSRF token
    tab.page.goto(stack.url + "model")
    tab.page.select_option("#action-mode select", "rules")
    tab.page.click("#action-mode button")
    assert "mode rules" in tab.page.inner_text("#action-done")
    stack.consumer.wait_for_event("mode_switched", timeout_s=30)
    produce(stack.settings, _raw("after", 2))
    tab.page.goto(stack.url + "?ticker=ZZAFTER")
    tab.page.wait_for_function(
        "() => [...document.querySelectorAll('#feed tbody tr td:nth-child(6)')]"
        ".filter(c => c.textContent === 'rules').length === 2",
        timeout=30_000,
    )
    challenger = next(
        v.version for v in ModelRegistry(stack.settings.registry_dir).versions()
        if v.version != stack.champion
    )  # fmt: skip
    tab.page.goto(stack.url + "model")
    tab.page.select_option("#action-shadow select", challenger)
    tab.page.click("#action-shadow button")
    assert f"shadow {challenger}" in tab.page.inner_text("#action-done")
    stack.consumer.wait_for_event("shadow_loaded", timeout_s=30)
    assert tab.page.inner_text("#shadow") == challenger
    board_log = stack.board.log_path.read_text()
    action = next(json.loads(line) for line in board_log.splitlines()
                  if '"board_action"' in line)  # fmt: skip
    assert (action["who"], action["action"], action["mode"]) == ("dana", "mode rules", "rules")
    assert ADMIN_TOKEN not in board_log


def test_the_leaderboard_equals_an_independent_computation_from_the_topics(
    stack: Stack, tab: Tab, tmp_path: Path
) -> None:
    expected = _independent_leaderboard(stack)
    got: dict[str, dict[str, str]] = {}

    def matches() -> bool:
        got.clear()
        with urllib.request.urlopen(stack.url + "leaderboard.csv?by=author") as response:
            got.update(
                {r["caller"]: r for r in csv.DictReader(io.StringIO(response.read().decode()))}
            )
        return set(got) == set(expected) and all(
            int(got[a]["calls"]) == e["calls"] and int(got[a]["pending"]) == e["pending"]
            for a, e in expected.items()
        )

    wait_until(matches, 60, "the board's leaderboard to hold every outcome")
    assert sum(e["calls"] for e in expected.values()) >= 20  # decided, matured calls
    for author, e in expected.items():
        row = got[author]
        assert int(row["hits"]) == e["hits"] and int(row["unresolved"]) == e["unresolved"]
        for name in ("hit_rate", "hit_rate_low", "hit_rate_high", "median_multiple", "first_share"):
            value = float(row[name]) if row[name] else None
            assert value == pytest.approx(e[name]), (author, name)
    tab.page.goto(stack.url + "leaderboard?by=author&sort=hit_rate")
    shown = tab.page.eval_on_selector_all(
        "#leaderboard tbody tr",
        "rows => rows.map(r => [r.dataset.caller, r.querySelector('.calls').textContent,"
        " r.querySelector('.hit-rate').textContent])",
    )
    rates = [e["hit_rate"] for e in expected.values() if e["hit_rate"] is not None]
    assert shown[0][2] == f"{100 * max(rates):.1f}%"  # sorted by hit rate, best first
    assert {a: int(n) for a, n, _rate in shown} == {a: e["calls"] for a, e in expected.items()}
    screenshot = Path(os.environ.get(SCREENSHOT_TO) or tmp_path / "board.png")
    tab.page.goto(stack.url)
    tab.page.wait_for_timeout(300)
    tab.page.screenshot(path=str(screenshot))


# --- independent reads ---------------------------------------------------------------------


def _held(stack: Stack) -> int:
    with urllib.request.urlopen(stack.url + "healthz") as response:
        return int(json.loads(response.read())["signals"])


def _detail_has_outcome(stack: Stack, signal_id: str) -> bool:
    with urllib.request.urlopen(stack.url + "signals/" + signal_id) as response:
        return re.search(r'id="outcome">\s*won', response.read().decode()) is not None


def _post(url: str, form: dict[str, str], session: str | None = None) -> int:
    body = "&".join(f"{k}={v}" for k, v in form.items()).encode()
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("content-type", "application/x-www-form-urlencoded")
    if session is not None:
        request.add_header("cookie", f"roostr_board_session={session}")
    try:
        with urllib.request.urlopen(request) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _first_each(settings: Settings, topic: str, expected: int) -> list[dict]:
    seen: dict[str, dict] = {}
    for message in read_topic(settings, topic, expected, timeout_s=120, settle_s=1.0):
        doc = json.loads(message.value())
        seen.setdefault(doc["signal_id"], doc)
    return list(seen.values())


def _outcomes(stack: Stack, keep: Callable[[dict], bool]) -> list[dict]:
    found: list[dict] = []

    def some() -> bool:
        found[:] = [o for o in _first_each(stack.settings, stack.settings.topic_outcomes, 1)
                    if keep(o)]  # fmt: skip
        return bool(found)

    wait_until(some, 120, "labelled outcomes")
    return found


def _cutoff(settings: Settings) -> datetime | None:
    latest: dict[int, dict] = {}
    for message in read_topic(settings, settings.topic_label_cutoffs, 1, settle_s=0.5):
        doc = json.loads(message.value())
        latest[doc["partition"]] = doc
    if not latest or len(latest) < max(d["partitions"] for d in latest.values()):
        return None
    return min(datetime.fromisoformat(d["cutoff"]) for d in latest.values())


def _independent_leaderboard(stack: Stack) -> dict[str, dict]:
    """Per author, from signals.scored, signals.outcomes and the joiner's cutoffs."""
    settings = stack.settings
    matured_by = T0 + timedelta(days=76)  # every labelled call posted by day 45 has matured
    wait_until(lambda: (_cutoff(settings) or T0) >= matured_by, 120, "the joiner's cutoff")
    scored = _first_each(settings, settings.topic_scored, len(stack.labelled))
    outcomes: dict[str, dict] = {}

    def all_labelled() -> bool:
        outcomes.update({o["signal_id"]: o for o in _first_each(
            settings, settings.topic_outcomes, len(scored))})  # fmt: skip
        return set(outcomes) >= {s["signal_id"] for s in scored}

    wait_until(all_labelled, 120, "an outcome for every scored signal")
    cutoff = _cutoff(settings)
    assert cutoff is not None
    first: dict[str, tuple[str, str]] = {}
    for s in sorted(scored, key=lambda s: (datetime.fromisoformat(s["posted_at"]), s["signal_id"])):
        first.setdefault(s["ticker"], (s["signal_id"], s["author"] or "(no author)"))
    rows: dict[str, dict] = {}
    for s in scored:
        author = s["author"] or "(no author)"
        row = rows.setdefault(author, {"calls": 0, "hits": 0, "pending": 0, "unresolved": 0,
                                       "multiples": [], "tickers": set()})  # fmt: skip
        row["tickers"].add(s["ticker"])
        o = outcomes[s["signal_id"]]
        if datetime.fromisoformat(o["posted_at"]) + timedelta(days=o["horizon_days"]) > cutoff:
            row["pending"] += 1
        elif o["label"] is None:
            row["unresolved"] += 1
        else:
            row["calls"] += 1
            row["hits"] += o["label"]
            at_horizon = o["max_multiple"] if o["label"] else 1 + o["return_at_horizon"]
            row["multiples"].append(at_horizon)
    z = 1.959963984540054
    for author, row in rows.items():
        n, k = row["calls"], row["hits"]
        p = k / n if n else None
        if p is not None:
            centre = (p + z * z / (2 * n)) / (1 + z * z / n)
            half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
            row["hit_rate_low"], row["hit_rate_high"] = centre - half, centre + half
        else:
            row["hit_rate_low"] = row["hit_rate_high"] = None
        row["hit_rate"] = p
        row["median_multiple"] = statistics.median(row["multiples"]) if row["multiples"] else None
        row["first_share"] = sum(first[t][1] == author for t in row["tickers"]) / len(
            row["tickers"]
        )
    return rows
