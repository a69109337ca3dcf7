"""Can the brokers be reached, and do they let roostr in? What librdkafka says, made readable.

librdkafka retries a dead broker forever and reports each failed connection twice: to the error
callback and, as a ``%3|…|FAIL|…`` line, to its log (stderr by default). Every client roostr
creates (``roostr.kafka``) instead gets a ``BrokerWatch`` as its error callback, which classifies
the errors (broker unreachable, authentication refused, TLS failed) into one ``BrokerUnavailable``
naming the bootstrap servers, and ``LIBRDKAFKA_LOG`` as its logger, which turns librdkafka's own
lines into rate-limited ``librdkafka`` events. Nothing here ever logs a SASL password: every
text from librdkafka passes through ``redact``.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any, Literal, Protocol

from confluent_kafka import KafkaError, KafkaException

from roostr.errors import RoostrError
from roostr.logs import get_logger
from roostr.settings import Settings

__all__ = [
    "EXIT_BROKER_UNAVAILABLE",
    "LIBRDKAFKA_LOG",
    "BrokerUnavailable",
    "BrokerWatch",
    "LibrdkafkaLog",
    "Problem",
    "RateLimit",
    "classify",
    "redact",
    "remember_secrets",
]

log = get_logger("roostr.kafka")

EXIT_BROKER_UNAVAILABLE = 69
"""Exit status of a command whose brokers are unreachable or refuse it (sysexits EX_UNAVAILABLE:
distinct from every command's own statuses, so a supervisor may restart on it)."""

REPORT_INTERVAL_S = 60.0
"""The most often one outage, or one kind of librdkafka line, is logged again."""

_PROBE_INTERVAL_S = 2.0
_PROBE_TIMEOUT_S = 1.0

Problem = Literal["unreachable", "authentication", "tls"]

_PROBLEMS: dict[int, Problem] = {
    KafkaError._TRANSPORT: "unreachable",
    KafkaError._ALL_BROKERS_DOWN: "unreachable",
    KafkaError._RESOLVE: "unreachable",
    KafkaError._AUTHENTICATION: "authentication",
    KafkaError.SASL_AUTHENTICATION_FAILED: "authentication",
    KafkaError._SSL: "tls",
}

_EVENTS: dict[Problem, str] = {
    "unreachable": "broker_unreachable",
    "authentication": "broker_authentication_failed",
    "tls": "broker_tls_failed",
}

_secrets: set[str] = set()


def remember_secrets(settings: Settings) -> None:
    """Make ``redact`` hide this configuration's SASL password (called for every client)."""
    if settings.sasl_password is not None and settings.sasl_password.get_secret_value():
        _secrets.add(settings.sasl_password.get_secret_value())


def redact(text: str) -> str:
    """``text`` with every SASL password roostr configured replaced by ``***``."""
    for secret in _secrets:
        text = text.replace(secret, "***")
    return text


def classify(error: KafkaError) -> Problem | None:
    """Which connection problem a librdkafka error reports, if it reports one."""
    return _PROBLEMS.get(error.code())


class BrokerUnavailable(RoostrError):
    """The brokers did not answer within the bound, or refused roostr's credentials or TLS."""

    def __init__(self, servers: str, problem: Problem, reason: str, bound_s: float) -> None:
        self.servers, self.problem, self.reason, self.bound_s = servers, problem, reason, bound_s
        super().__init__(self._message())

    @property
    def event(self) -> str:
        return _EVENTS[self.problem]

    def _message(self) -> str:
        if self.problem == "authentication":
            return (
                f"authentication to Kafka broker {self.servers} failed ({self.reason}); check "
                "the SASL mechanism, username and password"
            )
        if self.problem == "tls":
            return (
                f"TLS with Kafka broker {self.servers} failed ({self.reason}); check the CA "
                "bundle (ROOSTR_SSL_CA_LOCATION) and the broker's certificate"
            )
        return (
            f"Kafka broker {self.servers} unreachable: no answer within {self.bound_s:g} s "
            f"({self.reason})"
        )


def _reason(error: KafkaError) -> str:
    """librdkafka's text without its ``host:port/id: `` prefix (the message names the servers)."""
    text = redact(error.str())
    head, sep, rest = text.partition(": ")
    return rest if sep and "/" in head else text


class _Metadata(Protocol):
    def list_topics(self, topic: str | None = None, timeout: float = -1) -> Any: ...


class BrokerWatch:
    """One client's brokers as its error callback (``on_error``) sees them; thread-safe.

    All brokers down, or an authentication or TLS failure, makes it ``down`` until something
    proves a broker answers (``reached``: an acknowledged record, a metadata answer). The
    verdict (``unavailable``) comes at once for a refusal, but only after ``connect_timeout_s``
    of outage for an unreachable broker: a broker restart is not an outage worth a word.
    """

    def __init__(self, settings: Settings) -> None:
        self.servers = settings.bootstrap_servers
        self.bound_s = settings.connect_timeout_s
        self._lock = threading.Lock()
        self._problem: Problem | None = None
        self._since = 0.0
        self._reasons: dict[Problem, str] = {"unreachable": "connection failed"}  # the latest
        self._reported = -math.inf
        self._next_probe = 0.0
        self._other_errors = RateLimit()

    def on_error(self, error: KafkaError) -> None:
        """librdkafka's ``error_cb``: classify; any other error is logged, rate-limited."""
        problem = classify(error)
        if problem is None:
            if (suppressed := self._other_errors.allow(error.name())) is not None:
                log.warning(
                    "kafka_error", servers=self.servers, code=error.name(),
                    reason=redact(error.str()), fatal=error.fatal(), suppressed=suppressed,
                )  # fmt: skip
            return
        with self._lock:
            if error.code() != KafkaError._ALL_BROKERS_DOWN:  # "1/1 brokers are down" says less
                self._reasons[problem] = _reason(error)
            # One broker's dropped connection (an idle close, a restart) is not an outage.
            if problem == "unreachable" and error.code() != KafkaError._ALL_BROKERS_DOWN:
                return
            if self._problem is None:
                self._since = time.monotonic()
            self._problem = problem

    @property
    def down(self) -> bool:
        with self._lock:
            return self._problem is not None

    def problem(self) -> BrokerUnavailable:
        """What is wrong now, as the error to report (unreachable if nothing else is known)."""
        with self._lock:
            kind = self._problem or "unreachable"
            reason = self._reasons[kind]
        return BrokerUnavailable(self.servers, kind, reason, self.bound_s)

    def unavailable(self) -> BrokerUnavailable | None:
        """The verdict: a refusal at once, all brokers down once it has lasted the bound."""
        with self._lock:
            if self._problem is None:
                return None
            if self._problem == "unreachable" and time.monotonic() - self._since < self.bound_s:
                return None
        return self.problem()

    def reached(self) -> None:
        """A broker answered: the outage (if any) is over."""
        with self._lock:
            was_down, self._problem = self._problem is not None, None
            down_s = time.monotonic() - self._since
        if was_down and self._reported > self._since:  # its end is news only if it was told
            log.info("broker_reachable", servers=self.servers, down_s=round(down_s, 1))

    def check(self, client: _Metadata) -> None:
        """For a long-running member, between batches: log the verdict once per
        ``REPORT_INTERVAL_S`` while it holds, and ask every ``_PROBE_INTERVAL_S`` whether a
        broker answers again (a metadata request, at most ``_PROBE_TIMEOUT_S``)."""
        if not self.down:
            return
        now = time.monotonic()
        verdict = self.unavailable()
        if verdict is not None and now - self._reported >= REPORT_INTERVAL_S:
            self._reported = now
            level = "warning" if verdict.problem == "unreachable" else "error"
            getattr(log, level)(verdict.event, servers=self.servers, reason=verdict.reason,
                                action="retrying; not ready until a broker answers")  # fmt: skip
        if now < self._next_probe:
            return
        self._next_probe = now + _PROBE_INTERVAL_S
        try:
            client.list_topics(timeout=_PROBE_TIMEOUT_S)
        except KafkaException:
            return
        self.reached()


class RateLimit:
    """Lets one occurrence of each key through per interval; says how many it held back."""

    def __init__(self, interval_s: float = REPORT_INTERVAL_S) -> None:
        self._interval_s = interval_s
        self._lock = threading.Lock()
        self._last: dict[Any, float] = {}
        self._held: dict[Any, int] = {}

    def allow(self, key: Any) -> int | None:
        """None to drop this occurrence, else the number dropped since the last one let through."""
        now = time.monotonic()
        with self._lock:
            if now - self._last.get(key, -math.inf) < self._interval_s:
                self._held[key] = self._held.get(key, 0) + 1
                return None
            self._last[key] = now
            return self._held.pop(key, 0)


# librdkafka's connection failures: also reported to every client's error callback, which
# classifies them; their log lines only repeat it.
_REPEATS_ERROR_CALLBACK = frozenset({"FAIL"})

# Python levels confluent-kafka passes (mapped from syslog) to the events' levels.
_LEVELS = {50: "critical", 40: "error", 30: "warning", 20: "info", 10: "debug"}


class LibrdkafkaLog:
    """The ``logger`` of every roostr client: librdkafka's lines as ``librdkafka`` events.

    confluent-kafka calls only ``log(level, "%s [%s] %s", facility, client, text)``. Each
    (facility, level) is logged at most once per ``REPORT_INTERVAL_S`` with the count held back,
    so a broker that is down does not flood the log; connection failures are debug events (the
    error callback reports them once, classified).
    """

    def __init__(self) -> None:
        self._limit = RateLimit()

    def log(self, level: int, _format: str, facility: str, client: str, text: str) -> None:
        name = "debug" if facility in _REPEATS_ERROR_CALLBACK else _LEVELS.get(level, "info")
        if (suppressed := self._limit.allow((facility, name))) is None:
            return
        getattr(log, name)(
            "librdkafka", facility=facility, client=client, message=redact(text),
            suppressed=suppressed,
        )  # fmt: skip


LIBRDKAFKA_LOG = LibrdkafkaLog()
