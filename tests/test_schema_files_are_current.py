"""The committed JSON Schema files are exactly what the pydantic contracts generate."""

from __future__ import annotations

from pathlib import Path

from roostr.schemas import SCHEMA_DIR, export_schemas, schema_documents


def test_committed_schema_files_equal_the_generated_ones() -> None:
    committed = {path.name: path.read_text(encoding="utf-8") for path in SCHEMA_DIR.glob("*.json")}
    generated = schema_documents()
    assert sorted(committed) == sorted(generated), "run: roostr schema export roostr/schemas"
    stale = [name for name, text in generated.items() if committed[name] != text]
    assert not stale, f"stale schema files {stale}; run: roostr schema export roostr/schemas"


def test_export_writes_every_document(tmp_path: Path) -> None:
    written = export_schemas(tmp_path)
    assert {path.name for path in written} == set(schema_documents())
    assert all(path.read_text(encoding="utf-8") for path in written)
