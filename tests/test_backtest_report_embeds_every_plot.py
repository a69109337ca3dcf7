"""The HTML report is one self-contained file: every plot is embedded as an image that decodes
(parsing the HTML and decoding each image with Pillow), that a headless browser loads and shows
(Debian's chromium; `.ci/run` installs it, and the test skips where no browser exists), and it
refers to nothing outside itself."""

from __future__ import annotations

import base64
import html
import io
import json
import re
import shutil
import subprocess
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from roostr.settings import Settings
from roostr.synthetic.world import START, generate_world
from training.backtest.engine import BacktestConfig, run_backtest
from training.backtest.inputs import BacktestInputs
from training.backtest.replay_signals import ReplaySignals
from training.backtest.report import PLOTS, write_report
from training.backtest.selection import parse_selection
from training.backtest.tick_columns import TickColumns
from training.backtest.walk_forward import WalkForward


class Figures(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.figure: str | None = None
        self.images: dict[str, str] = {}
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "figure":
            self.figure = values.get("id")
        if tag == "img" and self.figure:
            self.images[self.figure] = values.get("src") or ""
        if tag in ("script", "link") or (tag == "img" and not self.figure):
            self.links.append(tag)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """One walk-forward backtest report of a small world (its page and its summary)."""
    world = generate_world(600, seed=2, span_days=200)
    ticks = TickColumns.from_ticks(t for path in world.prices.values() for t in path.ticks())
    config = BacktestConfig(
        START + 110 * timedelta(days=1), START + 200 * timedelta(days=1),
        parse_selection("top20%"), walk_forward=WalkForward(train_window=timedelta(days=100)),
    )  # fmt: skip
    inputs = BacktestInputs(ReplaySignals.in_memory(world.signals), [], ticks)
    result = run_backtest(inputs, config, Settings(retrain_min_outcomes=100))
    page, _summary = write_report(result, tmp_path_factory.mktemp("report"))
    return page, result.summary


def test_report_holds_every_plot_as_a_decodable_image(report: tuple[Path, dict]) -> None:
    page, summary = report
    figures = Figures()
    figures.feed(page.read_text(encoding="utf-8"))
    assert set(figures.images) == {f"plot-{name}" for name in PLOTS}
    assert figures.links == []
    for name, src in figures.images.items():
        prefix = "data:image/png;base64,"
        assert src.startswith(prefix), name
        image = Image.open(io.BytesIO(base64.b64decode(src[len(prefix) :], validate=True)))
        image.load()
        assert image.width >= 300 and image.height >= 200, name
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
        assert colours is not None and len(colours) > 10, f"{name} is blank"
    assert {"ml", "hybrid", "rules_v0", "green_flags_v1"} <= set(summary["scorers"])


def test_report_opens_in_a_headless_browser_with_every_plot_shown(
    report: tuple[Path, dict], tmp_path: Path
) -> None:
    browser = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)
    if browser is None:
        pytest.skip("no headless browser on this machine (.ci/run installs Debian's chromium)")
    page, _summary = report
    # The page as shipped, plus a probe that titles it with what the browser decoded.
    probe = (
        "<script>addEventListener('load', () => { document.title = JSON.stringify("
        "[...document.images].map(i => [i.closest('figure')?.id, i.naturalWidth]));});</script>"
    )
    probed = tmp_path / "probed.html"
    probed.write_text(page.read_text(encoding="utf-8") + probe, encoding="utf-8")
    dom = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000",
         "--dump-dom", probed.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    title = re.search(r"<title>(.*?)</title>", dom, re.S)
    assert title is not None, dom[:500]
    shown = dict(json.loads(html.unescape(title.group(1))))
    assert set(shown) == {f"plot-{name}" for name in PLOTS}
    assert all(width >= 300 for width in shown.values()), shown
