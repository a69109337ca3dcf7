"""A member that waits while its group lags counts as stalled after the bound, and recovers.

Decided from periodic checks on an injected clock, without a broker.
"""

from __future__ import annotations

from structlog.testing import capture_logs

from consumer.stall import StallDetector
from roostr.group_lag import PartitionLag

AFTER_S = 60.0
EVERY_S = 5.0


class Checks:
    """A detector checked every ``EVERY_S`` seconds of a fake clock."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.detector = StallDetector(AFTER_S, clock=lambda: self.now)

    def check(self, group: dict[int, PartitionLag], held: dict[int, int | None]) -> bool:
        changed = self.detector.observe(group, held)
        self.now += EVERY_S
        return changed

    def repeat(self, seconds: float, group: dict[int, PartitionLag], held: dict) -> list[bool]:
        """The same view at every check for ``seconds``; the ``stalled`` state after each."""
        states = []
        for _ in range(int(seconds / EVERY_S)):
            self.check(group, held)
            states.append(self.detector.stalled)
        return states


def lagging(*starts: int, end: int = 100) -> dict[int, PartitionLag]:
    return {p: PartitionLag(start=start, end=end) for p, start in enumerate(starts)}


def test_unassigned_member_of_a_stuck_group_stalls_after_the_bound_then_recovers() -> None:
    checks = Checks()
    stuck = lagging(0, 40)
    with capture_logs() as events:
        states = checks.repeat(AFTER_S + EVERY_S, stuck, held={})
        assert states[: int(AFTER_S / EVERY_S)] == [False] * int(AFTER_S / EVERY_S)
        assert states[-1] is True
        assert checks.check(lagging(0, 40), held={1: 40}) is False  # assigned: not moved yet
        assert checks.check(lagging(0, 40), held={1: 90}) is True  # moving again
    assert checks.detector.stalled is False
    assert [e["event"] for e in events] == ["member_stalled", "member_recovered"]
    assert events[0]["reason"] == "unassigned" and events[0]["group_lag"] == 160
    assert events[0]["waited_s"] == AFTER_S
    assert events[0]["log_level"] == "warning"


def test_held_partitions_that_lag_without_progress_stall() -> None:
    checks = Checks()
    with capture_logs() as events:
        states = checks.repeat(AFTER_S + EVERY_S, lagging(10, 20), held={0: 15, 1: None})
    assert states[-1] is True
    assert events[0]["reason"] == "no_progress" and events[0]["partitions"] == [0, 1]


def test_progress_within_each_check_never_stalls() -> None:
    checks = Checks()
    for step in range(40):  # 200 s of slow but steady work on a large backlog
        checks.check(lagging(step, end=1000), held={0: step + 1})
        assert checks.detector.stalled is False


def test_caught_up_member_does_not_stall_while_other_partitions_lag() -> None:
    checks = Checks()
    group = {0: PartitionLag(start=100, end=100), 1: PartitionLag(start=0, end=500)}
    assert not any(checks.repeat(3 * AFTER_S, group, held={0: 100}))


def test_group_without_lag_never_stalls_an_idle_member() -> None:
    checks = Checks()
    assert not any(checks.repeat(3 * AFTER_S, lagging(100, 100), held={}))
    assert not any(checks.repeat(3 * AFTER_S, lagging(100, 100), held={0: 100}))


def test_spare_member_of_a_group_that_is_catching_up_does_not_stall() -> None:
    checks = Checks()
    for step in range(40):  # more members than partitions: the others commit at every check
        checks.check(lagging(step * 10, step * 10, end=1000), held={})
        assert checks.detector.stalled is False


def test_one_stuck_partition_stalls_an_unassigned_member_while_others_move() -> None:
    checks = Checks()
    for step in range(int(AFTER_S / EVERY_S) + 1):
        checks.check(lagging(step * 10, 0, end=1000), held={})
    assert checks.detector.stalled is True


def test_a_moving_check_restarts_the_bound() -> None:
    checks = Checks()
    waited = checks.repeat(AFTER_S - EVERY_S, lagging(0), held={0: 0})
    checks.check(lagging(0), held={0: 1})  # one batch
    assert not any([*waited, *checks.repeat(AFTER_S, lagging(1), held={0: 1})])
    assert checks.repeat(EVERY_S, lagging(1), held={0: 1}) == [True]
