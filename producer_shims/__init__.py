"""The scrapers' side: validated, durable, idempotent publishing of signals and prices."""

from producer_shims.adapters import FieldMapping, derive_signal_id, from_scraper_dict
from producer_shims.publisher import (
    DeliveryFailure,
    PricePublisher,
    Publisher,
    RecordTooLarge,
    SignalPublisher,
)
from producer_shims.spool import SpoolLockedError

__all__ = [
    "DeliveryFailure",
    "FieldMapping",
    "PricePublisher",
    "Publisher",
    "RecordTooLarge",
    "SignalPublisher",
    "SpoolLockedError",
    "derive_signal_id",
    "from_scraper_dict",
]
