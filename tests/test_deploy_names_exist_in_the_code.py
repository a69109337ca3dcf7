"""Every roostr command, port and ROOSTR_* variable that deploy/ names exists in the code: the
command lines parse with the CLI's own parser, the variables are Settings fields (and their
values are valid), and each role's ports are the ones its settings make it listen on."""

from __future__ import annotations

import argparse
import os
import re

import pytest
from deploy_files import (
    DEPLOY,
    ROLE_PORT_SETTING,
    ROOT,
    Invocation,
    compose,
    config_map,
    documented_invocations,
    env_file,
    invocations,
    k8s_objects,
    pod_spec,
    roostr_services,
    systemd_units,
    yaml_documents,
)

from roostr.settings import Settings
from stack.cli import build_parser

SETTINGS = Settings.model_fields
KNOWN_VARIABLES = {f"ROOSTR_{name.upper()}" for name in SETTINGS} | {"KAFKA_BOOTSTRAP_SERVERS"}
GUIDE = DEPLOY / "README.md"


def _settings(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in [n for n in os.environ if n.startswith(("ROOSTR_", "KAFKA_"))]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings()


def _parses(argv: tuple[str, ...] | list[str]) -> None:
    try:
        build_parser().parse_args(list(argv))
    except SystemExit as exc:  # argparse reports to stderr and exits 2
        raise AssertionError(f"roostr {' '.join(argv)} does not parse") from exc


def _names_exist(argv: list[str]) -> None:
    """A command named in prose: its sub-command path and --options exist (arguments may be
    left out, as in "`roostr models promote`")."""
    parser = build_parser()
    for word in argv:
        if word.startswith("--"):
            assert word.split("=")[0] in parser._option_string_actions, (argv, word)
            continue
        subcommands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subcommands:
            continue  # a positional argument
        assert word in subcommands[0].choices, f"roostr {' '.join(argv)}: no command {word!r}"
        parser = subcommands[0].choices[word]


def test_deploy_runs_every_long_running_role() -> None:
    roles = {i.role for i in invocations()}
    assert {"topics", "train", "consume", "join", "retrain", "monitor"} <= roles


@pytest.mark.parametrize("invocation", invocations(), ids=lambda i: i.where)
def test_command_line_parses(invocation: Invocation) -> None:
    _parses(invocation.argv)


def test_guide_command_lines_parse() -> None:
    documented = [a for a in documented_invocations(GUIDE) if a]
    assert len(documented) >= 5, "the guide shows how to run roostr"
    for argv in documented:
        _names_exist(argv)


def test_every_roostr_variable_named_in_deploy_is_a_setting() -> None:
    named: dict[str, set[str]] = {}
    for path in (p for p in DEPLOY.rglob("*") if p.is_file()):
        for variable in re.findall(r"\b(ROOSTR_[A-Z0-9_]+)\b", path.read_text()):
            named.setdefault(variable, set()).add(str(path.relative_to(ROOT)))
    assert "ROOSTR_HTTP_PORT" in named
    unknown = {v: files for v, files in named.items() if v not in KNOWN_VARIABLES}
    assert not unknown, f"not settings (roostr/settings.py): {unknown}"


@pytest.mark.parametrize(
    "where",
    ["compose", "k8s ConfigMap", "k8s containers", "systemd roostr.env"],
)
def test_environment_values_are_valid_settings(where: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if where == "compose":
        envs = [s.get("environment", {}) for s in roostr_services().values()]
    elif where == "k8s ConfigMap":
        envs = [config_map()]
    elif where == "k8s containers":
        envs = [config_map() | {e["name"]: e["value"] for e in c.get("env", []) if "value" in e}
                for o in k8s_objects() if (spec := pod_spec(o))
                for c in spec.get("initContainers", []) + spec["containers"]]  # fmt: skip
    else:
        envs = [env_file(DEPLOY / "systemd" / "roostr.env")]
    for env in envs:
        settings = _settings({k: str(v) for k, v in env.items()}, monkeypatch)
        for name, value in env.items():
            field = name.removeprefix("ROOSTR_").lower()
            if name.startswith("ROOSTR_") and field in SETTINGS:
                assert str(getattr(settings, field)) == str(value), (where, name)


def _role_ports(monkeypatch: pytest.MonkeyPatch, roles: set[str]) -> list[tuple[str, int, int]]:
    """(where, port named in deploy/, port the role's settings listen on)."""
    found = []
    services = compose()["services"]
    for name, service in roostr_services().items():
        role = (service.get("command") or [""])[0]
        if role not in roles:
            continue
        expected = getattr(
            _settings({k: str(v) for k, v in service.get("environment", {}).items()}, monkeypatch),
            ROLE_PORT_SETTING[role],
        )
        test = " ".join(service.get("healthcheck", {}).get("test", []))
        found += [(f"compose {name} healthcheck", int(p), expected)
                  for p in re.findall(r":(\d+)/", test)]  # fmt: skip
        (prometheus,) = yaml_documents(DEPLOY / "prometheus" / "prometheus.yml")
        for job in prometheus["scrape_configs"]:
            for sd in job.get("dns_sd_configs", []):
                if name in sd["names"]:
                    found.append((f"prometheus {job['job_name']}", sd["port"], expected))
            for static in job.get("static_configs", []):
                for target in static["targets"]:
                    host, port = target.split(":")
                    if host == name:
                        found.append((f"prometheus {job['job_name']}", int(port), expected))
    assert services  # compose parsed
    for obj in k8s_objects():
        spec = pod_spec(obj)
        if not spec or obj["kind"] != "Deployment":
            continue
        annotations = obj["spec"]["template"]["metadata"].get("annotations", {})
        for container in spec["containers"]:
            role = container["args"][0]
            if role not in roles:
                continue
            env = config_map() | {
                e["name"]: e["value"] for e in container.get("env", []) if "value" in e
            }
            expected = getattr(_settings(env, monkeypatch), ROLE_PORT_SETTING[role])
            ports = {p["name"]: p["containerPort"] for p in container["ports"]}
            where = f"k8s {obj['metadata']['name']}"
            found += [(f"{where} containerPort", p, expected) for p in ports.values()]
            found.append(
                (f"{where} scrape annotation", int(annotations["prometheus.io/port"]), expected)
            )
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                action = container.get(probe, {})
                port = (action.get("httpGet") or action.get("tcpSocket") or {}).get("port")
                if port is not None:
                    found.append((f"{where} {probe}", ports.get(port, port), expected))
    return found


def test_each_role_is_probed_and_scraped_on_the_port_it_listens_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    found = _role_ports(monkeypatch, set(ROLE_PORT_SETTING))
    assert {w.split()[1] for w, _, _ in found if w.startswith("k8s")} >= {
        "roostr-consume",
        "roostr-join",
    }
    wrong = [(where, port, expected) for where, port, expected in found if port != expected]
    assert not wrong, f"(where, port named, port listened on): {wrong}"


def test_systemd_members_do_not_share_a_port_with_another_role(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = _settings(env_file(DEPLOY / "systemd" / "roostr.env"), monkeypatch)
    wants = dict(systemd_units()["roostr.target"]["Unit"])["Wants"].split()
    members = [
        int(w.split("@")[1].removesuffix(".service"))
        for w in wants
        if w.startswith("roostr-consume@")
    ]
    assert len(members) >= 2
    taken = [settings.joiner_http_port, *[int(v) for k, v in env_file(
        DEPLOY / "systemd" / "roostr.env").items() if k.endswith("_HTTP_PORT")]]  # fmt: skip
    assert len(set(members)) == len(members)
    assert not set(members) & set(taken)


def test_keda_scales_the_scoring_group_up_to_the_raw_partitions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = _settings(config_map(), monkeypatch)
    (scaled,) = [o for o in k8s_objects() if o["kind"] == "ScaledObject"]
    (trigger,) = scaled["spec"]["triggers"]
    assert scaled["spec"]["maxReplicaCount"] == settings.partitions_raw
    assert trigger["metadata"]["topic"] == settings.topic_raw
    assert trigger["metadata"]["consumerGroup"] == settings.group_scoring
    assert trigger["metadata"]["bootstrapServers"] == settings.bootstrap_servers
    target = scaled["spec"]["scaleTargetRef"]["name"]
    (deployment,) = [
        o for o in k8s_objects() if o["kind"] == "Deployment" and o["metadata"]["name"] == target
    ]
    assert pod_spec(deployment)["containers"][0]["args"] == ["consume"]
