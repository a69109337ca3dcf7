"""Prometheus metrics of the scoring consumer and the outcome joiner, each on a registry of its
own (no global state)."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable, Mapping
from contextlib import suppress

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

from roostr.contracts import ErrorKind
from roostr.topic_reader import CONSUMER_ERRORS

__all__ = ["JoinerMetrics", "ServiceMetrics"]

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class MemberMetrics:
    """What every group member reports of itself (``consumer.runtime``), under its own names."""

    def __init__(self, r: CollectorRegistry, *, group_lag: str, stalled: str, rejoins: str) -> None:
        self.group_lag = Gauge(
            group_lag,
            "Records the group has not committed, over all partitions (approximate)",
            registry=r,
        )
        self.stalled = Gauge(
            stalled,
            "1 after ROOSTR_STALL_AFTER_S without a partition or progress while the group lags",
            registry=r,
        )
        self.rejoins = Counter(
            rejoins,
            "Fresh consumers joined after ROOSTR_STALL_REJOIN_AFTER_S stalled",
            registry=r,
        )


def _registry() -> CollectorRegistry:
    """A member's registry, with the consumer errors its readers count (roostr.topic_reader)."""
    registry = CollectorRegistry()
    registry.register(CONSUMER_ERRORS)
    return registry


class ServiceMetrics:
    """Everything an operator graphs or alerts on; updated once per batch, not per record."""

    def __init__(self) -> None:
        self.registry = r = _registry()
        self.records_in = Counter("roostr_records_in", "Input records consumed", registry=r)
        self.records_scored = Counter(
            "roostr_records_scored", "Scored signals produced, by tier", ["tier"], registry=r
        )
        self.records_dead_lettered = Counter(
            "roostr_records_dead_lettered", "Inputs sent to the DLQ", ["error_kind"], registry=r
        )
        self.degraded = Counter(
            "roostr_records_degraded",
            "Signals scored by rules because the model failed",
            registry=r,
        )
        self.batch_seconds = Histogram(
            "roostr_batch_seconds",
            "Batch time: consumed to committed",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.end_to_end_seconds = Histogram(
            "roostr_end_to_end_seconds",
            "Input record timestamp to output acknowledged",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.lag = Gauge(
            "roostr_consumer_lag",
            "High watermark minus position (approximate)",
            ["topic", "partition"],
            registry=r,
        )
        self.member = MemberMetrics(
            r, group_lag="roostr_group_lag", stalled="roostr_consumer_stalled",
            rejoins="roostr_consumer_stall_rejoins",
        )  # fmt: skip
        self.track_records_held = Gauge(
            "roostr_track_records_held",
            "Records fetched and held back until the outcomes their track records need are in "
            "(the joiner's label cutoff, or this member's partitions not fetched yet)",
            registry=r,
        )
        self.track_records_unsettled = Gauge(
            "roostr_track_records_unsettled",
            "Signals scored after ROOSTR_TRACK_RECORD_MAX_WAIT_S without the joiner's label "
            "cutoff reaching them (their track records may lack outcomes a replay counts)",
            registry=r,
        )
        self.model = Info("roostr_model", "Model and mode in use", registry=r)
        self.model_loaded = Gauge("roostr_model_loaded", "1 when a model is in use", registry=r)
        self.shadow_loaded = Gauge(
            "roostr_shadow_loaded",
            "1 when a shadow model is scored beside the champion",
            registry=r,
        )
        self.model_load_failures = Counter(
            "roostr_model_load_failures", "Champion loads that failed", registry=r
        )
        self.delivery_failures = Counter(
            "roostr_delivery_failures", "Batches whose outputs were not acknowledged", registry=r
        )
        self.commit_failures = Counter(
            "roostr_commit_failures", "Partition offsets the broker did not commit", registry=r
        )

    def batch(
        self,
        consumed: int,
        tiers: Iterable[str],
        degraded: int,
        dead_lettered: Mapping[ErrorKind, int],
        seconds: float,
        ages_s: Iterable[float],
    ) -> None:
        self.records_in.inc(consumed)
        for tier, count in Tally(tiers).items():
            self.records_scored.labels(tier).inc(count)
        if degraded:
            self.degraded.inc(degraded)
        for kind, count in dead_lettered.items():
            self.records_dead_lettered.labels(kind).inc(count)
        self.batch_seconds.observe(seconds)
        for age in ages_s:
            self.end_to_end_seconds.observe(age)

    def forget_partitions(self, partitions: Iterable[tuple[str, int]]) -> None:
        """Drop the lag series of partitions this member no longer owns (if it had any)."""
        for topic, partition in partitions:
            with suppress(KeyError):
                self.lag.remove(topic, str(partition))

    def model_in_use(
        self, version: str | None, mode: str, error: str | None, shadow: str | None = None
    ) -> None:
        self.model.info(
            {
                "version": version or "",
                "mode": mode,
                "error": (error or "")[:200],
                "shadow_version": shadow or "",
            }
        )
        self.model_loaded.set(1 if version else 0)
        self.shadow_loaded.set(1 if shadow else 0)


class JoinerMetrics:
    """What an operator watches on the joiner; updated once per batch."""

    def __init__(self) -> None:
        self.registry = r = _registry()
        self.records_in = Counter("roostr_joiner_records_in", "Inputs read", ["topic"], registry=r)
        self.outcomes = Counter(
            "roostr_joiner_outcomes", "Outcomes emitted, by status", ["status"], registry=r
        )
        self.late_ticks = Counter(
            "roostr_joiner_late_ticks", "Ticks beyond the lateness grace (dropped)", registry=r
        )
        self.duplicates = Counter(
            "roostr_joiner_duplicate_signals", "Redelivered signals ignored", registry=r
        )
        self.dead_lettered = Counter(
            "roostr_joiner_dead_lettered", "Unreadable inputs sent to the DLQ", registry=r
        )
        self.commit_failures = Counter(
            "roostr_joiner_commit_failures", "Partitions whose offset commit failed", registry=r
        )
        self.open_signals = Gauge(
            "roostr_joiner_open_signals", "Signals waiting for their label", registry=r
        )
        self.member = MemberMetrics(
            r, group_lag="roostr_joiner_group_lag", stalled="roostr_joiner_stalled",
            rejoins="roostr_joiner_stall_rejoins",
        )  # fmt: skip
