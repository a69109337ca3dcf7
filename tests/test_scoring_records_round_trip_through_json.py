"""Scored records (``Scorer.score_records``) are plain JSON-ready dicts that the consumer encodes
with orjson; what it writes must read back as exactly the ScoredSignal that ``scored_signals``
returns for the same signals."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest

from consumer.pipeline import encode_scored
from roostr.contracts import RawSignal, ScoredSignal
from roostr.features import FEATURE_NAMES, FEATURE_SET_VERSION, FeatureExtractor
from roostr.model import ConvictionModel
from roostr.scoring import Scorer, scored_signals

SCORED_AT = datetime(2026, 1, 10, 12, 0, 0, 123456, tzinfo=UTC)
IST = timezone(timedelta(hours=5, minutes=30))
_JSON_TYPES = (str, int, float, bool, type(None), datetime)


def _signals() -> list[RawSignal]:
    """Full context, no context at all, extra unknown fields, a non-UTC offset."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    signals = []
    for i in range(30):
        doc: dict[str, Any] = {
            "signal_id": f"rt:{i}",
            "ticker": f"$t{i % 5}",
            "source": ("YieldHub", "CT")[i % 2],
            "message": ("High conviction 🚀, mainnet live", "presale 100x guaranteed", "")[i % 3],
            "reactions": {"🔥": i * 3, "🚀": i % 4},
            "dan_endorsed": i % 4 == 0,
            "posted_at": (start + timedelta(hours=i)).isoformat(),
        }
        if i % 3 == 0:
            doc["market"] = {"market_cap_usd": 1e8 + i, "price_change_7d": -0.25}
            doc["trends"] = {"google_trends_now": 40.5, "mainstream_news": False}
            doc["onchain"] = {"whale_net_flow_usd": -5e5, "top10_holder_share": 0.3}
        if i % 3 == 1:
            doc["scraper_version"] = "2.1"
            doc["raw_meta"] = {"ids": [1, 2, 3], "nested": {"ok": True, "ratio": 0.5}}
        if i % 5 == 0:
            doc["posted_at"] = (start + timedelta(hours=i)).astimezone(IST).isoformat()
        signals.append(RawSignal.model_validate(doc))
    return signals


@pytest.fixture(scope="module")
def model() -> ConvictionModel:
    X = FeatureExtractor().advance(_signals() * 4)
    y = (np.arange(len(X)) % 3 == 0).astype(int)
    fitted = ConvictionModel(n_estimators=20, max_depth=3, learning_rate=0.3)
    fitted = fitted.fit(X, y, feature_names=FEATURE_NAMES, feature_set_version=FEATURE_SET_VERSION)
    fitted.version = "v-roundtrip"
    return fitted


def _assert_plain(value: object, where: str = "record") -> None:
    """Only types orjson encodes natively: no numpy scalars, no models."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), where
            _assert_plain(item, f"{where}.{key}")
    elif isinstance(value, list):
        for item in value:
            _assert_plain(item, f"{where}[]")
    else:
        assert type(value) in _JSON_TYPES, f"{where}: {type(value).__name__}"


def _records_and_typed(model: ConvictionModel | None) -> tuple[list[dict], list[ScoredSignal]]:
    signals = _signals()
    records = Scorer(FeatureExtractor(), model, mode="hybrid").score_records(signals, SCORED_AT)
    typed = scored_signals(
        Scorer(FeatureExtractor(), model, mode="hybrid").score_records(signals, SCORED_AT)
    )
    return records, typed


def test_encoded_records_read_back_as_the_typed_scores(model: ConvictionModel) -> None:
    records, typed = _records_and_typed(model)
    assert len(records) == len(typed) == 30
    for record, expected, signal in zip(records, typed, _signals(), strict=True):
        _assert_plain(record)
        assert {k: record[k] for k in signal.model_dump()} == signal.model_dump()
        assert ScoredSignal.model_validate_json(encode_scored(record)) == expected
    assert all(s.model_version == "v-roundtrip" and not s.degraded for s in typed)
    assert all(s.ml_probability is not None and s.reasons for s in typed)
    assert typed[1].model_extra == {
        "scraper_version": "2.1",
        "raw_meta": {"ids": [1, 2, 3], "nested": {"ok": True, "ratio": 0.5}},
    }
    # Signals without context blocks have missing features, logged as null, never NaN.
    assert typed[1].market is None and None in typed[1].features.values()
    assert set(typed[0].features) == set(FEATURE_NAMES)


def test_degraded_records_have_null_ml_fields() -> None:
    records, typed = _records_and_typed(None)
    for record, expected in zip(records, typed, strict=True):
        _assert_plain(record)
        assert ScoredSignal.model_validate_json(encode_scored(record)) == expected
        assert record["degraded"] is True and record["final_score"] == record["rule_score"]
        assert record["ml_probability"] is None and record["ml_score"] is None
        assert record["hybrid_score"] is None and record["model_version"] is None
        assert record["reasons"] == [] and record["mode"] == "hybrid"


def test_integer_beyond_64_bits_in_an_extra_field_is_still_encoded() -> None:
    doc = _signals()[0].model_dump(mode="json") | {"counter": 2**70}
    signal = RawSignal.model_validate(doc)
    (record,) = Scorer(FeatureExtractor(), mode="rules").score_records([signal], SCORED_AT)
    assert ScoredSignal.model_validate_json(encode_scored(record)).model_extra == {"counter": 2**70}
