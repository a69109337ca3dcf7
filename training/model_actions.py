"""Registry changes announced to the running consumers: what ``roostr models promote|rollback|
shadow`` and ``roostr mode`` do, shared with the signal board's actions so both are followed the
same way (the registry pointer first, then a ``models.updates`` record for an immediate reload).
"""

from __future__ import annotations

from collections.abc import Callable

from roostr.contracts import ModelUpdate
from roostr.delivery import DeliveryFailed, Output, deliver
from roostr.kafka import make_producer, require_broker
from roostr.registry import ModelRegistry
from roostr.settings import Settings

__all__ = ["PUBLISH_TIMEOUT_S", "announce", "apply_change"]

PUBLISH_TIMEOUT_S = 5.0


def apply_change(settings: Settings, change: Callable[[ModelRegistry], ModelUpdate]) -> ModelUpdate:
    """Check a broker answers (BrokerUnavailable otherwise, nothing changed), then change the
    registry; RegistryError when it refuses. The caller announces the returned update."""
    require_broker(settings)
    return change(ModelRegistry(settings.registry_dir))


def announce(update: ModelUpdate, settings: Settings) -> str | None:
    """Publish ``update`` on ``models.updates`` (key None); None when acknowledged, else why not."""
    producer = make_producer(settings, **{"message.timeout.ms": int(PUBLISH_TIMEOUT_S * 1000)})
    record = Output(settings.topic_model_updates, None, update.model_dump_json().encode())
    try:
        deliver(producer, [record], PUBLISH_TIMEOUT_S + 1)
    except DeliveryFailed as exc:
        return str(exc)
    return None
