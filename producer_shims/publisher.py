"""Publishers for scrapers and price feeds: validate, spool durably, produce idempotently.

The path of one accepted batch, in order:

1. validate every record against its contract (nothing is spooled if one is invalid);
2. write the batch to the spool and fsync it (``publish*()`` returns only after this: returning
   means the records survive a crash, ``kill -9`` or a broker outage);
3. produce each record, keyed by ticker, with an idempotent ``acks=all`` producer;
4. when the broker acknowledges every record of the batch, delete its spool file.

A record the broker does not acknowledge (broker unreachable past ``message_timeout_ms``, or any
other delivery error) stays in the spool: it is reported to ``on_delivery_error`` and re-sent,
oldest batch first and before newer batches, by the publisher's background thread every
``resend_interval_s``, by ``flush()``, and by the next publisher started on the same spool.
Delivery is therefore at-least-once: readers dedupe on ``signal_id``.

A publisher does not wait for a broker that is not there: ``flush()`` (and so ``close()``) stops
waiting once every broker has been unreachable for ``settings.connect_timeout_s``, or as soon as
the brokers refuse the credentials or TLS; ``unavailable()`` then says which and why.

Errors reach the caller in two ways: invalid input raises (``pydantic.ValidationError`` or
``RecordTooLarge``) from ``validate``/``publish*``; delivery trouble, which never loses an
accepted record, goes to the ``on_delivery_error`` callback (called on the thread serving
delivery reports) and shows in the count ``flush()``/``close()`` return (records still
unacknowledged, kept in the spool).
"""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Generic, TypeVar, cast

from confluent_kafka import KafkaError, KafkaException
from pydantic import BaseModel

from producer_shims.spool import Spool, SpoolRecord
from roostr.connection import BrokerUnavailable, BrokerWatch
from roostr.contracts import PriceTick, RawSignal
from roostr.errors import RoostrError
from roostr.kafka import make_producer
from roostr.logs import get_logger
from roostr.settings import Settings

__all__ = [
    "DEFAULT_MESSAGE_TIMEOUT_MS",
    "DeliveryFailure",
    "PricePublisher",
    "Publisher",
    "RecordTooLarge",
    "SignalPublisher",
]

# How long the producer keeps trying one record before reporting it failed (it stays spooled
# and is re-sent). Shorter than librdkafka's 5 minutes so an outage is reported promptly.
DEFAULT_MESSAGE_TIMEOUT_MS = 60_000

C = TypeVar("C", bound=BaseModel)
log = get_logger(__name__)


class RecordTooLarge(RoostrError, ValueError):
    """The serialised record exceeds ``settings.max_message_bytes``; the broker would refuse it."""


@dataclass(frozen=True)
class DeliveryFailure:
    """One record the broker did not acknowledge; it stays spooled and will be re-sent."""

    topic: str
    key: str
    batch: str
    error: KafkaError


@dataclass(eq=False)
class _Batch:
    """Delivery state of one spool file. Guarded by ``Publisher._state``."""

    name: str
    records: list[SpoolRecord] | None = None  # cached while sending; re-read from disk after
    size: int = 0
    acked: set[int] = field(default_factory=set)
    in_flight: int = 0


