"""The exported JSON Schemas accept what the service accepts, as producers in other languages see.

Every event-time field says "timestamp with zone": a naive or epoch time that the service would
dead-letter fails the schema too. Checked with the ``jsonschema`` library on the files that
``roostr schema export`` wrote (tests/test_schema_files_are_current.py keeps them current).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator, FormatChecker
from pydantic import BaseModel, ValidationError

from consumer.pipeline import encode_scored
from roostr.contracts import CONTRACTS, RawSignal
from roostr.features import FeatureExtractor
from roostr.schemas import SCHEMA_DIR
from roostr.scoring import Scorer
from roostr.synthetic.stream import synthetic_signals

T = "2026-02-05T14:30:00Z"


def _scored_document() -> dict[str, Any]:
    signal = RawSignal.model_validate_json(orjson.dumps(next(synthetic_signals(1))))
    (record,) = Scorer(FeatureExtractor(), mode="rules").score_records(
        [signal], datetime(2026, 2, 5, 15, tzinfo=UTC)
    )
    return dict(orjson.loads(encode_scored(record)))


VALID: dict[str, dict[str, Any]] = {
    "RawSignal": {"signal_id": "tg:1", "ticker": "TAO", "source": "Telegram", "posted_at": T},
    "ScoredSignal": _scored_document(),
    "PriceTick": {"ticker": "TAO", "ts": T, "price_usd": 412.5, "source": "feed"},
    "Outcome": {
        "signal_id": "tg:1",
        "ticker": "TAO",
        "posted_at": T,
        "status": "won",
        "label": 1,
        "hit_at": T,
    },
    "ModelUpdate": {
        "model_version": "v1",
        "artifact_path": "/models/v1/model.json",
        "sha256": "0" * 64,
        "promoted_at": T,
        "action": "promote",
    },
    "LabelCutoff": {"partition": 0, "partitions": 1, "cutoff": T, "horizon_days": 30},
}
TIMESTAMP_FIELDS = [
    ("RawSignal", "posted_at"),
    ("RawSignal", "observed_at"),
    ("ScoredSignal", "posted_at"),
    ("ScoredSignal", "observed_at"),
    ("ScoredSignal", "scored_at"),
    ("ScoredSignal", "label_cutoff"),
    ("PriceTick", "ts"),
    ("Outcome", "posted_at"),
    ("Outcome", "hit_at"),
    ("ModelUpdate", "promoted_at"),
    ("LabelCutoff", "cutoff"),
]
ZONED = ["2026-02-05T14:30:00Z", "2026-02-05T14:30:00.123+00:00", "2026-02-05T20:00:00+05:30",
         "2026-02-05T09:30:00-05:00", "2026-02-05t14:30:00z"]  # fmt: skip
NOT_ZONED = ["2026-02-05T14:30:00", "2026-02-05T14:30:00.5", "2026-02-05T14:30:00+0530",
             "2026-02-05", "1770301800", 1770301800, "yesterday"]  # fmt: skip


def _validator(contract: str) -> Draft202012Validator:
    schema = json.loads((SCHEMA_DIR / f"{contract}.schema.json").read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=FormatChecker())


def _service_accepts(model: type[BaseModel], document: dict[str, Any]) -> bool:
    try:
        model.model_validate_json(orjson.dumps(document))
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize(("contract", "field"), TIMESTAMP_FIELDS)
def test_a_zoned_timestamp_passes_the_schema_and_the_service(contract: str, field: str) -> None:
    for text in ZONED:
        document = VALID[contract] | {field: text}
        assert list(_validator(contract).iter_errors(document)) == [], text
        assert _service_accepts(CONTRACTS[contract], document), text


@pytest.mark.parametrize(("contract", "field"), TIMESTAMP_FIELDS)
def test_a_naive_or_epoch_timestamp_fails_the_schema_and_the_service(
    contract: str, field: str
) -> None:
    for value in NOT_ZONED:
        document = VALID[contract] | {field: value}
        errors = list(_validator(contract).iter_errors(document))
        assert [list(e.absolute_path) for e in errors] == [[field]], value
        assert not _service_accepts(CONTRACTS[contract], document), value


def test_every_timestamp_property_of_the_producers_contracts_carries_the_zone_pattern() -> None:
    found = set()
    for contract in VALID:
        schema = json.loads((SCHEMA_DIR / f"{contract}.schema.json").read_text(encoding="utf-8"))
        for name, prop in schema["properties"].items():
            for option in prop.get("anyOf", [prop]):
                if option.get("format") == "date-time":
                    assert "pattern" in option and "with zone" in option["description"]
                    found.add((contract, name))
    assert found == set(TIMESTAMP_FIELDS)


def test_the_raw_signal_schema_refuses_scored_field_names_as_extras() -> None:
    raw = _validator("RawSignal")
    assert list(raw.iter_errors(VALID["RawSignal"] | {"scraper_build": "7"})) == []
    assert list(raw.iter_errors(VALID["RawSignal"] | {"tier": "high"}))
    assert list(_validator("ScoredSignal").iter_errors(VALID["ScoredSignal"])) == []
