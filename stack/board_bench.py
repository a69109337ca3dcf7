"""``roostr board-bench``: does the board keep up, and how fast do its pages load?

- keep-up: ``roostr board`` as its own process follows ``signals.scored`` while this process
  publishes scored records (scored by ``roostr.scoring.Scorer``, so they have the real size and
  layout) at ``rate`` per second for ``seconds``. Each second: records the board has read (its
  ``/healthz``), its lag behind what was acknowledged, and its resident memory (``/proc``);
  then how long it took to read the rest once publishing stopped;
- page load: with ``held`` signals in memory, the time to fetch each page (server rendering plus
  transfer; the feed page is rendered from the newest 200 rows whatever is held), median and
  worst of 20, and the first (uncached) model panel; then, where Playwright (the test extra) and
  chromium are installed, each page's load in the browser (navigation start to the load event:
  HTML, script, style, Chart.js), median of 5 after a first.

Against the embedded broker unless a broker is named, on fresh topics.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from roostr.contracts import RawSignal
from roostr.features import FeatureExtractor
from roostr.kafka import ensure_topics, make_producer
from roostr.scoring import Scorer
from roostr.settings import Settings
from roostr.synthetic.stream import synthetic_signals
from stack.broker import broker_for_run, wants_embedded_broker

__all__ = ["run_board_bench"]

PAGES = ("/", "/leaderboard", "/leaderboard?by=source", "/model", "/backtests")


def run_board_bench(settings: Settings, *, rate: float, seconds: float, held: int) -> None:
    """Measure, printing each figure as it is known."""
    count = max(int(rate * seconds), held)
    records = _scored_records(count)
    print(f"{count} scored records, {statistics.mean(len(v) for _k, v in records):.0f} B each")
    with broker_for_run(settings, wants_embedded_broker(settings)) as base:
        measured = base.namespaced(f"board-bench-{uuid.uuid4().hex[:8]}", partitions_raw=6)
        ensure_topics(measured)
        with tempfile.TemporaryDirectory() as tmp:
            board, url = _start_board(measured, Path(tmp))
            try:
                _keep_up(measured, board, url, records, rate)
                _page_loads(url, held)
                _browser_loads(url)
            finally:
                board.terminate()
                board.wait(30)


def _scored_records(count: int) -> list[tuple[bytes, bytes]]:
    signals = [RawSignal.model_validate(s) for s in synthetic_signals(count, tickers=300, seed=5)]
    scorer = Scorer(FeatureExtractor(), None, "rules")
    now = datetime.now(UTC)
    return [
        (s.ticker.encode(), orjson.dumps(record))
        for s, record in zip(signals, scorer.score_records(signals, now), strict=True)
        if isinstance(record, dict)
    ]


def _start_board(settings: Settings, log_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    board = subprocess.Popen(
        [sys.executable, "-m", "stack", "board", "--port", "0", "--reports", str(log_dir)],
        env=settings.child_env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    assert board.stdout is not None
    line = board.stdout.readline().decode()
    if not line.startswith("board: "):
        board.kill()
        raise RuntimeError(f"the board did not start: {line!r}")
    return board, line.removeprefix("board: ").strip()


def _health(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url + "healthz", timeout=5) as response:
        return orjson.loads(response.read())


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _keep_up(
    settings: Settings,
    board: subprocess.Popen[bytes],
    url: str,
    records: list[tuple[bytes, bytes]],
    rate: float,
) -> None:
    producer = make_producer(settings, **{"linger.ms": 5})
    acked = 0

    def delivered(err: Any, _msg: Any) -> None:
        nonlocal acked
        acked += err is None

    start = time.monotonic()
    next_report, lags, rss = start + 1, [], []
    print(f"publishing at {rate:.0f}/s for {len(records) / rate:.0f} s")
    for i, (key, value) in enumerate(records):
        due = start + i / rate
        while (now := time.monotonic()) < due:
            producer.poll(min(due - now, 0.01))
        producer.produce(settings.topic_scored, value, key, on_delivery=delivered)
        producer.poll(0)
        if now >= next_report:
            read = _health(url)["read"]
            lags.append(acked - read)
            rss.append(_rss_mib(board.pid))
            print(f"  t={now - start:5.1f}s acked {acked:6d} read {read:6d} "
                  f"lag {acked - read:5d} RSS {rss[-1]:.0f} MiB")  # fmt: skip
            next_report += 1
    producer.flush(30)
    published_s = time.monotonic() - start
    while _health(url)["read"] < len(records):
        time.sleep(0.05)
    drained_s = time.monotonic() - start - published_s
    print(
        f"keep-up: {len(records)} records in {published_s:.1f} s "
        f"({len(records) / published_s:.0f}/s offered), read by the board "
        f"{drained_s * 1000:.0f} ms after the last was acknowledged; lag while publishing "
        f"median {statistics.median(lags or [0]):.0f}, max {max(lags or [0])} records; "
        f"RSS max {max(rss or [0.0]):.0f} MiB"
    )


def _page_loads(url: str, held: int) -> None:
    print(f"page loads with {_health(url)['signals']} signals held (>= {held} asked):")
    for page in PAGES:
        times = []
        for _ in range(20):
            began = time.perf_counter()
            with urllib.request.urlopen(url.rstrip("/") + page, timeout=30) as response:
                body = response.read()
            times.append((time.perf_counter() - began) * 1000)
        print(
            f"  {page:<24} first {times[0]:6.1f} ms, median {statistics.median(times):6.1f} ms, "
            f"max {max(times):6.1f} ms, {len(body) / 1024:.0f} KiB"
        )


def _browser_loads(url: str) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("browser page loads: skipped (Playwright is in the test extra)")
        return
    chromium = shutil.which("chromium")
    if chromium is None:
        print("browser page loads: skipped (no chromium)")
        return
    print("browser page loads (navigation start → load event):")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page()
        for path in PAGES:
            times = []
            for _ in range(6):
                page.goto(url.rstrip("/") + path, wait_until="load")
                times.append(
                    page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
                )
            print(
                f"  {path:<24} first {times[0]:6.1f} ms, median of the next 5 "
                f"{statistics.median(times[1:]):6.1f} ms"
            )
        browser.close()
