"""The model registry: versioned artifacts in a directory and a champion pointer with history.

Layout under ``settings.registry_dir``::

    champion.json              {"champion": "v0.2-…", "history": ["v0.1-…"], "shadow": "v0.3-…",
                                "updated_at": …}
    v0.1-bootstrap-20261123T101500Z/
        model.json | model.ubj  XGBoost's own format (never pickle)
        metadata.json           feature names + feature-set version, data fingerprint, metrics,
                                params, created_at, sha256 of the artifact, and the training
                                features' distributions (``feature_reference``, for drift)

A version directory is written under a temporary name and renamed into place, and the pointer is
replaced atomically (tmp + fsync + rename), so a reader never sees half a model or half a pointer.
Consumers poll ``champion_marker()`` and reload on change; ``models.updates`` only makes that
faster. ``history`` is a stack of earlier champions: ``rollback()`` pops it. ``shadow`` is a
challenger the consumers score beside the champion without letting it decide (``set_shadow``);
promote and rollback clear it, so a shadow is always judged against the champion it was set for.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from roostr.contracts import Mode, ModelUpdate
from roostr.errors import RoostrError
from roostr.model import MODEL_SUFFIXES, ConvictionModel, ModelError, load_model, save_model

__all__ = ["ModelInfo", "ModelRegistry", "RegistryError"]

POINTER = "champion.json"
METADATA = "metadata.json"
_LOCK = ".lock"
_VERSION = re.compile(r"^v\d+\.\d+(-[A-Za-z0-9_.]+)*$")


class RegistryError(RoostrError):
    """A registry operation was refused; the message says which version and why."""


@dataclass(frozen=True)
class ModelInfo:
    """One registered version, as listed by ``ModelRegistry.versions()``."""

    version: str
    created_at: str
    feature_set_version: str
    metrics: dict[str, Any]
    artifact: Path
    sha256: str
    is_champion: bool


class ModelRegistry:
    """Versioned ConvictionModel artifacts with a champion pointer.

    ``feature_names`` / ``feature_set_version`` are what ``load`` demands of a model; they default
    to the running code's ``roostr.features`` so a model trained on other features is refused.
    """

    def __init__(
        self,
        root: Path | str,
        *,
        feature_names: Sequence[str] | None = None,
        feature_set_version: str | None = None,
    ) -> None:
        self.root = Path(root)
        self._feature_names = tuple(feature_names) if feature_names is not None else None
        self._feature_set_version = feature_set_version

    # --- writing ------------------------------------------------------------------------------

    def register(
        self,
        model: ConvictionModel,
        *,
        version: str,
        metrics: Mapping[str, Any],
        training_data: Mapping[str, Any],
        fmt: Literal["json", "ubj"] = "json",
        feature_reference: Mapping[str, Any] | None = None,
    ) -> ModelInfo:
        """Store a fitted model as ``version`` (which must be new); does not promote it.

        ``feature_reference`` (``roostr.drift.feature_reference`` of the training matrix) is what
        ``roostr monitor`` measures drift against; without it the version has no drift check.
        """
        if not _VERSION.match(version):
            raise RegistryError(f"version {version!r} must look like v<major>.<minor>[-tag...]")
        if model.feature_set_version is None or not model.feature_names:
            raise RegistryError("model is not fitted (no feature set)")
        self.root.mkdir(parents=True, exist_ok=True)
        final = self.root / version
        if final.exists():
            raise RegistryError(f"version {version} already exists")
        staging = self.root / f".tmp-{uuid.uuid4().hex}"
        staging.mkdir()
        model.version = version
        artifact = save_model(model, staging / f"model.{fmt}")
        _fsync(artifact)
        metadata = {
            "version": version,
            "created_at": datetime.now(UTC).isoformat(),
            "artifact": artifact.name,
            "sha256": _sha256(artifact),
            "feature_set_version": model.feature_set_version,
            "feature_names": list(model.feature_names),
            "training_data": dict(training_data),
            "metrics": dict(metrics),
            "params": model.get_params(),
        }
        if feature_reference is not None:
            metadata["feature_reference"] = dict(feature_reference)
        _write_json_atomic(staging / METADATA, metadata)
        try:
            staging.rename(final)
        except OSError as exc:
            raise RegistryError(f"version {version} already exists") from exc
        return self._info(version, metadata, champion=self.champion())

    def promote(self, version: str) -> ModelUpdate:
        """Make ``version`` the champion (verified loadable first); the old one goes on history."""
        self.load(version)  # refuse a tampered or incompatible model before anyone reloads it
        with self._locked():
            pointer = self._read_pointer()
            current = pointer["champion"]
            history = list(pointer["history"])
            if current is not None and current != version:
                history.append(current)
            return self._write_pointer(version, history, "promote", shadow=None)

    def rollback(self) -> ModelUpdate:
        """Return to the previous champion (refused when there is none, or it fails to verify)."""
        with self._locked():
            pointer = self._read_pointer()
            history = list(pointer["history"])
            if not history:
                raise RegistryError("no previous champion to roll back to")
            previous = history.pop()
            self.load(previous)
            return self._write_pointer(previous, history, "rollback", shadow=None)

    def set_shadow(self, version: str | None) -> ModelUpdate:
        """Score ``version`` beside the champion from now on (None clears the shadow).

        Refused without a champion, for the champion itself, or when ``version`` fails to verify.
        """
        if version is not None:
            self.load(version)
        with self._locked():
            pointer = self._read_pointer()
            champion = pointer["champion"]
            if champion is None:
                raise RegistryError("no champion: a shadow is scored beside one")
            if version == champion:
                raise RegistryError(f"{version} is the champion; shadow another version")
            return self._write_pointer(champion, list(pointer["history"]), "shadow", version)

    def mode_update(self, mode: Mode) -> ModelUpdate:
        """The announcement that switches running consumers to ``mode`` (the pointer is kept)."""
        pointer = self._read_pointer()
        if pointer["champion"] is None:
            raise RegistryError(f"no champion in {self.root} to announce the mode with")
        return self._update(pointer["champion"], "mode", pointer.get("shadow"), mode=mode)

    # --- reading ------------------------------------------------------------------------------

    def champion(self) -> str | None:
        return self._read_pointer()["champion"]

    def shadow(self) -> str | None:
        """The version scored in shadow beside the champion, if any."""
        return self._read_pointer().get("shadow")

    def history(self) -> list[str]:
        """Earlier champions, oldest first (the last one is where ``rollback`` goes)."""
        return list(self._read_pointer()["history"])

    def champion_marker(self) -> tuple[str, str] | None:
        """Cheap value that changes whenever the champion changes (one small file read).

        Includes ``updated_at`` so promote A → rollback → promote A again still registers.
        """
        pointer = self._read_pointer()
        if pointer["champion"] is None:
            return None
        return pointer["champion"], pointer["updated_at"]

    def metadata(self, version: str) -> dict[str, Any]:
        path = self.root / version / METADATA
        if not _VERSION.match(version) or not path.is_file():
            raise RegistryError(f"unknown model version {version!r} in {self.root}")
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise RegistryError(f"metadata of {version} is unreadable: {exc}") from exc

    def versions(self) -> list[ModelInfo]:
        """Every registered version, oldest first."""
        if not self.root.is_dir():
            return []
        champion = self.champion()
        infos = [
            self._info(entry.name, self.metadata(entry.name), champion)
            for entry in self.root.iterdir()
            if entry.is_dir() and _VERSION.match(entry.name) and (entry / METADATA).is_file()
        ]
        return sorted(infos, key=lambda info: (info.created_at, info.version))

    def load(self, version: str | None = None) -> ConvictionModel:
        """The champion (or ``version``), after checking its sha256 and its feature set.

        Raises RegistryError when there is no champion, the version is unknown, the artifact's
        checksum differs from the one recorded at registration, or the model was trained on a
        feature set other than the running code's.
        """
        if version is None:
            version = self.champion()
            if version is None:
                raise RegistryError(f"no champion model in {self.root}")
        metadata = self.metadata(version)
        artifact = self.root / version / metadata["artifact"]
        if artifact.suffix not in MODEL_SUFFIXES or not artifact.is_file():
            raise RegistryError(f"artifact of {version} is missing: {artifact}")
        actual = _sha256(artifact)
        if actual != metadata["sha256"]:
            raise RegistryError(
                f"checksum mismatch for {version}: artifact sha256 {actual}, "
                f"registered {metadata['sha256']} (file changed after registration)"
            )
        expected_names, expected_set = self._expected_features()
        if metadata["feature_set_version"] != expected_set:
            raise RegistryError(
                f"{version} was trained on feature set {metadata['feature_set_version']}, "
                f"the running code computes {expected_set}: retrain it"
            )
        if tuple(metadata["feature_names"]) != expected_names:
            raise RegistryError(f"{version} lists different feature names than the running code")
        try:
            model = load_model(artifact)
        except ModelError as exc:
            raise RegistryError(f"{version}: {exc}") from exc
        if model.feature_names != expected_names:
            raise RegistryError(f"{version}: artifact's feature names differ from its metadata")
        model.version = version
        return model

    def next_version(self, tag: str | None = None) -> str:
        """A new version name: ``v0.<n>[-tag]-<UTC timestamp>``, n one above the highest so far."""
        minors = [
            int(match.group(1))
            for info in self.versions()
            if (match := re.match(r"^v0\.(\d+)", info.version))
        ]
        minor = max(minors, default=0) + 1
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        base = f"v0.{minor}" + (f"-{tag}" if tag else "") + f"-{stamp}"
        candidate, counter = base, 1
        while (self.root / candidate).exists():
            counter += 1
            candidate = f"{base}-{counter}"
        return candidate

    # --- internals ----------------------------------------------------------------------------

    def _expected_features(self) -> tuple[tuple[str, ...], str]:
        if self._feature_names is None or self._feature_set_version is None:
            from roostr.features import FEATURE_NAMES, FEATURE_SET_VERSION

            return tuple(FEATURE_NAMES), FEATURE_SET_VERSION
        return self._feature_names, self._feature_set_version

    def _info(self, version: str, metadata: Mapping[str, Any], champion: str | None) -> ModelInfo:
        return ModelInfo(
            version=version,
            created_at=metadata["created_at"],
            feature_set_version=metadata["feature_set_version"],
            metrics=dict(metadata.get("metrics", {})),
            artifact=self.root / version / metadata["artifact"],
            sha256=metadata["sha256"],
            is_champion=version == champion,
        )

    def _read_pointer(self) -> dict[str, Any]:
        path = self.root / POINTER
        try:
            pointer = json.loads(path.read_text())
        except FileNotFoundError:
            return {"champion": None, "history": [], "updated_at": None}
        except (OSError, ValueError) as exc:
            raise RegistryError(f"champion pointer {path} is unreadable: {exc}") from exc
        return pointer

    def _write_pointer(
        self,
        champion: str,
        history: list[str],
        action: Literal["promote", "rollback", "shadow"],
        shadow: str | None,
    ) -> ModelUpdate:
        update = self._update(champion, action, shadow)
        _write_json_atomic(
            self.root / POINTER,
            {
                "champion": champion,
                "history": history,
                "shadow": shadow,
                "updated_at": update.promoted_at.isoformat(),
            },
        )
        return update

    def _update(
        self,
        champion: str,
        action: Literal["promote", "rollback", "shadow", "mode"],
        shadow: str | None,
        mode: Mode | None = None,
    ) -> ModelUpdate:
        metadata = self.metadata(champion)
        return ModelUpdate(
            model_version=champion,
            artifact_path=str((self.root / champion / metadata["artifact"]).resolve()),
            sha256=metadata["sha256"],
            promoted_at=datetime.now(UTC),
            action=action,
            mode=mode,
            shadow_version=shadow,
        )

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise pointer changes between processes (two operators promoting at once)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / _LOCK, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _write_json_atomic(path: Path, payload: Mapping[str, Any]) -> None:
    """tmp file in the same directory → fsync → rename over the target → fsync the directory."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with tmp.open("w") as handle:
        json.dump(payload, handle, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
