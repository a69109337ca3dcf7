"""The one settings object: environment variables, overridden by command-line flags.

Every field reads ``ROOSTR_<FIELD>`` from the environment; the bootstrap servers also read the
conventional ``KAFKA_BOOTSTRAP_SERVERS``. Secrets are ``SecretStr`` so they never reach a log line
or a repr.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from roostr.contracts import Mode
from roostr.labels import LabelRules

__all__ = ["Settings"]

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER", "GSSAPI"]


class Settings(BaseSettings):
    """Configuration shared by every roostr command."""

    # populate_by_name: ``Settings(bootstrap_servers=...)`` works although the field's aliases
    # are only its two environment variables (a plain "bootstrap_servers" alias would also make
    # a bare BOOTSTRAP_SERVERS variable count: the environment is matched case-insensitively).
    model_config = SettingsConfigDict(env_prefix="ROOSTR_", extra="ignore", populate_by_name=True)

    # --- broker connection -------------------------------------------------------------------
    bootstrap_servers: str = Field(
        "127.0.0.1:9092",
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "ROOSTR_BOOTSTRAP_SERVERS"),
    )
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_ca_location: Path | None = None
    client_id: str = "roostr"
    # How long a command waits for a broker to answer before it says which one is unreachable
    # and exits; how long a running member's outage lasts before it is logged (roostr.connection).
    connect_timeout_s: float = Field(10.0, gt=0, le=600)

    # --- topics --------------------------------------------------------------------------------
    topic_raw: str = "signals.raw"
    topic_scored: str = "signals.scored"
    topic_dlq: str = "signals.dlq"
    topic_prices: str = "prices"
    topic_outcomes: str = "signals.outcomes"
    topic_model_updates: str = "models.updates"
    topic_joiner_state: str = "signals.outcomes.joiner-state"
    topic_feature_state: str = "signals.raw.feature-state"
    topic_label_cutoffs: str = "signals.outcomes.cutoffs"
    partitions_raw: int = Field(12, ge=1)
    partitions_default: int = Field(6, ge=1)
    replication_factor: int = Field(1, ge=1)
    # Set on every topic roostr creates: how many replicas must hold a record before an acks=all
    # producer (every roostr producer) is told it is written. None: the broker's default.
    min_insync_replicas: int | None = Field(None, ge=1)

    # --- consumer groups -------------------------------------------------------------------------
    group_scoring: str = "roostr-scoring"
    group_joiner: str = "roostr-outcome-joiner"
    # The prefix of the throwaway group ids of readers outside any group (roostr.topic_reader).
    group_readers: str = "roostr-reader"
    # A reader that has made no progress (no record, no position moved) for this long gives up
    # on reading to the end (TopicUnreadable), however long the topic is.
    read_stall_timeout_s: float = Field(60.0, gt=0)
    # Short enough that a crashed member's partitions move within seconds; librdkafka heartbeats
    # from a background thread, so a slow batch does not trip it (max.poll.interval.ms does).
    session_timeout_ms: int = Field(10_000, ge=1_000)
    heartbeat_interval_ms: int = Field(1_000, ge=100)
    max_poll_interval_ms: int = Field(300_000, ge=1_000)
    # A member that holds no partition, or whose partitions lag without moving, while the group
    # lags, is reported stalled (not ready, roostr_consumer_stalled 1) after this long.
    stall_after_s: float = Field(60.0, gt=0)
    # Stalled for this much longer, a member leaves and joins again with a fresh consumer; after
    # ``stall_rejoins`` rejoins without recovering it exits 4 for its supervisor to restart it.
    stall_rejoin_after_s: float = Field(30.0, ge=0)
    stall_rejoins: int = Field(3, ge=0)
    # How the scoring group shares partitions (librdkafka ``partition.assignment.strategy``).
    # Eager ``roundrobin``: under kill -9 storms it stalled least and re-emitted least, on Tansu
    # and on Apache Kafka (consumer/README.md "Kill storms and the stalled group").
    assignment_strategy: Literal["cooperative-sticky", "roundrobin", "range"] = "roundrobin"
    track_record_max_wait_s: float = Field(30.0, ge=0)

    # --- scoring --------------------------------------------------------------------------------
    mode: Mode = "parallel"
    batch_size: int = Field(500, ge=1, le=100_000)
    batch_wait_ms: int = Field(100, ge=0)
    # Client latency settings (consumer/README.md "Latency and throughput"): how long a fetch may
    # wait at the broker for new records (``fetch.wait.max.ms``), and how long a producer holds
    # records to send them together (``linger.ms``). Both are the defaults of every roostr
    # client; lower means less latency at low rates, more requests per record under load.
    fetch_wait_ms: int = Field(5, ge=0, le=10_000)
    linger_ms: int = Field(1, ge=0, le=10_000)
    # A broker that stops answering without closing its connections (paused, hung, its host cut
    # off) holds every request sent to it for this long; then the client drops the connection,
    # refreshes its metadata and sends to the partitions' new leaders. librdkafka's defaults (60 s
    # for a request, 30 s for a produce or a connection setup) stalled a member for the whole of
    # a 30 s controller pause after the node had been fenced 6 s in (consumer/README.md, "Broker
    # faults with replication").
    request_timeout_ms: int = Field(10_000, ge=1_000, le=300_000)
    # Offsets of acknowledged batches are committed (asynchronously) at most this often: one
    # commit request per interval instead of per batch; a crash replays at most this much more.
    commit_interval_ms: int = Field(100, ge=0, le=60_000)
    max_message_bytes: int = Field(256 * 1024, ge=1024)
    # The largest record any roostr producer sends (librdkafka ``message.max.bytes``). Keep it at
    # or below the broker's ``message.max.bytes`` and the topics' ``max.message.bytes`` (Kafka's
    # default: 1,048,588): every output, dead letters included, is bounded to fit it.
    max_record_bytes: int = Field(1_000_000, ge=16 * 1024)
    # A partition's feature state is snapshotted once this many records (and at least as many as
    # its live state) were scored since its last snapshot: the most a restore replays.
    feature_snapshot_every: int = Field(5_000, ge=1)

    # --- outcome joiner (event time: the label's parameters, see roostr.labels) ----------------
    outcome_horizon_days: float = Field(30.0, gt=0)
    outcome_entry_tolerance_hours: float = Field(1.0, ge=0)
    outcome_grace_hours: float = Field(1.0, ge=0)
    outcome_lookback_days: float = Field(400.0, gt=0)
    # A prices partition read to its end with no tick for this long stops holding the joiner's
    # watermark back (its tickers went quiet): when to stop waiting, never what a label says.
    outcome_idle_partition_s: float = Field(60.0, gt=0)
    joiner_http_port: int = Field(9109, ge=0, le=65535)

    # --- retraining (``roostr retrain``) ---------------------------------------------------------
    # Refuse to train below this many labelled outcomes of the current feature set.
    retrain_min_outcomes: int = Field(300, ge=20)
    # Walk-forward folds: stretches of time each predicted from the outcomes before it, pooled to
    # compare challenger, champion and rules.
    retrain_folds: int = Field(10, ge=2, le=40)
    # Promotion: the challenger's walk-forward AUC must beat the champion's by at least this much...
    retrain_promote_margin: float = Field(0.0, ge=0.0)
    # ...and pass the gates: AUC not below the rules' minus this tolerance,
    retrain_rules_tolerance: float = Field(0.0, ge=0.0)
    # scores spread over at least this many of the 10 buckets,
    retrain_min_score_buckets: int = Field(3, ge=1, le=10)
    # and an expected calibration error on the walk-forward rows of at most this beyond its
    # noise floor (the ECE a perfectly calibrated model shows on those rows).
    retrain_max_ece: float = Field(0.1, gt=0.0, le=1.0)

    # --- monitoring (``roostr monitor``; every window is in event time) --------------------------
    # Outcome windows end where every signal is decided (the newest outcome's decision time minus
    # the horizon). "current" is the latest window, "baseline" the span just before it.
    monitor_window_days: float = Field(7.0, gt=0)
    monitor_baseline_days: float = Field(28.0, gt=0)
    monitor_history_windows: int = Field(8, ge=1, le=520)
    # A window with fewer resolved outcomes than this reports its numbers but raises no alert.
    monitor_min_outcomes: int = Field(30, ge=1)
    # Alerts: win rate of actionable signals (final score >= 7) below the baseline's by more than
    # this; the champion's precision below this in each of the last N windows;
    monitor_win_rate_drop: float = Field(0.05, gt=0, lt=1)
    monitor_min_precision: float = Field(0.55, gt=0, lt=1)
    monitor_precision_windows: int = Field(2, ge=1)
    # drift of recent scored signals against the champion's training reference: PSI of a binned
    # continuous feature, Jensen-Shannon divergence (bits) of a binary or categorical one;
    monitor_drift_window_days: float = Field(7.0, gt=0)
    monitor_drift_psi: float = Field(0.2, gt=0)
    monitor_drift_js: float = Field(0.05, gt=0, le=1)
    monitor_top_features: int = Field(5, ge=1)
    # fewer ML score buckets than this in recent scored signals (no differentiation);
    monitor_min_scored: int = Field(100, ge=1)
    monitor_min_score_buckets: int = Field(3, ge=1, le=10)
    # a champion trained longer ago than this (at the newest scored signal's time);
    monitor_model_max_age_days: float = Field(30.0, gt=0)
    # a consumer that degraded more than this share of recent signals, or lags by more records.
    monitor_max_degraded_share: float = Field(0.01, ge=0, lt=1)
    monitor_max_group_lag: int = Field(10_000, ge=0)
    # ``roostr monitor --serve``: re-evaluation period and the /metrics port.
    monitor_interval_s: float = Field(300.0, gt=0)
    monitor_http_port: int = Field(9110, ge=0, le=65535)

    # --- local state ----------------------------------------------------------------------------
    registry_dir: Path = Path("models")
    spool_dir: Path = Path(".roostr/spool")

    # --- service endpoints ----------------------------------------------------------------------
    http_host: str = "127.0.0.1"
    http_port: int = Field(9108, ge=0, le=65535)

    @model_validator(mode="after")
    def _raw_records_fit_the_producer(self) -> Settings:
        if self.max_message_bytes > self.max_record_bytes:
            raise ValueError(
                f"max_message_bytes ({self.max_message_bytes}) exceeds max_record_bytes "
                f"({self.max_record_bytes}): publishers could not send the records they accept"
            )
        return self

    @model_validator(mode="after")
    def _in_sync_replicas_can_exist(self) -> Settings:
        if self.min_insync_replicas is not None and (
            self.min_insync_replicas > self.replication_factor
        ):
            raise ValueError(
                f"min_insync_replicas ({self.min_insync_replicas}) exceeds replication_factor "
                f"({self.replication_factor}): no produce to the topics could ever succeed"
            )
        return self

    def kafka_common(self) -> dict[str, Any]:
        """librdkafka settings every client shares: where the brokers are and how to log in."""
        config: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol,
            "client.id": self.client_id,
            "socket.timeout.ms": self.request_timeout_ms,
            "socket.connection.setup.timeout.ms": self.request_timeout_ms,
        }
        if self.sasl_mechanism:
            config["sasl.mechanism"] = self.sasl_mechanism
        if self.sasl_username:
            config["sasl.username"] = self.sasl_username
        if self.sasl_password:
            config["sasl.password"] = self.sasl_password.get_secret_value()
        if self.ssl_ca_location:
            config["ssl.ca.location"] = str(self.ssl_ca_location)
        return config

    def namespaced(self, tag: str, **overrides: Any) -> Settings:
        """A copy whose topics and group ids end in ``-tag``: an isolated run on a shared broker."""
        names = [n for n in type(self).model_fields if n.startswith(("topic_", "group_"))]
        renamed = {name: f"{getattr(self, name)}-{tag}" for name in names}
        return self.model_copy(update=renamed | overrides)

    def to_env(self) -> dict[str, str]:
        """``ROOSTR_*`` variables that reproduce these settings in a child process."""
        env = {}
        for name, value in self.model_dump(exclude_none=True).items():
            raw = value.get_secret_value() if isinstance(value, SecretStr) else value
            env[f"ROOSTR_{name.upper()}"] = str(raw)
        return env

    def child_env(self) -> dict[str, str]:
        """This process's environment for a ``roostr`` child that must use exactly these settings.

        ``KAFKA_BOOTSTRAP_SERVERS`` is dropped: it would otherwise win over ``ROOSTR_*``.
        """
        inherited = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
        return inherited | self.to_env()

    def label_rules(self) -> LabelRules:
        return LabelRules(
            horizon=timedelta(days=self.outcome_horizon_days),
            entry_tolerance=timedelta(hours=self.outcome_entry_tolerance_hours),
            grace=timedelta(hours=self.outcome_grace_hours),
            lookback=timedelta(days=self.outcome_lookback_days),
        )

    def topic_partitions(self) -> dict[str, int]:
        """Every topic roostr uses, with the partition count it is created with.

        Keyed by ticker and joined per partition, scored signals, prices and the joiner's state
        share the raw topic's partition count (co-partitioned).
        """
        return {
            self.topic_raw: self.partitions_raw,
            self.topic_scored: self.partitions_raw,
            self.topic_dlq: self.partitions_default,
            self.topic_prices: self.partitions_raw,
            self.topic_outcomes: self.partitions_default,
            self.topic_model_updates: 1,
            self.topic_joiner_state: self.partitions_raw,
            self.topic_feature_state: self.partitions_raw,
            self.topic_label_cutoffs: 1,
        }

    def topic_configs(self) -> dict[str, dict[str, str]]:
        """Topic configs set at creation (some brokers do not report their defaults)."""
        replicas = {}
        if self.min_insync_replicas is not None:
            replicas["min.insync.replicas"] = str(self.min_insync_replicas)
        compacted = {"cleanup.policy": "compact"}
        configs = {topic: dict(replicas) for topic in self.topic_partitions()}
        for topic in (self.topic_joiner_state, self.topic_feature_state, self.topic_label_cutoffs):
            configs[topic] |= compacted
        return configs
