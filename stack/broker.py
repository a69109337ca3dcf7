"""Which broker a composed run talks to: the embedded one, unless one was named."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from roostr.settings import Settings

__all__ = ["broker_for_run", "wants_embedded_broker"]


def wants_embedded_broker(settings: Settings) -> bool:
    """The embedded broker unless a broker was named (flag or environment); a named one must
    answer (``roostr.kafka.require_broker``)."""
    from roostr.kafka import require_broker

    if "bootstrap_servers" not in settings.model_fields_set:
        return True
    require_broker(settings)
    return False


@contextmanager
def broker_for_run(settings: Settings, embedded: bool) -> Iterator[Settings]:
    """``settings`` as given, or pointed at an embedded broker started for the run."""
    if not embedded:
        yield settings
        return
    from roostr.embedded_broker import EmbeddedBroker, free_port

    with EmbeddedBroker(port=free_port()) as broker:
        yield settings.model_copy(update={"bootstrap_servers": broker.bootstrap_servers})
