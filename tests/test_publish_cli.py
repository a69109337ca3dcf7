"""`roostr publish` sends the good lines keyed by ticker and reports every bad line by number."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from conftest import ROOSTR
from topic_reading import read_topic

from roostr.contracts import PriceTick, RawSignal
from roostr.settings import Settings

TICKERS = ("TAO", "ASTS", "RNDR", "$pendle")


def roostr(settings: Settings, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*ROOSTR, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=settings.child_env(),
        timeout=120,
    )


def good_signal(i: int) -> str:
    return json.dumps(
        {
            "signal_id": f"yieldhub:{i}",
            "ticker": TICKERS[i % len(TICKERS)],
            "source": "Yieldschool-YieldHub",
            "message": f"thesis {i} 🔥",
            "reactions": {"🔥": i},
            "posted_at": "2026-02-05T14:30:00+00:00",
        },
        ensure_ascii=False,
    )


BAD_LINES: dict[str, str] = {
    "{not json": "invalid JSON",
    json.dumps({"ticker": "TAO", "source": "X", "posted_at": "2026-02-05T00:00:00Z"}): (
        "signal_id: Field required"
    ),
    json.dumps(
        {"signal_id": "x", "ticker": "TAO", "source": "X", "posted_at": "2026-02-05T00:00:00"}
    ): "posted_at: Input should be an RFC 3339 timestamp with a timezone",
    json.dumps(
        {
            "signal_id": "y",
            "ticker": "TAO",
            "source": "X",
            "mention_count": -1,
            "posted_at": "2026-02-05T00:00:00Z",
        }
    ): "mention_count: Input should be greater than or equal to 0",
    "[1, 2]": "record: Input should be a valid dictionary",
}


def write_mixed_input(path: Path, good: int) -> dict[int, str]:
    """Good lines with the bad ones spread among them; returns line number → expected reason."""
    lines = [good_signal(i) for i in range(good)]
    for n, line in enumerate(BAD_LINES):
        lines.insert(3 + n * 7, line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {number: BAD_LINES[line] for number, line in enumerate(lines, 1) if line in BAD_LINES}


def reported(stderr: str) -> dict[int, str]:
    return {
        int(m.group(1)): m.group(2)
        for m in re.finditer(r"^line (\d+): rejected: (.*)$", stderr, re.M)
    }


def test_good_lines_are_published_and_bad_lines_reported(
    settings: Settings, tmp_path: Path
) -> None:
    good = 60
    expected_bad = write_mixed_input(tmp_path / "signals.jsonl", good)

    result = roostr(settings, "publish", str(tmp_path / "signals.jsonl"), "--batch-size", "16")

    assert result.returncode == 1, result.stderr
    assert result.stdout.strip().splitlines()[-1] == f"published {good}, rejected {len(BAD_LINES)}"
    bad = reported(result.stderr)
    assert sorted(bad) == sorted(expected_bad)
    for number, reason in expected_bad.items():
        assert reason in bad[number]

    records = read_topic(settings, settings.topic_raw, expected=good)
    signals = [RawSignal.model_validate_json(r.value()) for r in records]
    assert sorted(s.signal_id for s in signals) == sorted(f"yieldhub:{i}" for i in range(good))
    assert all(r.key().decode() == s.ticker for r, s in zip(records, signals, strict=True))
    assert {s.ticker for s in signals} == {"TAO", "ASTS", "RNDR", "PENDLE"}
    assert not list(settings.spool_dir.glob("*/*.batch")), "acknowledged batches are deleted"


def test_prices_are_published_from_standard_input(settings: Settings) -> None:
    ticks = [
        json.dumps({"ticker": "tao", "ts": f"2026-02-{d:02d}T00:00:00Z", "price_usd": 400 + d,
                    "source": "feed"})
        for d in range(1, 11)
    ]  # fmt: skip
    result = roostr(settings, "prices", "publish", "-", stdin="\n".join(ticks) + "\n\n")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "published 10, rejected 0"
    records = read_topic(settings, settings.topic_prices, expected=10)
    assert {r.key() for r in records} == {b"TAO"}
    assert sorted(PriceTick.model_validate_json(r.value()).price_usd for r in records) == [
        401 + d for d in range(10)
    ]


def test_a_missing_file_is_a_clear_error(settings: Settings, tmp_path: Path) -> None:
    result = roostr(settings, "publish", str(tmp_path / "absent.jsonl"))
    assert result.returncode == 2
    assert "no such file" in result.stderr and "absent.jsonl" in result.stderr


def test_a_file_of_only_bad_lines_publishes_nothing_and_fails(
    settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "bad.jsonl").write_text('{"ticker": "TAO"}\nnull\n', encoding="utf-8")
    result = roostr(settings, "publish", str(tmp_path / "bad.jsonl"))
    assert result.returncode == 1
    assert sorted(reported(result.stderr)) == [1, 2]
    assert result.stdout.strip() == "published 0, rejected 2"
