"""When a member counts as stalled: its group lags and this member has not moved for too long.

A member can sit in the group, alive and heartbeating, without scoring anything: it was never
given partitions, or the partitions it holds stopped advancing. Liveness does not see that, so
this decides it from periodic checks (a few seconds apart, between batches), and the service
turns it into readiness, a metric and a log event. Clock injected: decided without a broker.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Literal

from roostr.group_lag import PartitionLag
from roostr.logs import get_logger

__all__ = ["StallDetector", "StallReason"]

log = get_logger("roostr.consumer.stall")

StallReason = Literal["unassigned", "no_progress"]


class StallDetector:
    """Stalled after ``after_s`` during which every check found the member waiting, which is:

    - ``unassigned``: it holds no partition while some partition of the group lags and its
      committed offset did not advance since the previous check (a spare member of a group that
      is catching up, with more members than partitions, is not waiting);
    - ``no_progress``: its partitions lag and none of its positions advanced since the previous
      check (partitions that are caught up are not waiting, whatever the rest of the group does).

    A group without lag waits for nothing. The first check has nothing to compare with, so it
    counts as waiting whenever there is lag: the bound runs from there.
    """

    def __init__(self, after_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.after_s = after_s
        self.stalled = False
        self._clock = clock
        self._waiting_since: float | None = None
        self._stalled_since: float | None = None
        self._starts: dict[int, int] = {}
        self._positions: dict[int, int] = {}

    def observe(self, group: Mapping[int, PartitionLag], held: Mapping[int, int | None]) -> bool:
        """One check; True when ``stalled`` changed.

        ``group``: every partition of the topic; ``held``: the member's partitions and its
        position in each (None before its first fetch: it stands where the group does).
        """
        now = self._clock()
        positions = {
            p: group[p].start if position is None else position
            for p, position in held.items()
            if p in group
        }
        reason = self._no_progress(group, positions) if held else self._unassigned(group)
        self._starts = {p: lag.start for p, lag in group.items()}
        self._positions = positions
        if reason is None:
            since, self._waiting_since = self._waiting_since, None
            if not self.stalled:
                return False
            self.stalled, self._stalled_since = False, None
            log.info("member_recovered", stalled_s=_seconds(now, since), group_lag=_total(group))
            return True
        if self._waiting_since is None:
            self._waiting_since = now
        if self.stalled or now - self._waiting_since < self.after_s:
            return False
        self.stalled, self._stalled_since = True, now
        log.warning(
            "member_stalled",
            reason=reason,
            waited_s=_seconds(now, self._waiting_since),
            group_lag=_total(group),
            partitions=sorted(held),
        )
        return True

    @property
    def waiting(self) -> bool:
        """The last check found the member waiting (stalled or on its way to it)."""
        return self._waiting_since is not None

    def stalled_for(self) -> float | None:
        """Seconds since the member was found stalled (None: it is not)."""
        return None if self._stalled_since is None else self._clock() - self._stalled_since

    def _unassigned(self, group: Mapping[int, PartitionLag]) -> StallReason | None:
        starts = self._starts
        stuck = any(lag.lag and not _advanced(p, lag.start, starts) for p, lag in group.items())
        return "unassigned" if stuck else None

    def _no_progress(
        self, group: Mapping[int, PartitionLag], positions: Mapping[int, int]
    ) -> StallReason | None:
        behind = any(group[p].end > at for p, at in positions.items())
        moved = any(_advanced(p, at, self._positions) for p, at in positions.items())
        return "no_progress" if behind and not moved else None


def _advanced(partition: int, offset: int, before: Mapping[int, int]) -> bool:
    """The offset moved forward since the previous check (unknown then: it did not)."""
    return partition in before and offset > before[partition]


def _seconds(now: float, since: float | None) -> float:
    return round(now - since, 1) if since is not None else 0.0


def _total(group: Mapping[int, PartitionLag]) -> int:
    return sum(lag.lag for lag in group.values())
