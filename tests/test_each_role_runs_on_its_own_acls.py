"""Every role reaches the cluster over SASL_SSL with its own SCRAM credentials and only the ACLs
``roostr.acls`` gives it (the table deploy/kafka/acls.sh is generated from): the loop runs
end to end on them (publish → consume, transactional → join → retrain, monitor), a role is
refused what is not its own, and no output of any process holds a password."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from acl_support import (
    as_role,
    assert_no_password_in,
    grant_roles,
    join_error,
    produce_error,
    read_error,
)
from apache_kafka import SaslSsl
from confluent_kafka import KafkaError
from conftest import ROOSTR
from scoring_service_support import ConsumerProcess, wait_until
from topic_reading import read_topic

from roostr.acls import ROLES, Role, acl_bindings, kafka_acls_script
from roostr.contracts import Outcome, ScoredSignal
from roostr.settings import Settings
from roostr.synthetic.world import generate_world

pytestmark = pytest.mark.slow

ACLS_SCRIPT = Path(__file__).parents[1] / "deploy" / "kafka" / "acls.sh"
REFUSED = {KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.GROUP_AUTHORIZATION_FAILED}


def test_the_shipped_acl_script_is_generated_from_the_table() -> None:
    assert ACLS_SCRIPT.read_text() == kafka_acls_script(Settings(_env_file=None)), (
        "deploy/kafka/acls.sh is stale: regenerate it with `roostr acls script`"
    )


def test_the_shipped_acl_script_adds_exactly_the_tables_bindings(tmp_path: Path) -> None:
    """Run by bash with a stand-in for kafka-acls.sh that records its arguments: quoting,
    variables and options expand to the table's bindings, for the default principals."""
    calls = tmp_path / "calls"
    stand_in = tmp_path / "kafka-acls.sh"
    stand_in.write_text(
        '#!/bin/sh\nfor a in "$@"; do printf "%s\\t" "$a"; done >> "$CALLS"\necho >> "$CALLS"\n'
    )
    stand_in.chmod(0o755)
    env = {"PATH": os.environ["PATH"], "KAFKA_ACLS": str(stand_in), "CALLS": str(calls)}
    subprocess.run(
        ["bash", str(ACLS_SCRIPT), "broker:9093", "--command-config", "admin.properties"],
        env=env, check=True, timeout=30,
    )  # fmt: skip
    added = set()
    for line in calls.read_text().splitlines():
        args = line.rstrip("\t").split("\t")
        assert args[:5] == ["--bootstrap-server", "broker:9093", "--command-config",
                            "admin.properties", "--add"], args  # fmt: skip
        options = dict(zip(args[5:11:2], args[6:11:2], strict=True))
        for kind, name in zip(args[11::2], args[12::2], strict=True):
            added.add((options["--allow-principal"], options["--operation"].upper(),
                       options["--resource-pattern-type"].upper(), kind, name))  # fmt: skip
    kinds = {"TOPIC": "--topic", "GROUP": "--group", "TRANSACTIONAL_ID": "--transactional-id"}
    principals = {role: f"User:roostr-{role}" for role in ROLES}
    expected = {
        (b.principal, b.operation.name, b.resource_pattern_type.name, kinds[b.restype.name], b.name)
        for b in acl_bindings(Settings(_env_file=None), principals)
    }
    assert added == expected


def _run(settings: Settings, *args: str, timeout_s: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*ROOSTR, *args], env=settings.child_env(), capture_output=True, text=True,
        timeout=timeout_s,
    )  # fmt: skip


