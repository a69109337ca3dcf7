"""Event contracts shared by every producer and reader of roostr's topics.

The field names are a public interface: scrapers and trading bots outside this repository are
written against them, and the JSON Schema files in ``roostr/schemas`` are generated from these
models (``roostr schema export``), never written by hand.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

__all__ = [
    "MODES",
    "TIERS",
    "DeadLetter",
    "ErrorKind",
    "LabelCutoff",
    "LetterPart",
    "Market",
    "Mode",
    "ModelUpdate",
    "OnChain",
    "Outcome",
    "OutcomeStatus",
    "PriceTick",
    "RawSignal",
    "Reason",
    "ScoredSignal",
    "Tier",
    "Trends",
    "ZonedTimestamp",
    "describe_validation_error",
    "normalise_ticker",
]

Mode = Literal["rules", "parallel", "hybrid", "ml"]
MODES: tuple[Mode, ...] = ("rules", "parallel", "hybrid", "ml")
Tier = Literal["high", "medium", "low", "avoid"]
TIERS: tuple[Tier, ...] = ("high", "medium", "low", "avoid")
ErrorKind = Literal["undecodable", "invalid_json", "schema_violation", "oversized", "processing"]
LetterPart = Literal["value", "key", "headers", "error", "signal_id"]  # a dead letter's cut parts
OutcomeStatus = Literal["won", "lost", "unresolved"]

# Bounds that separate "a big number" from "a scraper bug": values beyond them are rejected.
MAX_COUNT = 10**9
MAX_USD = 1e15
MAX_MESSAGE_CHARS = 20_000

Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
Usd = Annotated[float, Field(ge=-MAX_USD, le=MAX_USD)]
Ratio = Annotated[float, Field(ge=-1e6, le=1e6)]
Score = Annotated[int, Field(ge=1, le=10)]

_TICKER = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,19}$")

# RFC 3339 date-time with its zone (``Z`` or ``±hh:mm``): the one text form a timestamp may take.
ZONED_TIMESTAMP_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"  # date and time
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})$"  # zone
)
_ZONED_TIMESTAMP = re.compile(ZONED_TIMESTAMP_PATTERN)


def _zoned_timestamp_input(value: Any) -> Any:
    """Admit a ``datetime`` or RFC 3339 text with a zone; refuse epoch numbers and other text.

    pydantic alone would take ``1700000000`` and ``"1700000000"`` (as Unix time) and
    ``"2026-02-05 12:00+0100"``; the contract, and the JSON Schema published for it, do not.
    """
    if isinstance(value, datetime) or (isinstance(value, str) and _ZONED_TIMESTAMP.match(value)):
        return value
    raise PydanticCustomError(
        "zoned_timestamp",
        "Input should be an RFC 3339 timestamp with a timezone (Z or ±hh:mm)",
    )


# Every event-time field: an aware datetime in Python, ``Z``/``±hh:mm``-zoned text in JSON. The
# guard runs first, so the datetime parser itself may be lax (a before-validator hands it a
# Python str, which strict mode would refuse even when it came from JSON).
ZonedTimestamp = Annotated[
    AwareDatetime,
    Strict(False),
    BeforeValidator(_zoned_timestamp_input),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "pattern": ZONED_TIMESTAMP_PATTERN,
            "description": "timestamp with zone (RFC 3339, Z or ±hh:mm), e.g. 2026-02-05T14:30:00Z",
        }
    ),
]


def normalise_ticker(value: str) -> str:
    """``$tao`` → ``TAO``: upper case, no ``$``, no surrounding space."""
    ticker = value.strip().lstrip("$").strip().upper()
    if not _TICKER.match(ticker):
        raise ValueError(f"not a ticker symbol: {value!r}")
    return ticker


def describe_validation_error(error: ValidationError) -> str:
    """One line naming every offending field, e.g. ``posted_at: Field required``."""
    parts = []
    for item in error.errors(include_url=False):
        where = ".".join(str(p) for p in item["loc"]) or "record"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


class _Contract(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False, populate_by_name=True)


class _StrictContract(_Contract):
    """A contract producers write: values must already have their type, nothing is coerced.

    ``"5"`` is not a count, ``1`` or ``"yes"`` is not a bool, ``1.0`` is not an int (a float field
    does take an integer). Timestamps are ``ZonedTimestamp``.
    """

    model_config = ConfigDict(strict=True)


class Market(_StrictContract):
    """Market context at posting time; a missing field means unknown, never zero."""

    market_cap_usd: Annotated[float, Field(ge=0, le=MAX_USD)] | None = None
    volume_24h_usd: Annotated[float, Field(ge=0, le=MAX_USD)] | None = None
    price_change_7d: Ratio | None = None
    price_change_30d: Ratio | None = None
    ath_distance: Ratio | None = None


class Trends(_StrictContract):
    """Attention context (Google Trends 0–100 scale, mainstream news coverage)."""

    google_trends_now: Annotated[float, Field(ge=0, le=100)] | None = None
    google_trends_7d_ago: Annotated[float, Field(ge=0, le=100)] | None = None
    google_trends_peak_90d: Annotated[float, Field(ge=0, le=100)] | None = None
    mainstream_news: bool | None = None


class OnChain(_StrictContract):
    """On-chain context for crypto assets."""

    whale_net_flow_usd: Usd | None = None
    liquidity_usd: Annotated[float, Field(ge=0, le=MAX_USD)] | None = None
    smart_money_inflow_usd: Usd | None = None
    holder_growth_7d: Ratio | None = None
    top10_holder_share: Annotated[float, Field(ge=0, le=1)] | None = None


class _TickerMixin(_StrictContract):
    @field_validator("ticker", mode="before", check_fields=False)
    @classmethod
    def _normalise_ticker(cls, value: Any) -> Any:
        return normalise_ticker(value) if isinstance(value, str) else value


def _schema_reserves_scored_fields(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """The schema half of ``RawSignal._refuse_scored_fields``: extras may not take those names.

    A ScoredSignal declares them all, so its schema (this hook is inherited) gets no rule.
    """
    reserved = SCORED_FIELDS - set(schema.get("properties", {}))
    if reserved:
        schema["propertyNames"] = {"not": {"enum": sorted(reserved)}}


class RawSignal(_TickerMixin):
    """A trading signal as scraped from a chat group (topic ``signals.raw``, key = ticker).

    Unknown extra fields are kept: scrapers evolve faster than the consumer. An extra field named
    like one of ScoredSignal's own (``features``, ``tier``, ``scored_at``, ...) is refused: the
    scorer would overwrite it, and readers of ``signals.scored`` must not see a scraper's value.
    """

    model_config = ConfigDict(
        extra="allow", allow_inf_nan=False, json_schema_extra=_schema_reserves_scored_fields
    )

    schema_version: Literal[1] = 1
    signal_id: Annotated[str, Field(min_length=1, max_length=256)]
    ticker: str
    source: Annotated[str, Field(min_length=1, max_length=256)]
    channel: str | None = None
    author: str | None = None
    url: str | None = None
    message: Annotated[str, Field(max_length=MAX_MESSAGE_CHARS)] = ""
    reactions: dict[str, Count] = Field(default_factory=dict)
    total_reactions: Count | None = None
    dan_endorsed: bool = False
    mention_count: Count = 0
    posted_at: ZonedTimestamp
    observed_at: ZonedTimestamp | None = None
    asset_class: Literal["crypto", "equity"] = "crypto"
    price_usd: Annotated[float, Field(gt=0, le=MAX_USD)] | None = None
    market: Market | None = None
    trends: Trends | None = None
    onchain: OnChain | None = None

    @model_validator(mode="after")
    def _derive_total_reactions(self) -> RawSignal:
        if self.total_reactions is None:
            self.total_reactions = sum(self.reactions.values())
        return self

    @model_validator(mode="after")
    def _refuse_scored_fields(self) -> RawSignal:
        # Declared fields never land in the extras, so a ScoredSignal passes with its own.
        extra = self.__pydantic_extra__
        if not extra or SCORED_FIELDS.isdisjoint(extra):
            return self
        raise ValidationError.from_exception_data(
            type(self).__name__,
            [
                InitErrorDetails(
                    type=PydanticCustomError(
                        "scored_field", "a field of scored signals; a raw signal may not carry it"
                    ),
                    loc=(name,),
                    input=extra[name],
                )
                for name in sorted(SCORED_FIELDS.intersection(extra))
            ],
        )


class Reason(_StrictContract):
    """One feature's contribution (log-odds) to the ML probability."""

    feature: str
    value: float | None
    contribution: float


