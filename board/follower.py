"""The board's one reader: follows its topics from the beginning into the store, in a thread.

A ``TopicTail`` (``roostr.topic_reader``): assigned, never joined to a group, never committing,
so the board moves nobody's offsets and a restarted board rebuilds the same state. A broker
outage is logged and ridden out (librdkafka reconnects); a fatal client error stops the thread,
which ``healthy`` reports.
"""

from __future__ import annotations

import threading

from confluent_kafka import KafkaException, Message

from board.store import BoardStore
from roostr.kafka import coordinates
from roostr.logs import get_logger
from roostr.settings import Settings
from roostr.topic_reader import TopicTail

__all__ = ["Follower"]

log = get_logger("roostr.board.follower")


class Follower(threading.Thread):
    """Feeds ``store`` until ``stop``, a batch at a time (history and live alike: the history
    is never held whole, so a long topic costs no more memory than the store's bounds)."""

    def __init__(self, settings: Settings, store: BoardStore) -> None:
        super().__init__(name="board-follower", daemon=True)
        self.settings, self.store = settings, store
        self.failed: str | None = None
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    @property
    def healthy(self) -> bool:
        return self.failed is None and self.is_alive()

    def run(self) -> None:
        try:
            tail = TopicTail(self.settings, *self.store.topics)
        except KafkaException as exc:
            self._fail(exc)
            return
        try:
            while not self._stopping.is_set():
                self._feed(tail.poll(0.1))
        except KafkaException as exc:
            self._fail(exc)
        finally:
            tail.close()

    def _fail(self, exc: KafkaException) -> None:
        self.failed = str(exc)
        log.error("board_reader_failed", error=self.failed[:200])

    def _feed(self, messages: list[Message]) -> None:
        if messages:
            self.store.ingest((coordinates(m)[0], m.value() or b"") for m in messages)
