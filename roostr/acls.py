"""What each roostr role may do on the cluster: the one table the ACLs are made from.

Every principal gets only its topics and groups. ``roostr acls script`` renders this table as the
``kafka-acls.sh`` calls shipped in ``deploy/kafka/acls.sh``; the tests apply the same table as
AclBindings through the admin API, so the shipped ACLs are the ones tested. Topic and group names
come from the settings (``ROOSTR_TOPIC_*``, ``ROOSTR_GROUP_*``).

Kafka lets Read and Write imply Describe. Idempotent producers (every roostr producer) need only
Write on their topics since Kafka 3.0 (KIP-679), not IdempotentWrite on the cluster.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    ResourcePatternType,
    ResourceType,
)

from roostr.settings import Settings

__all__ = ["ROLES", "Grant", "Role", "acl_bindings", "grants", "kafka_acls_script"]

Role = Literal["scoring", "joiner", "retrain", "monitor", "publisher", "prices"]
ROLES: tuple[Role, ...] = ("scoring", "joiner", "retrain", "monitor", "publisher", "prices")

Resource = Literal["topic", "group", "transactional-id"]
Operation = Literal["Read", "Write", "Describe"]


@dataclass(frozen=True)
class Grant:
    """Allow ``operation`` on the resources ``names`` (a name prefix when ``prefixed``)."""

    operation: Operation
    resource: Resource
    names: tuple[str, ...]
    prefixed: bool = False


def grants(s: Settings) -> dict[Role, list[Grant]]:
    """Each role's grants. Readers that replay or tail a topic (``roostr.topic_reader``: state
    restores, control topics, the monitor's and retrain's snapshots) use throwaway group ids
    starting with ``group_readers``: they never join or commit, but the client asks for their
    coordinator, and without Describe on the group every such read logs
    GROUP_AUTHORIZATION_FAILED."""
    readers = Grant("Describe", "group", (s.group_readers,), prefixed=True)
    return {
        # roostr consume: the raw signals, the control topics it tails, its feature snapshots,
        # the scored signals the joiner has not read yet (consumer/group_frontier.py); with
        # --transactional, transactional ids "<scoring group>-<uuid>".
        "scoring": [
            Grant("Read", "topic", (s.topic_raw, s.topic_model_updates, s.topic_outcomes,
                                    s.topic_label_cutoffs, s.topic_feature_state, s.topic_scored)),
            Grant("Write", "topic", (s.topic_scored, s.topic_dlq, s.topic_feature_state)),
            Grant("Read", "group", (s.group_scoring,)),
            readers,
            Grant("Write", "transactional-id", (s.group_scoring,), prefixed=True),
        ],
        # roostr join: scored signals and prices in, outcomes, cutoffs and its state out; what it
        # cannot decode goes to the dead letters. It fetches the ends of its outcomes when it
        # takes partitions over (a listed end may lag: roostr.topic_reader.fetched_ends).
        "joiner": [
            Grant("Read", "topic", (s.topic_scored, s.topic_prices, s.topic_joiner_state,
                                    s.topic_outcomes)),
            Grant("Write", "topic", (s.topic_outcomes, s.topic_joiner_state,
                                     s.topic_label_cutoffs, s.topic_dlq)),
            Grant("Read", "group", (s.group_joiner,)),
            readers,
        ],
        # roostr retrain: reads outcomes and cutoffs; announces a promoted champion.
        "retrain": [
            Grant("Read", "topic", (s.topic_outcomes, s.topic_label_cutoffs)),
            Grant("Write", "topic", (s.topic_model_updates,)),
            readers,
        ],
        # roostr monitor: reads outcomes and scored signals; the scoring group's lag on raw.
        "monitor": [
            Grant("Read", "topic", (s.topic_outcomes, s.topic_scored)),
            Grant("Describe", "topic", (s.topic_raw,)),
            Grant("Describe", "group", (s.group_scoring,)),
            readers,
        ],
        "publisher": [Grant("Write", "topic", (s.topic_raw,))],  # roostr publish
        "prices": [Grant("Write", "topic", (s.topic_prices,))],  # roostr prices publish
    }  # fmt: skip


_RESOURCE_TYPES = {
    "topic": ResourceType.TOPIC,
    "group": ResourceType.GROUP,
    "transactional-id": ResourceType.TRANSACTIONAL_ID,
}


def acl_bindings(s: Settings, principals: Mapping[Role, str]) -> Iterator[AclBinding]:
    """The grants of the roles in ``principals`` (role → ``User:name``) as admin-API bindings."""
    table = grants(s)
    for role, principal in principals.items():
        for grant in table[role]:
            for name in grant.names:
                yield AclBinding(
                    _RESOURCE_TYPES[grant.resource],
                    name,
                    ResourcePatternType.PREFIXED if grant.prefixed else ResourcePatternType.LITERAL,
                    principal,
                    "*",
                    AclOperation[grant.operation.upper()],
                    AclPermissionType.ALLOW,
                )


_SCRIPT_HEAD = """\
#!/usr/bin/env bash
# roostr's ACLs: each principal gets only its topics and groups (deploy/README.md, "ACLs").
# Generated by `roostr acls script` from roostr/acls.py; edit that, then regenerate.
#
#   deploy/kafka/acls.sh BOOTSTRAP [kafka-acls options, e.g. --command-config admin.properties]
#
# Principals default to User:roostr-<role>; set <ROLE>_PRINCIPAL (e.g. SCORING_PRINCIPAL).
# KAFKA_ACLS names the kafka-acls tool (default: kafka-acls.sh on the PATH).
set -euo pipefail
bootstrap=${1:?usage: $0 BOOTSTRAP [kafka-acls options]}
shift
options=("$@")
acl() { "${KAFKA_ACLS:-kafka-acls.sh}" --bootstrap-server "$bootstrap" "${options[@]}" --add "$@"; }
"""


def _acl_call(principal: str, grant: Grant) -> str:
    pattern = "prefixed" if grant.prefixed else "literal"
    names = " ".join(f"--{grant.resource} {shlex.quote(name)}" for name in grant.names)
    return (
        f'acl --allow-principal "{principal}" --operation {grant.operation} '
        f"--resource-pattern-type {pattern} {names}"
    )


def kafka_acls_script(s: Settings) -> str:
    """The grants as a bash script of ``kafka-acls.sh`` calls, one per grant."""
    lines = [_SCRIPT_HEAD]
    for role, role_grants in grants(s).items():
        variable = f"{role.upper()}_PRINCIPAL"
        lines.append(f"\n# {role}\n{variable}=${{{variable}:-User:roostr-{role}}}\n")
        lines.extend(f"{_acl_call(f'${variable}', grant)}\n" for grant in role_grants)
    return "".join(lines)