class ScoredSignal(RawSignal):
    """A RawSignal enriched with features and scores (topic ``signals.scored``, key = ticker)."""

    scored_at: ZonedTimestamp
    features: dict[str, float | None]
    feature_set_version: str
    rule_score: Score
    ml_probability: Annotated[float, Field(ge=0, le=1)] | None = None
    ml_score: Score | None = None
    hybrid_score: Annotated[float, Field(ge=1, le=10)] | None = None
    final_score: Score
    tier: Tier
    mode: Mode
    model_version: str | None = None
    reasons: list[Reason] = Field(default_factory=list)
    degraded: bool = False
    # The shadow (challenger) model's view of the same features: logged, never deciding.
    shadow_model_version: str | None = None
    shadow_probability: Annotated[float, Field(ge=0, le=1)] | None = None
    shadow_score: Score | None = None
    label_cutoff: ZonedTimestamp | None = Field(
        None,
        description="the label cutoff the track-record features are complete to (every outcome "
        "matured by then was counted): posted_at minus the track records' one-day lag once the "
        "outcome joiner's cutoff had reached it, the joiner's earlier cutoff when the wait for "
        "it ran out; null: no cutoff published yet",
    )


# The fields a ScoredSignal adds to a RawSignal: reserved, never a raw signal's extras.
SCORED_FIELDS = frozenset(ScoredSignal.model_fields) - frozenset(RawSignal.model_fields)


