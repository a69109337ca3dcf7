"""roostr's one error hierarchy: every error it raises on purpose is a ``RoostrError``.

A caller that wants "roostr refused or could not finish" catches ``RoostrError``; anything else
escaping is a bug. Errors about a bad value also subclass ``ValueError``, as Python's own do.
"""

from __future__ import annotations

__all__ = ["ModelError", "RoostrError", "TopicUnreadable"]


class RoostrError(Exception):
    """Base of roostr's errors."""


class TopicUnreadable(RoostrError):
    """A topic is missing, or a reader stopped making progress before it reached the end."""


class ModelError(RoostrError):
    """The model cannot be trained, loaded or applied as asked."""