def test_every_role_works_with_its_own_credentials_and_only_its_grants(
    settings: Settings, sasl_ssl: SaslSsl, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"retrain_min_outcomes": 20, "retrain_folds": 2})
    grant_roles(settings, sasl_ssl, ROLES)
    role = {r: as_role(settings, sasl_ssl, r) for r in ROLES}
    world = generate_world(240, seed=5, span_days=100)
    signals_file, prices_file = tmp_path / "signals.jsonl", tmp_path / "prices.jsonl"
    signals_file.write_text("".join(f"{s.model_dump_json()}\n" for s in world.signals))
    ticks = sorted((t for p in world.prices.values() for t in p.ticks()), key=lambda t: t.ts)
    prices_file.write_text("".join(f"{t.model_dump_json()}\n" for t in ticks))
    outputs: list[str] = []

    def run(r: Role, *args: str) -> subprocess.CompletedProcess:
        done = _run(role[r], *args)
        outputs.extend([done.stdout, done.stderr])
        return done

    published = run("publisher", "publish", str(signals_file))
    assert published.returncode == 0, published.stderr[-2000:]
    priced = run("prices", "prices", "publish", str(prices_file))
    assert priced.returncode == 0, priced.stderr[-2000:]

    consumer = ConsumerProcess(role["scoring"], tmp_path, "consume", "--transactional")
    joiner = ConsumerProcess(role["joiner"], tmp_path, "join", command="join")
    try:
        ids = {s.signal_id for s in world.signals}

        def scored_ids() -> set[str]:
            return {
                ScoredSignal.model_validate_json(m.value()).signal_id
                for m in read_topic(settings, settings.topic_scored, 0, 1.0, 0.5)
            }

        def resolved() -> int:
            outcomes = [
                Outcome.model_validate_json(m.value())
                for m in read_topic(settings, settings.topic_outcomes, 0, 1.0, 0.5)
            ]
            return len({o.signal_id for o in outcomes if o.label is not None})

        wait_until(lambda: scored_ids() == ids, 120, f"{len(ids)} signals scored")
        wait_until(lambda: resolved() >= 60, 120, "60 resolved outcomes")

        retrained = run("retrain", "retrain", "--reports-dir", str(tmp_path / "reports"))
        assert retrained.returncode in (0, 1), retrained.stderr[-2000:]
        assert "outcomes read: " in retrained.stdout, retrained.stdout + retrained.stderr
        assert "AUTHORIZATION" not in retrained.stdout + retrained.stderr
        monitored = run("monitor", "monitor", "--json")
        assert monitored.returncode in (0, 1), monitored.stderr[-2000:]  # 2: unreadable

        s = settings
        denied_writes: dict[Role, list[str]] = {
            "publisher": [s.topic_scored, s.topic_prices],
            "prices": [s.topic_raw],
            "scoring": [s.topic_outcomes, s.topic_raw],
            "joiner": [s.topic_scored],
            "retrain": [s.topic_outcomes],
            "monitor": [s.topic_scored, s.topic_model_updates],
        }
        for r, topics in denied_writes.items():
            for topic in topics:
                code = produce_error(role[r], topic)
                assert code == KafkaError.TOPIC_AUTHORIZATION_FAILED, (r, topic, code)
        denied_reads: dict[Role, list[str]] = {
            "monitor": [s.topic_raw, s.topic_prices],
            "retrain": [s.topic_scored],
            "joiner": [s.topic_raw],
            "scoring": [s.topic_prices],
        }
        for r, topics in denied_reads.items():
            for topic in topics:
                assert read_error(role[r], topic) in REFUSED, (r, topic)
        denied_joins: list[tuple[Role, str, str]] = [
            ("joiner", s.group_scoring, s.topic_scored),
            ("scoring", s.group_joiner, s.topic_raw),
            ("monitor", s.group_scoring, s.topic_outcomes),  # describes it, may not join it
        ]
        for r, group, topic in denied_joins:
            code = join_error(role[r], group, topic)
            assert code == KafkaError.GROUP_AUTHORIZATION_FAILED, (r, group, code)
        assert consumer.terminate() == 0, consumer.tail()
        assert joiner.terminate() == 0, joiner.tail()
    finally:
        consumer.ensure_stopped()
        joiner.ensure_stopped()
    assert_no_password_in(sasl_ssl, outputs, [consumer.log_path, joiner.log_path])
