"""Which model the scorer should use now: the registry's champion, reloaded when it changes.

The registry is the source of truth; a ``models.updates`` event only asks for an immediate
check. A champion that is missing, corrupt or refused leaves the service scoring with rules
(the Scorer marks those signals degraded) and is retried every ``retry_interval_s``.

The registry's shadow (a challenger scored beside the champion) is loaded on the same checks; a
shadow that fails to load is logged and left out, and never touches the champion.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from roostr.logs import get_logger

if TYPE_CHECKING:  # kept out of start-up: it imports xgboost
    from roostr.model import ConvictionModel

__all__ = ["ModelSource", "ModelWatcher"]

log = get_logger("roostr.consumer.models")


class ModelSource(Protocol):
    """What the watcher needs of the registry (``roostr.registry.ModelRegistry``)."""

    def champion_marker(self) -> object:
        """A value that changes whenever the champion does; None when there is no champion."""
        ...

    def shadow(self) -> str | None: ...
    def load(self, version: str | None = None) -> ConvictionModel: ...


class ModelWatcher:
    """Polls ``registry.champion_marker()`` and loads the champion when it changes."""

    def __init__(
        self,
        registry: ModelSource,
        check_interval_s: float = 3.0,
        retry_interval_s: float = 10.0,
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        self.registry = registry
        self._on_failure = on_failure
        self.check_interval_s = check_interval_s
        self.retry_interval_s = retry_interval_s
        self.model: ConvictionModel | None = None
        self.error: str | None = None
        self.shadow: ConvictionModel | None = None
        self.shadow_error: str | None = None
        self._marker: object = object()  # matches nothing: the first refresh always loads
        self._next_check = 0.0
        self._next_retry = 0.0

    @property
    def version(self) -> str | None:
        return self.model.version if self.model is not None else None

    @property
    def shadow_version(self) -> str | None:
        return self.shadow.version if self.shadow is not None else None

    def refresh(self, force: bool = False) -> bool:
        """Check the champion if it is time (or ``force``); True when ``model`` or ``shadow``
        changed."""
        now = time.monotonic()
        if not force and now < self._next_check:
            return False
        self._next_check = now + self.check_interval_s
        try:
            marker = self.registry.champion_marker()
        except Exception as exc:  # noqa: BLE001 - an unreadable registry must not stop scoring
            return self._failed(f"champion pointer unreadable: {exc}", now)
        retry_due = self.error is not None and now >= self._next_retry
        if marker == self._marker and not force and not retry_due:
            return False
        self._marker = marker
        return self._refresh_champion(marker, now) | self._refresh_shadow(marker is not None)

    def _refresh_champion(self, marker: object, now: float) -> bool:
        if marker is None:
            changed = self.model is not None or self.error is not None
            self.model, self.error = None, None
            if changed:
                log.warning("model_unset", reason="registry has no champion")
            return changed
        try:
            model = self.registry.load()
        except Exception as exc:  # noqa: BLE001 - corrupt/refused/missing: score with rules
            return self._failed(str(exc), now)
        self.model, self.error = model, None
        log.info("model_loaded", model_version=self.version)
        return True

    def _refresh_shadow(self, has_champion: bool) -> bool:
        """Load the registry's shadow if it changed; True when ``shadow`` changed."""
        try:
            wanted = self.registry.shadow() if has_champion else None
            if wanted == self.shadow_version and self.shadow_error is None:
                return False
            shadow = self.registry.load(wanted) if wanted is not None else None
        except Exception as exc:  # noqa: BLE001 - a broken challenger is left out, nothing more
            changed = self.shadow is not None
            self.shadow, self.shadow_error = None, str(exc)
            log.error("shadow_load_failed", error=self.shadow_error)
            return changed
        self.shadow, self.shadow_error = shadow, None
        log.info("shadow_loaded" if shadow is not None else "shadow_cleared", model_version=wanted)
        return True

    def _failed(self, error: str, now: float) -> bool:
        changed = self.model is not None or self.error != error
        self.model, self.error = None, error
        self._next_retry = now + self.retry_interval_s
        log.error("model_load_failed", error=error, retry_in_s=self.retry_interval_s)
        if self._on_failure is not None:
            self._on_failure(error)
        return changed