class PriceTick(_TickerMixin):
    """One observed price (topic ``prices``, key = ticker)."""

    ticker: str
    ts: ZonedTimestamp
    price_usd: Annotated[float, Field(gt=0, le=MAX_USD)]
    source: Annotated[str, Field(min_length=1)]


class Outcome(_TickerMixin):
    """The label of one scored signal once its horizon has passed (topic ``signals.outcomes``).

    Carries the features and scores exactly as logged at scoring time, so retraining learns from
    what the model saw, not from a recomputation.
    """

    signal_id: Annotated[str, Field(min_length=1)]
    ticker: str
    posted_at: ZonedTimestamp
    entry_price: Annotated[float, Field(gt=0)] | None = None
    label: Annotated[int, Field(ge=0, le=1)] | None = None  # a Literal would take true and 1.0
    hit_at: ZonedTimestamp | None = None
    max_multiple: Annotated[float, Field(ge=0)] | None = None
    return_at_horizon: float | None = None
    horizon_days: Annotated[float, Field(gt=0)] = 30
    status: OutcomeStatus
    reason: str | None = Field(None, description="why an outcome is unresolved")
    source: str | None = None
    author: str | None = None
    features: dict[str, float | None] = Field(default_factory=dict)
    feature_set_version: str | None = None
    rule_score: Score | None = None
    ml_probability: float | None = None
    ml_score: Score | None = None
    final_score: Score | None = None
    model_version: str | None = None
    shadow_model_version: str | None = None
    shadow_probability: Annotated[float, Field(ge=0, le=1)] | None = None
    shadow_score: Score | None = None

    @model_validator(mode="after")
    def _label_matches_status(self) -> Outcome:
        expected = {"won": 1, "lost": 0, "unresolved": None}[self.status]
        if self.label != expected:
            raise ValueError(f"label {self.label!r} contradicts status {self.status!r}")
        return self


