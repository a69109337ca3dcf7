"""`roostr broker` runs a real broker in the foreground and stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess

import pytest
from conftest import ROOSTR

from roostr.embedded_broker import free_port
from roostr.kafka import ensure_topics
from roostr.settings import Settings


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_broker_prints_its_address_serves_and_stops(stop_signal: signal.Signals) -> None:
    port = free_port()
    process = subprocess.Popen(
        [*ROOSTR, "broker", "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == f"bootstrap servers: 127.0.0.1:{port}"
        created = ensure_topics(Settings(bootstrap_servers=f"127.0.0.1:{port}"))
        assert set(created.values()) == {"created"}
        process.send_signal(stop_signal)
        assert process.wait(timeout=15) == 0
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        process.kill()
