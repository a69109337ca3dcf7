"""Turn what scrapers already produce into ``RawSignal`` records.

The original scrapers emit a dict like the README's::

    {'ticker': 'XYZ', 'source': 'Yieldschool-YieldHub', 'message': '...',
     'reactions': {'🔥': 45, '🚀': 22}, 'dan_endorsed': True, 'mention_count': 3,
     'total_reactions': 67}

It has no ``signal_id`` and no ``posted_at``, which the contract requires. ``from_scraper_dict``
fills them in:

- ``signal_id``: kept if present; else ``<source slug>:<message id>`` when the dict carries a
  message id (``message_id`` or ``id``); else ``<source slug>:h<24 hex>``, a SHA-256 of the
  source, channel, author, ticker, message and ``posted_at`` (when given). The same message
  scraped twice therefore gets the same id and is deduped downstream; two identical messages
  without id or time are (deliberately) one signal.
- ``posted_at``: kept if present (ISO-8601 with a zone, or epoch seconds); else the scrape time
  (now, UTC), which is also recorded as ``observed_at``.

The contract coerces nothing, so the adapter converts, explicitly, what scrapers commonly send:
epoch seconds in ``posted_at``/``observed_at`` become aware UTC datetimes, and counts scraped as
digit strings (``"45"``) in ``mention_count``, ``total_reactions`` and ``reactions`` become ints.
Anything else (``"yes"`` for a bool, ``"4.5k"`` for a count) is left for the contract to reject.

Other scrapers use ``FieldMapping``: a contract-field → scraper-field table (dotted paths reach
into nested dicts) applied before the same defaults.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from roostr.contracts import RawSignal

__all__ = ["FieldMapping", "derive_signal_id", "from_scraper_dict"]

_MESSAGE_ID_FIELDS = ("message_id", "id")
_HASHED_FIELDS = ("source", "channel", "author", "ticker", "message", "posted_at")
_TIMESTAMP_FIELDS = ("posted_at", "observed_at")
_COUNT_FIELDS = ("mention_count", "total_reactions")
_DIGITS = re.compile(r"[0-9]+")


def _slug(source: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", source.lower()).strip("-") or "unknown"


def derive_signal_id(signal: Mapping[str, Any]) -> str:
    """A stable id for a scraped message; see the module docstring for the rule."""
    source = _slug(str(signal.get("source") or ""))
    for name in _MESSAGE_ID_FIELDS:
        if signal.get(name) not in (None, ""):
            return f"{source}:{signal[name]}"
    content = {name: signal.get(name) for name in _HASHED_FIELDS}
    text = json.dumps(content, sort_keys=True, default=str, ensure_ascii=False)
    return f"{source}:h{hashlib.sha256(text.encode()).hexdigest()[:24]}"


def from_scraper_dict(signal: Mapping[str, Any], now: datetime | None = None) -> RawSignal:
    """Validate a scraper's dict as a ``RawSignal``, deriving ``signal_id``/``posted_at``.

    Raises ``pydantic.ValidationError`` naming the offending fields.
    """
    record = dict(signal)
    record.setdefault("signal_id", derive_signal_id(signal))
    if record.get("posted_at") is None:
        scraped_at = now or datetime.now(UTC)
        record["posted_at"] = scraped_at
        record.setdefault("observed_at", scraped_at)
    for name in _TIMESTAMP_FIELDS:
        if name in record:
            record[name] = _from_epoch(record[name])
    for name in _COUNT_FIELDS:
        if name in record:
            record[name] = _from_digits(record[name])
    if isinstance(reactions := record.get("reactions"), Mapping):
        record["reactions"] = {emoji: _from_digits(n) for emoji, n in reactions.items()}
    return RawSignal.model_validate(record)


def _from_epoch(value: Any) -> Any:
    """Epoch seconds → aware UTC datetime; other values (and impossible epochs) unchanged."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return value  # e.g. milliseconds: the contract rejects it, naming the field
    return value


def _from_digits(value: Any) -> Any:
    """``"45"`` → 45; other values unchanged."""
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        return int(value)
    return value


def _lookup(record: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return False, None
        value = value[part]
    return True, value


@dataclass(frozen=True)
class FieldMapping:
    """Adapter for a scraper with its own field names.

    ``fields`` maps contract fields to the scraper's (``{"ticker": "symbol", "posted_at":
    "meta.ts"}``); ``constants`` sets fields the scraper never sends (``{"source": "X"}``).
    Unmapped top-level scraper fields are kept as extras, as the contract does.
    """

    fields: Mapping[str, str]
    constants: Mapping[str, Any] = field(default_factory=dict)

    def __call__(self, scraped: Mapping[str, Any], now: datetime | None = None) -> RawSignal:
        mapped_roots = {path.split(".")[0] for path in self.fields.values()}
        record = {k: v for k, v in scraped.items() if k not in mapped_roots}
        record.update(self.constants)
        for target, path in self.fields.items():
            found, value = _lookup(scraped, path)
            if found:
                record[target] = value
        return from_scraper_dict(record, now=now)
