"""`roostr broker --log-file` keeps the broker's own output (at warn unless asked otherwise)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from conftest import ROOSTR

from roostr.embedded_broker import free_port
from roostr.kafka import ensure_topics
from roostr.settings import Settings

_ENV = {k: v for k, v in os.environ.items() if k != "RUST_LOG"}


def _serve_once(log_file: Path, *flags: str) -> int:
    """Start the broker, use it (create the topics), stop it; returns its port."""
    port = free_port()
    process = subprocess.Popen(
        [*ROOSTR, "broker", "--port", str(port), "--log-file", str(log_file), *flags],
        stdout=subprocess.PIPE,
        text=True,
        env=_ENV,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == f"bootstrap servers: 127.0.0.1:{port}"
        ensure_topics(Settings(bootstrap_servers=f"127.0.0.1:{port}"))
        process.terminate()
        assert process.wait(timeout=15) == 0
    finally:
        process.kill()
    return port


def test_log_file_receives_the_broker_output_at_the_level_asked(tmp_path: Path) -> None:
    log_file = tmp_path / "broker.log"
    quiet_port = _serve_once(log_file)
    quiet = log_file.read_text()
    assert f"listening on: tcp://127.0.0.1:{quiet_port}" in quiet
    assert " INFO " not in quiet  # warn by default

    verbose_port = _serve_once(log_file, "--broker-log-level", "info")
    both = log_file.read_text()
    assert both.startswith(quiet)  # appended, not overwritten
    verbose = both[len(quiet) :]
    assert f"listening on: tcp://127.0.0.1:{verbose_port}" in verbose
    assert " INFO " in verbose
    assert "\x1b[" not in both  # plain text, no terminal colours


def test_an_unwritable_log_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "no such dir" / "broker.log"
    result = subprocess.run(
        [*ROOSTR, "broker", "--port", str(free_port()), "--log-file", str(missing)],
        capture_output=True,
        text=True,
        timeout=30,
        env=_ENV,
    )
    assert result.returncode == 1
    assert "broker did not start" in result.stderr and "no such dir" in result.stderr
