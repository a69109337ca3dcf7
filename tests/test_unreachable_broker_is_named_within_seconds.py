"""Every command that talks to Kafka says once, within ``ROOSTR_CONNECT_TIMEOUT_S``, which broker
it cannot reach, and exits 69: no librdkafka line, no traceback, no minute of retries.

``roostr publish`` is in tests/test_spool_survives_outage_and_kill.py (it keeps the records)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runs import run_cli

from roostr.connection import EXIT_BROKER_UNAVAILABLE
from roostr.embedded_broker import free_port
from roostr.settings import Settings

COMMANDS = [
    ("topics", "create"),
    ("retrain",),
    ("monitor",),
    ("backtest", "--from", "2026-01-01", "--to", "2026-02-01"),
    ("models", "rollback"),
    ("mode", "rules"),
    ("consume", "--http-port", "0"),
    ("join", "--http-port", "0"),
    ("bench", "--messages", "10"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_the_unreachable_broker_is_named_once_and_the_command_exits(
    command: tuple[str, ...], tmp_path: Path
) -> None:
    servers = f"127.0.0.1:{free_port()}"  # nothing listens there
    settings = Settings(
        bootstrap_servers=servers,
        connect_timeout_s=3,
        registry_dir=tmp_path / "models",
        spool_dir=tmp_path / "spool",
    )
    run = run_cli(settings, *command)
    assert run.returncode == EXIT_BROKER_UNAVAILABLE, run.output
    assert run.seconds < 20, "bounded by ROOSTR_CONNECT_TIMEOUT_S (3 s) plus start-up"
    [line] = run.lines_naming(servers)
    assert line.startswith(
        f"roostr: error: Kafka broker {servers} unreachable: no answer within 3 s"
    )
    assert "Connection refused" in line
    assert "%3|" not in run.output and "Traceback" not in run.output
