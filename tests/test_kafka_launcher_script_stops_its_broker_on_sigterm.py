"""``python tests/apache_kafka.py`` stops its broker's JVM when it is told to stop (SIGTERM, as a
supervisor or ``kill`` sends, or SIGINT): no broker is left running after the script."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import apache_kafka
import pytest
from scoring_service_support import wait_until

pytestmark = pytest.mark.skipif(
    not apache_kafka.available(), reason="needs Java, and Maven or the cached Kafka jars"
)

SCRIPT = Path(apache_kafka.__file__)


def _processes_under(work_dir: str) -> list[int]:
    """Processes whose command line names ``work_dir`` (the broker's JVM does: its config)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and work_dir in (entry / "cmdline").read_text():
                found.append(int(entry.name))
        except OSError:  # exited meanwhile, or not ours to read
            continue
    return found


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_script_stops_its_broker_when_signalled(signum: int) -> None:
    script = subprocess.Popen(
        [sys.executable, str(SCRIPT)], stdout=subprocess.PIPE, text=True, cwd=SCRIPT.parent
    )
    work_dir = ""
    try:
        assert script.stdout is not None
        assert script.stdout.readline().startswith("bootstrap servers: 127.0.0.1:")
        work_dir = script.stdout.readline().rpartition("logs under: ")[2].strip()
        assert _processes_under(work_dir), "the broker's JVM runs while the script serves"
        os.kill(script.pid, signum)
        assert script.wait(timeout=60) == 0
        wait_until(lambda: not _processes_under(work_dir), 10, "the broker's JVM to exit")
        assert not (Path(work_dir) / "data").exists()  # stopped as on Ctrl-C: storage removed
    finally:
        script.kill()
        script.wait()
        for pid in _processes_under(work_dir) if work_dir else []:  # a failed test's leftovers
            os.kill(pid, signal.SIGKILL)
