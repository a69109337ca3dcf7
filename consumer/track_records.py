"""The outcomes a scoring member's track records need, and holding a batch until they are in.

A signal's track-record features count the outcomes matured by ``posted_at − TRACK_RECORD_LAG``
(``roostr.features.state.TrackRecords``). They are a function of event time only if every such
outcome has been recorded before the signal is scored, so the member follows two topics from
their beginning, outside any group:

- ``signals.outcomes``, each record fed to the extractor (``record_outcome``), noting how far
  each partition has been read;
- ``signals.outcomes.cutoffs``, the joiner's ``LabelCutoff`` claims. A claim counts once the
  outcomes have been read up to its ``outcomes_through`` offsets: from then on every outcome it
  vouches for is recorded. ``known`` is the topic-wide cutoff over the claims that count.

The joiner can only vouch for signals it has read: a claim says nothing of the signals this
member holds, nor of those it delivered that the joiner has not read yet (the claim's
``scored_through`` tells), nor of those still unread in its own input. So the cutoff this member
trusts is also kept below the horizon's end of the earliest of them: of the held and the
delivered ones by their posted_at; of a partition with records past those handed to the member
(``unread``, as its client's fetches see the ends; one no fetch has answered for since it was
assigned counts too) by the newest posted_at handed from it, its unread ones coming after it in
the partition (the joiner assumes the same of ``signals.scored``). A partition with unread
records and none handed yet bounds it at nothing: its records are fetched first (``ready``
returns at once, nothing chosen). Without that, one partition's first
fetch, ahead of another's, was scored without the other's outcomes. With several members, what
the others hold, have in flight or have delivered unread by the joiner bounds it too
(``consumer.group_frontier``, looked up while records are held, at most every
``_LOOK_EVERY_S``); a member never waits on another that waits on it: the one whose pending
signals are earliest is never held back by a later one's.

``ready`` is called with a batch's records before they are scored: it chooses those whose track
records are final (``posted_at − TRACK_RECORD_LAG`` at or before the trusted cutoff, itself kept
below the horizon's end of the batch's earliest signal), per partition up to the first that is
not, waiting for the joiner while none is, at most ``ROOSTR_TRACK_RECORD_MAX_WAIT_S`` (then all
are scored and counted as unsettled; the wait counts from when the records were first held,
across calls), and says the cutoff they are scored at (each scored record names the one its
track records are complete to, ``complete_to``, as ``label_cutoff``). The rest wait for the
next batch. Live, the cutoff runs a grace (1 h) behind the prices and the lag is a day, so
nothing waits; a replay or backfill that publishes a history at once is scored a stretch at a
time, as the joiner labels it, instead of on missing outcomes. The joiner announces every
partition it labels from its start (a cutoff at the epoch until its first ticks); until every
partition is announced there is no cutoff, no joiner to wait for, and nothing waits (a
deployment without a joiner, ``roostr up``). While it waits the member stays alive and commits
what it delivered (``heartbeat``): another member may be waiting for those commits.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Literal

from confluent_kafka import Message
from pydantic import ValidationError

from roostr.contracts import LabelCutoff, Outcome, RawSignal
from roostr.cutoffs import LabelCutoffs
from roostr.delivery import Delivered
from roostr.features.state import TRACK_RECORD_LAG
from roostr.logs import get_logger
from roostr.settings import Settings
from roostr.topic_reader import TopicTail

__all__ = ["OutcomeFeed", "complete_to"]

log = get_logger("roostr.track_records")

LAG = timedelta(seconds=TRACK_RECORD_LAG)
_BEFORE = timedelta(microseconds=1)  # "strictly before": a signal posted at m matures at m + H
_WAIT_STEP_S = 0.1
_LOOK_EVERY_S = 0.25  # how often the other members' pending signals are looked up while holding
# Held by the other members, ``ready`` returns within this: their partitions may have to move
# to a new owner, and the rebalance waits for this member's next poll.
_ELSEWHERE_WAIT_S = 1.0
HeldBy = Literal["joiner", "input", "elsewhere"]
Elsewhere = Callable[[Mapping[int, LabelCutoff]], datetime | None]


def complete_to(cutoff: datetime | None, posted_at: datetime) -> datetime | None:
    """The label cutoff a signal's track records are complete to, as its record names it: the
    time they are evaluated at (posted_at − ``TRACK_RECORD_LAG``) once the trusted ``cutoff``
    has reached it, the earlier ``cutoff`` when a wait ran out. A function of event time, so a
    redelivered duplicate names the same one as its first delivery."""
    return None if cutoff is None else min(cutoff, posted_at - LAG)


class OutcomeFeed:
    """Outcomes into the extractor's track records, and the label cutoff they are complete to."""

    def __init__(
        self,
        settings: Settings,
        record: Callable[[Outcome], object],
        heartbeat: Callable[[], None],
        stopping: Callable[[], bool],
    ) -> None:
        self._record = record
        self._heartbeat = heartbeat  # while waiting: the member is alive, its deliveries go on
        self._stopping = stopping
        self._max_wait_s = settings.track_record_max_wait_s
        self._horizon = timedelta(days=settings.outcome_horizon_days)
        self._scored_topic = settings.topic_scored
        self._outcomes = TopicTail(settings, settings.topic_outcomes)
        self._claims = TopicTail(settings, settings.topic_label_cutoffs)
        self._read_to: dict[int, int] = {}  # outcomes partition → offset after the last read
        self._pending: list[LabelCutoff] = []
        self._cutoffs = LabelCutoffs()
        # batches this member delivered that the joiner may not have read: (earliest posted_at,
        # their delivery)
        self._unseen: list[tuple[datetime, Delivered]] = []
        self._newest: dict[int, datetime] = {}  # input partition → newest posted_at handed
        self._held_since: float | None = None  # when the records held now were first held
        self._elsewhere: datetime | None = None  # the other members' earliest pending signal
        self._looked_at = -math.inf  # monotonic time of the last look (never: -inf)
        self.held = 0  # records of the last batch not chosen (waiting, or left for the next)
        self.unsettled = 0  # signals scored after a wait ran out (their cutoff named behind)

    @property
    def known(self) -> datetime | None:
        """Every outcome matured by this event time has been recorded (None: no joiner)."""
        return self._cutoffs.cutoff

    def catch_up(self) -> None:
        """Everything both topics hold now (start-up)."""
        self._take_claims(self._claims.catch_up(heartbeat=self._heartbeat))
        self._take_outcomes(self._outcomes.catch_up(heartbeat=self._heartbeat))
        self._settle()

    def poll(self, timeout_s: float = 0.0) -> None:
        """What has arrived since, without waiting (between batches)."""
        self._take_claims(self._claims.poll(0))
        self._take_outcomes(self._outcomes.poll(timeout_s))
        self._settle()

    def delivered(self, signals: Sequence[RawSignal], delivery: Delivered) -> None:
        """Scored records of ``signals`` went out in ``delivery``: unseen by the joiner yet."""
        if signals and self.known is not None:
            self._unseen.append((min(s.posted_at for s in signals), delivery))

    def forget(self, partitions: Iterable[int]) -> None:
        """The input partitions were revoked or are read again from an earlier offset: what
        they hold is pending elsewhere now, which the last look left out (it looks again)."""
        for partition in partitions:
            self._newest.pop(partition, None)
        self._looked_at = -math.inf

    def ready(
        self,
        records: Sequence[tuple[int, datetime | None]],
        unread: Callable[[], Collection[int]] = frozenset,
        elsewhere: Elsewhere | None = None,
    ) -> tuple[list[bool], datetime | None]:
        """Which of a batch's records (partition, posted_at; None for one that is no signal)
        may be scored now, and the label cutoff they are scored at; waits (bounded) while none
        may. Per partition the chosen ones are a prefix: offsets and state keep their order.

        ``unread`` names the member's input partitions with records not handed to it yet:
        when they hold the batch back, nothing is chosen and the call returns at once, so the
        caller fetches them (and calls again with the batch's records first). ``elsewhere``
        looks up the other members' earliest pending signal (``GroupFrontier.earliest``); held
        back by it, the call returns within ``_ELSEWHERE_WAIT_S``, nothing chosen, so that
        the caller's poll serves a rebalance that moves a dead member's partitions."""
        for partition, posted in records:
            newest = self._newest.get(partition)
            if posted is not None and (newest is None or posted > newest):
                self._newest[partition] = posted
        if not records or self.known is None:
            self.held = 0
            return [True] * len(records), self.known
        called = time.monotonic()
        if self._held_since is None:
            self._held_since = called
        deadline = self._held_since + self._max_wait_s
        while True:
            chosen, trusted, held_by = self._choose(records, unread(), elsewhere)
            self.held = chosen.count(False)
            if any(chosen):
                self._held_since = None
                return chosen, trusted
            if time.monotonic() >= deadline or self._stopping():
                self._held_since, self.held = None, 0
                self.unsettled += len(records)
                log.warning("track_records_unsettled", records=len(records),
                            label_cutoff=trusted and trusted.isoformat(),
                            waited_s=self._max_wait_s)  # fmt: skip
                return [True] * len(records), trusted
            if held_by == "input" or (
                held_by == "elsewhere" and time.monotonic() - called >= _ELSEWHERE_WAIT_S
            ):
                return chosen, trusted  # the member's loop goes on: fetches, rebalances
            self._heartbeat()
            self.poll(_WAIT_STEP_S)

    def _choose(
        self,
        records: Sequence[tuple[int, datetime | None]],
        unread: Collection[int],
        elsewhere: Elsewhere | None,
    ) -> tuple[list[bool], datetime | None, HeldBy]:
        """The records whose track records are final at the trusted cutoff, each partition's
        up to its first that is not, the cutoff, and what bounds it most: the joiner, this
        member's unread partitions (``input``) or the other members' pending signals
        (``elsewhere``). The batch's own signals are unseen by the joiner too, so the cutoff
        stays below the horizon's end of the earliest of them."""
        trusted = self._trusted()
        earliest = min((posted for _p, posted in records if posted is not None), default=None)
        if trusted is None:
            return [False] * len(records), None, "joiner"
        if earliest is not None:
            trusted = min(trusted, earliest + self._horizon - _BEFORE)
        held_by: HeldBy = "joiner"
        for partition in unread:
            newest = self._newest.get(partition)
            if newest is None:  # nothing of it handed yet: it may hold anything
                return [False] * len(records), trusted, "input"
            if newest + self._horizon - _BEFORE < trusted:
                trusted, held_by = newest + self._horizon - _BEFORE, "input"
        if elsewhere is not None:
            below = self._below_elsewhere(records, trusted, elsewhere)
            if below < trusted:
                trusted, held_by = below, "elsewhere"
        chosen, stopped = [], set()
        for partition, posted in records:
            ok = partition not in stopped and (posted is None or posted - LAG <= trusted)
            if not ok:
                stopped.add(partition)
            chosen.append(ok)
        return chosen, trusted, held_by

    def _below_elsewhere(
        self, records: Sequence[tuple[int, datetime | None]], trusted: datetime, look: Elsewhere
    ) -> datetime:
        """``trusted``, kept below the horizon's end of the other members' earliest pending
        signal: looked up first, then again while it (or the joiner) holds a record back."""

        def bound() -> datetime:
            return (
                trusted
                if self._elsewhere is None
                else min(trusted, self._elsewhere + self._horizon - _BEFORE)
            )

        holding = any(p is not None and p - LAG > bound() for _partition, p in records)
        now = time.monotonic()
        if self._looked_at == -math.inf or (holding and now - self._looked_at >= _LOOK_EVERY_S):
            self._elsewhere, self._looked_at = look(self._cutoffs.latest), now
        return bound()

    def close(self) -> None:
        self._outcomes.close()
        self._claims.close()

    def _trusted(self) -> datetime | None:
        """The joiner's cutoff, kept before any outcome of a delivered signal it has not read
        yet matures."""
        known = self.known
        if known is None or not self._unseen:
            return known
        earliest = min(posted for posted, _delivery in self._unseen)
        return min(known, earliest + self._horizon - _BEFORE)

    def _take_outcomes(self, messages: Sequence[Message]) -> None:
        for message in messages:
            partition, offset = message.partition() or 0, message.offset() or 0
            self._read_to[partition] = max(self._read_to.get(partition, 0), offset + 1)
            try:
                self._record(Outcome.model_validate_json(message.value() or b""))
            except ValidationError as exc:
                log.warning("outcome_ignored", offset=offset, error=str(exc)[:200])

    def _take_claims(self, messages: Sequence[Message]) -> None:
        for message in messages:
            try:
                self._pending.append(LabelCutoff.model_validate_json(message.value() or b""))
            except ValidationError as exc:
                log.warning("label_cutoff_ignored", offset=message.offset(), error=str(exc)[:200])

    def _settle(self) -> None:
        """Count the claims whose outcomes have all been read (in the order they came), and
        forget the delivered batches the joiner has read."""
        while self._pending and all(
            self._read_to.get(q, 0) >= end
            for q, end in enumerate(self._pending[0].outcomes_through)
        ):
            self._cutoffs.add(self._pending.pop(0))
        self._unseen = [(posted, d) for posted, d in self._unseen if not self._seen(d)]

    def _seen(self, delivery: Delivered) -> bool:
        if not delivery.acknowledged:
            return False
        claims = self._cutoffs.latest
        return all(
            partition in claims and claims[partition].scored_through >= end
            for (topic, partition), end in delivery.ends.items()
            if topic == self._scored_topic
        )
