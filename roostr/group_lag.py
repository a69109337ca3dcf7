"""A consumer group's lag over every partition of a topic, as the broker reports it.

Approximate by nature: ListOffsets can answer a stale end offset (the embedded broker
under-reports it), which reads too low, and committed offsets trail the members' positions by
the batches not yet committed (``consumer.commit_queue``: acknowledged within a commit interval),
which reads too high by about that much.
"""

from __future__ import annotations

from dataclasses import dataclass

from confluent_kafka import KafkaException, TopicCollection, TopicPartition
from confluent_kafka.admin import OffsetSpec

from roostr.kafka import make_admin, make_consumer
from roostr.logs import get_logger
from roostr.settings import Settings

__all__ = ["GroupLagReader", "PartitionLag"]

log = get_logger("roostr.roostr.group_lag")


@dataclass(frozen=True)
class PartitionLag:
    """Where the group stands in one partition: ``start`` (its committed offset, or the low
    watermark when it has committed none) and ``end`` (the high watermark)."""

    start: int
    end: int

    @property
    def lag(self) -> int:
        return max(self.end - self.start, 0)


class GroupLagReader:
    """Reads ``group``'s committed offsets and the watermarks of every partition of ``topic``.

    Its own clients, so a read never touches the member's consumer: an admin client for the
    topic and its watermarks (requests sent together, awaited at most ``timeout_s``), and for the
    committed offsets a consumer of ``group`` that never subscribes, so never joins it. Not the
    admin client's ListConsumerGroupOffsets: librdkafka (2.16) crashes the process when that
    request meets a coordinator that moved or is still loading, which is what a broker start,
    restart or failover looks like: SIGSEGV on a NOT_COORDINATOR answer (the admin client's
    absent group handle, librdkafka issue 5040), or an ``rd_kafka_enq_once_del_source_return``
    assertion when the request times out while the coordinator moves (seen in
    tests/test_replicated_cluster_rides_out_broker_faults.py). A consumer re-finds its
    coordinator instead.
    """

    def __init__(self, settings: Settings, group: str, topic: str, timeout_s: float = 2.0) -> None:
        self.group, self.topic, self.timeout_s = group, topic, timeout_s
        self._admin = make_admin(settings)
        self._committed = make_consumer(settings, group)

    def read(self) -> dict[int, PartitionLag] | None:
        """Partition → lag; None when the broker did not answer in time (logged)."""
        try:
            return self._read()
        except (KafkaException, TimeoutError) as exc:
            log.warning("group_lag_unavailable", group=self.group, error=str(exc)[:200])
            return None

    def close(self) -> None:
        self._committed.close()

    def _read(self) -> dict[int, PartitionLag]:
        timeout = self.timeout_s
        # DescribeTopics, unlike a metadata request naming the topic, never auto-creates it.
        described = self._admin.describe_topics(
            TopicCollection([self.topic]), request_timeout=timeout
        )[self.topic].result(timeout)
        partitions = [TopicPartition(self.topic, p.id) for p in described.partitions]
        low = self._admin.list_offsets(
            {tp: OffsetSpec.earliest() for tp in partitions}, request_timeout=timeout
        )
        high = self._admin.list_offsets(
            {tp: OffsetSpec.latest() for tp in partitions}, request_timeout=timeout
        )
        committed = self._committed.committed(partitions, timeout=timeout)
        starts = {tp.partition: tp.offset for tp in committed if tp.error is None}
        lags = {}
        for tp in partitions:
            first = low[tp].result(timeout).offset
            start = starts.get(tp.partition, -1)
            lags[tp.partition] = PartitionLag(
                start=start if start >= 0 else first, end=high[tp].result(timeout).offset
            )
        return lags
