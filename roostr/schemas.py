"""JSON Schema files for the contracts, for readers written in other languages."""

from __future__ import annotations

import json
from pathlib import Path

from roostr.contracts import CONTRACTS

SCHEMA_DIR = Path(__file__).with_name("schemas")


def schema_documents() -> dict[str, str]:
    """File name → JSON Schema text, generated from the pydantic models."""
    return {
        f"{name}.schema.json": json.dumps(model.model_json_schema(), indent=2, sort_keys=True)
        + "\n"
        for name, model in CONTRACTS.items()
    }


def export_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Write every contract's schema into ``directory``; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, text in schema_documents().items():
        path = directory / filename
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
