"""Roles on the SASL_SSL listener: their settings, their grants applied, denials observed, and
the check that no output of a test holds a password."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from pathlib import Path

from apache_kafka import SaslSsl
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AclBinding, AclBindingFilter, AdminClient
from conftest import ROLE_USERS
from pydantic import SecretStr

from roostr.acls import Role, acl_bindings
from roostr.settings import Settings

PRINCIPALS: dict[Role, str] = {role: f"User:{user}" for role, user in ROLE_USERS.items()}


def as_user(settings: Settings, sasl_ssl: SaslSsl, user: str) -> Settings:
    """``settings`` (topics, groups, state) reached over SASL_SSL as ``user``."""
    return settings.model_copy(
        update={
            "bootstrap_servers": sasl_ssl.bootstrap_servers,
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": sasl_ssl.mechanism,
            "sasl_username": user,
            "sasl_password": SecretStr(sasl_ssl.users[user]),
            "ssl_ca_location": sasl_ssl.ca_location,
        }
    )


def as_role(settings: Settings, sasl_ssl: SaslSsl, role: Role) -> Settings:
    return as_user(settings, sasl_ssl, ROLE_USERS[role])


def _admin(settings: Settings, sasl_ssl: SaslSsl) -> AdminClient:
    return AdminClient(as_user(settings, sasl_ssl, "admin").kafka_common())


def grant(settings: Settings, sasl_ssl: SaslSsl, bindings: Iterable[AclBinding]) -> None:
    """Create ``bindings`` as the super user; returns once the controller accepted them all."""
    admin = _admin(settings, sasl_ssl)  # held: results fail once the client is collected
    for future in admin.create_acls(list(bindings)).values():
        future.result()


def revoke(settings: Settings, sasl_ssl: SaslSsl, bindings: Iterable[AclBinding]) -> None:
    filters = [
        AclBindingFilter(b.restype, b.name, b.resource_pattern_type, b.principal, b.host,
                         b.operation, b.permission_type)
        for b in bindings
    ]  # fmt: skip
    admin = _admin(settings, sasl_ssl)
    for future in admin.delete_acls(filters).values():
        future.result()


def grant_roles(settings: Settings, sasl_ssl: SaslSsl, roles: Iterable[Role]) -> None:
    grant(settings, sasl_ssl, acl_bindings(settings, {r: PRINCIPALS[r] for r in roles}))


def produce_error(settings: Settings, topic: str) -> int | None:
    """The error code of producing one record to ``topic`` with ``settings`` (None: delivered)."""
    errors: list[KafkaError | None] = []
    producer = Producer({**settings.kafka_common(), "message.timeout.ms": 10_000})
    producer.produce(topic, b"probe", on_delivery=lambda err, _msg: errors.append(err))
    producer.flush(20)
    assert errors, f"no delivery report for {topic}"
    return errors[0].code() if errors[0] is not None else None


def read_error(settings: Settings, topic: str, timeout_s: float = 10.0) -> int | None:
    """The first error code of reading ``topic`` from its beginning by assignment (None if none):
    a topic the principal may not even describe is refused in its metadata already."""
    consumer = Consumer(
        {**settings.kafka_common(), "group.id": f"{settings.group_scoring}-probe-{uuid.uuid4()}"}
    )
    try:
        if (refused := consumer.list_topics(topic, timeout=10).topics[topic].error) is not None:
            return refused.code()
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        for message in consumer.consume(100, timeout_s):
            if (error := message.error()) is not None:
                return error.code()
        return None
    finally:
        consumer.close()


def join_error(settings: Settings, group: str, topic: str, timeout_s: float = 15.0) -> int | None:
    """The first error code of joining ``group`` to read ``topic`` (None: none in time)."""
    consumer = Consumer({**settings.kafka_common(), "group.id": group})
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and (error := message.error()) is not None:
                return error.code()
        return None
    finally:
        consumer.close()


def assert_no_password_in(sasl_ssl: SaslSsl, outputs: Iterable[str], files: Iterable[Path]) -> int:
    """No password appears in ``outputs`` or in ``files`` (the broker's logs too); returns how
    many texts were searched."""
    texts = [*outputs, *(p.read_text(errors="replace") for p in [*files, *sasl_ssl.broker_logs])]
    for user, password in sasl_ssl.users.items():
        leaks = [i for i, text in enumerate(texts) if password in text]
        assert not leaks, f"{user}'s password appears in outputs {leaks}"
    return len(texts)