class DeadLetter(_Contract):
    """An input the consumer could not process, with the reason (``signals.dlq``).

    Parts are kept whole while the letter fits the producer's record limit; what had to be cut is
    named in ``truncated``, and the original sizes and digests are always given.
    """

    value_b64: str | None
    key_b64: str | None = None
    headers: list[tuple[str, str | None]] = Field(
        default_factory=list, description="(name, base64 value) pairs, in order"
    )
    source_topic: str
    partition: int
    offset: int
    error_kind: ErrorKind
    error: str
    signal_id: str | None = None
    failed_at: datetime
    truncated: list[LetterPart] = Field(
        default_factory=list,
        description="parts cut to a prefix (value, key, error, signal_id) or, for headers, "
        "kept whole in order up to the first that did not fit; a dropped part is null or empty",
    )
    value_bytes: int | None = Field(None, description="size of the original value; null: none")
    key_bytes: int | None = Field(None, description="size of the original key; null: none")
    header_count: int | None = Field(None, description="number of original headers")
    headers_bytes: int | None = Field(
        None, description="original header names (UTF-8) and values, in bytes"
    )
    error_chars: int | None = Field(None, description="length of the full error text")
    value_sha256: str | None = Field(None, description="hex digest of the original value")
    key_sha256: str | None = Field(None, description="hex digest of the original key")


class ModelUpdate(_StrictContract):
    """A registry change announced to running consumers (topic ``models.updates``).

    Always names the champion as of the change; ``shadow`` and ``mode`` actions leave it as is.
    Consumers treat every update as "check the registry now"; the registry stays the truth.
    """

    model_version: str
    artifact_path: str
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    promoted_at: ZonedTimestamp
    action: Literal["promote", "rollback", "shadow", "mode"]
    mode: Mode | None = Field(
        None, description="when set, running consumers switch to this scoring mode"
    )
    shadow_version: str | None = Field(
        None, description="the shadow model after this change (null: none is set)"
    )


class LabelCutoff(_StrictContract):
    """How far the outcome joiner's labels are final, for one of its input partitions (topic
    ``signals.outcomes.cutoffs``, key = the partition number, compacted).

    Every signal of ``signals.scored`` partition ``partition`` posted at or before
    ``cutoff − horizon`` has its Outcome on ``signals.outcomes``, acknowledged by the broker
    before this record was written. A reader takes, per partition, the latest claim, and over
    the topic the lowest of their cutoffs once all ``partitions`` have reported: the event time up
    to which every label is known (``roostr.cutoffs``); a reader of ``signals.outcomes`` takes a
    record into account once it has read up to ``outcomes_through``. Signals that reach
    ``signals.scored`` more than a horizon behind their partition's newest are the exception:
    their outcomes may follow later.
    """

    partition: Annotated[int, Field(ge=0)]
    partitions: Annotated[int, Field(ge=1)]
    cutoff: ZonedTimestamp
    horizon_days: Annotated[float, Field(gt=0)]
    scored_through: Annotated[int, Field(ge=0)] = Field(
        0,
        description="the offset of signals.scored partition `partition` the joiner had read "
        "(and labelled) to: a scoring member trusts the claim for the signals it delivered "
        "there only once this passes them",
    )
    outcomes_through: list[Annotated[int, Field(ge=0)]] = Field(
        default_factory=list,
        description="per partition of signals.outcomes, the offset after the last outcome "
        "acknowledged before this record: a reader that has read that far has every outcome "
        "this cutoff vouches for",
    )


CONTRACTS: dict[str, type[BaseModel]] = {
    "RawSignal": RawSignal,
    "ScoredSignal": ScoredSignal,
    "PriceTick": PriceTick,
    "Outcome": Outcome,
    "DeadLetter": DeadLetter,
    "ModelUpdate": ModelUpdate,
    "LabelCutoff": LabelCutoff,
}
