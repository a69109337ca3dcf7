"""A Ctrl-C that a library swallows still stops `roostr demo` at its next step.

Seen in CI: the KeyboardInterrupt vanished inside numpy while the world was drawn, and the demo ran
on to exit 0 instead of stopping every service and exiting 130."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path

import pytest

from roostr.settings import Settings
from stack.demo import _CtrlC, _Services


@pytest.fixture
def services(tmp_path: Path) -> Iterator[_Services]:
    ctrl_c = _CtrlC()
    previous = signal.signal(signal.SIGINT, ctrl_c.handle)
    try:
        yield _Services(Settings(), tmp_path, ctrl_c)
    finally:
        signal.signal(signal.SIGINT, previous)


def _swallowed_ctrl_c() -> None:
    """A real SIGINT to this process, whose KeyboardInterrupt a library catches and drops."""
    with suppress(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [])  # runs the handler, if it has not yet run


def test_without_ctrl_c_the_steps_run(services: _Services) -> None:
    assert services.failed() == []
    assert "demo" in services.run("help", "--help")


@pytest.mark.parametrize(
    "step",
    [
        lambda s: s.start("help", "--help"),
        lambda s: s.run("help", "--help"),
        lambda s: s.failed(),
    ],
    ids=["start", "run", "check"],
)
def test_the_next_step_raises_the_swallowed_ctrl_c(
    services: _Services, step: Callable[[_Services], object]
) -> None:
    _swallowed_ctrl_c()
    assert services.ctrl_c.pressed
    with pytest.raises(KeyboardInterrupt):
        step(services)
    assert services.running == {} and services.jobs == {}  # nothing started after Ctrl-C