class Publisher(Generic[C]):
    """Generic publisher of one contract to one topic; see the module docstring.

    Use as a context manager, or call ``close()``; an ``atexit`` hook closes it otherwise.
    Only one publisher per topic may use a spool directory at a time (``SpoolLockedError``).
    """

    contract: ClassVar[type[BaseModel]]
    topic_setting: ClassVar[str]  # the Settings field naming the topic
    key_field: ClassVar[str] = "ticker"

    def __init__(
        self,
        settings: Settings,
        *,
        topic: str | None = None,
        on_delivery_error: Callable[[DeliveryFailure], None] | None = None,
        message_timeout_ms: int = DEFAULT_MESSAGE_TIMEOUT_MS,
        resend_interval_s: float = 5.0,
    ) -> None:
        self.topic: str = topic or getattr(settings, self.topic_setting)
        self._max_bytes = settings.max_message_bytes
        self._on_delivery_error = on_delivery_error
        self._resend_interval_s = resend_interval_s
        self._log = log.bind(topic=self.topic)
        self._spool = Spool(settings.spool_dir / self.topic)
        self._broker = BrokerWatch(settings)
        self._producer = make_producer(
            settings,
            **{"message.timeout.ms": message_timeout_ms, "error_cb": self._broker.on_error},
        )
        self._state = threading.Lock()  # batch bookkeeping; held briefly, never across I/O
        self._sending = threading.Lock()  # one sender at a time, so batches go out in order
        self._batches: dict[str, _Batch] = {name: _Batch(name) for name in self._spool.names()}
        self._closed = False
        if self._batches:
            self._log.info("spool_resend", batches=len(self._batches))
        with self._sending:
            self._send_due()  # batches left by earlier runs go out before anything new
        with self._state:  # records left by earlier runs (no delivery report served yet)
            self.recovered: int = sum(batch.size for batch in self._batches.values())
        self._stop = threading.Event()
        self._pump = threading.Thread(target=self._run_pump, name=f"publish-{self.topic}")
        self._pump.daemon = True
        self._pump.start()
        atexit.register(self.close)

    # --- accepting records ---------------------------------------------------------------------

    def validate(self, record: C | Mapping[str, Any]) -> C:
        """The record as a contract model; raises ``ValidationError`` or ``RecordTooLarge``."""
        self._encode(model := self._model(record))
        return model

    def publish(self, record: C | Mapping[str, Any]) -> C:
        """Accept one record durably and start sending it; returns the validated model."""
        return self.publish_batch([record])[0]

    def publish_batch(self, records: Iterable[C | Mapping[str, Any]]) -> list[C]:
        """Accept records as one spool batch (all or none valid) and start sending them."""
        models = [self._model(record) for record in records]
        encoded = [self._encode(model) for model in models]
        if not encoded:
            return models
        with self._sending:
            if self._closed:
                raise RuntimeError("publisher is closed")
            name = self._spool.write(encoded)
            with self._state:
                self._batches[name] = _Batch(name, records=encoded, size=len(encoded))
            self._send_due()
        self._producer.poll(0)
        return models

    def pending(self) -> int:
        """Records accepted but not yet acknowledged by the broker (all of them are spooled)."""
        with self._state:
            return sum(batch.size - len(batch.acked) for batch in self._batches.values())

    @property
    def spool_directory(self) -> Path:
        """Where this publisher's accepted, unacknowledged records wait."""
        return self._spool.directory

    def unavailable(self) -> BrokerUnavailable | None:
        """Why no broker takes the records, once that is known (see the module docstring)."""
        return self._broker.unavailable()

    def flush(self, timeout_s: float = 30.0) -> int:
        """Wait for acknowledgements, re-sending failed batches, until ``timeout_s`` or the
        brokers are known unavailable; returns records still pending (all of them spooled)."""
        deadline = time.monotonic() + timeout_s
        while True:
            self._producer.flush(max(0.0, min(0.5, deadline - time.monotonic())))
            left = self.pending()
            if not left or time.monotonic() >= deadline or self.unavailable() is not None:
                return left
            with self._sending:
                self._send_due()

    def close(self, timeout_s: float = 30.0) -> int:
        """Flush, stop the background thread and release the spool; returns records pending.

        Records still pending stay in the spool and are re-sent by the next publisher.
        """
        if self._closed:
            return self.pending()
        with self._sending:
            self._closed = True
        self._stop.set()
        self._pump.join()
        left = self.flush(timeout_s)
        if left:
            self._log.warning(
                "records_left_in_spool", records=left, spool=str(self._spool.directory)
            )
        self._spool.close()
        atexit.unregister(self.close)
        # Release the client now: its delivery callbacks refer back to this publisher, so it would
        # otherwise live (and keep reconnecting to a broker that may be gone) until a GC pass.
        # Whatever it still held is in the spool for the next publisher.
        del self._producer
        return left

    def __enter__(self) -> Publisher[C]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- internals -----------------------------------------------------------------------------

    def _model(self, record: C | Mapping[str, Any]) -> C:
        if isinstance(record, self.contract):
            return record
        return cast(C, self.contract.model_validate(record))

    def _encode(self, model: C) -> SpoolRecord:
        value = model.model_dump_json().encode()
        if len(value) > self._max_bytes:
            raise RecordTooLarge(f"record is {len(value)} bytes, limit {self._max_bytes}")
        return getattr(model, self.key_field), value

    def _send_due(self) -> None:
        """Produce every batch that has unacknowledged records and none in flight, oldest first.

        Caller holds ``_sending``.
        """
        with self._state:
            due = [b for _, b in sorted(self._batches.items()) if b.in_flight == 0]
        for batch in due:
            records = batch.records if batch.records is not None else self._spool.read(batch.name)
            with self._state:
                batch.records, batch.size = records, len(records)
                todo = [i for i in range(len(records)) if i not in batch.acked]
                batch.in_flight = len(todo)
            if not todo:  # nothing readable left in the file
                self._finish(batch)
            for index in todo:
                self._produce(batch, index, *records[index])

    def _produce(self, batch: _Batch, index: int, key: str, value: bytes) -> None:
        def report(err: KafkaError | None, _message: object) -> None:
            self._on_delivery(batch, index, key, err)

        while True:
            try:
                self._producer.produce(
                    self.topic, key=key.encode(), value=value, on_delivery=report
                )
                return
            except BufferError:
                self._producer.poll(0.1)  # local queue full: serve delivery reports to make room
            except KafkaException as exc:
                self._on_delivery(batch, index, key, exc.args[0])
                return

    def _on_delivery(self, batch: _Batch, index: int, key: str, err: KafkaError | None) -> None:
        with self._state:
            batch.in_flight -= 1
            if err is None:
                batch.acked.add(index)
            finished = batch.in_flight == 0
            if finished:
                batch.records = None  # re-read from the spool if it must be re-sent
        if finished:
            self._finish(batch)
        if err is None:
            self._broker.reached()
        else:
            self._report(DeliveryFailure(self.topic, key, batch.name, err))

    def _finish(self, batch: _Batch) -> None:
        """Delete the spool file once every record of the batch is acknowledged."""
        with self._state:
            complete = len(batch.acked) == batch.size
            if complete:
                self._batches.pop(batch.name, None)
        if complete:
            self._spool.remove(batch.name)

    def _report(self, failure: DeliveryFailure) -> None:
        self._log.warning(
            "delivery_failed", key=failure.key, batch=failure.batch, error=failure.error.str()
        )
        if self._on_delivery_error is None:
            return
        try:
            self._on_delivery_error(failure)
        except Exception:  # noqa: BLE001 - a caller's callback must not stop delivery reports
            self._log.exception("delivery_error_callback_failed")

    def _run_pump(self) -> None:
        """Serve delivery reports continuously; re-send failed batches every interval."""
        next_resend = time.monotonic() + self._resend_interval_s
        while not self._stop.is_set():
            try:
                self._producer.poll(0.2)
                if time.monotonic() >= next_resend:
                    next_resend = time.monotonic() + self._resend_interval_s
                    with self._sending:
                        self._send_due()
            except Exception:  # noqa: BLE001 - keep serving; the spool still holds every record
                self._log.exception("publisher_pump_failed")
                self._stop.wait(1.0)


class SignalPublisher(Publisher[RawSignal]):
    """Scraped signals (``RawSignal``) to ``settings.topic_raw``, keyed by ticker."""

    contract = RawSignal
    topic_setting = "topic_raw"


class PricePublisher(Publisher[PriceTick]):
    """Price observations (``PriceTick``) to ``settings.topic_prices``, keyed by ticker."""

    contract = PriceTick
    topic_setting = "topic_prices"
