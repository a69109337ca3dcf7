"""Every deployment file parses and hangs together: YAML (compose, Kubernetes, Prometheus,
Grafana provisioning), the systemd units and the kustomization's resources."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest
from deploy_files import (
    DEPLOY,
    K8S,
    ROOT,
    compose,
    k8s_objects,
    pod_spec,
    systemd_units,
    yaml_documents,
    yaml_files,
)


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_yaml_file_parses_to_mappings(path: Path) -> None:
    documents = yaml_documents(path)
    assert documents, f"{path} is empty"
    assert all(isinstance(doc, dict) for doc in documents)


def test_every_manifest_is_a_named_kubernetes_object_listed_once() -> None:
    listed = yaml_documents(K8S / "kustomization.yaml")[0]["resources"]
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    # The Secret is an example to fill in, deliberately not applied as it stands.
    assert set(listed) == on_disk - {"kafka-secret.example.yaml"}
    objects = k8s_objects()
    for obj in objects:
        assert {"apiVersion", "kind", "metadata"} <= obj.keys(), obj
        assert obj["metadata"]["name"]
    keys = [(o["kind"], o["metadata"]["name"]) for o in objects]
    assert len(keys) == len(set(keys)), "two objects of one kind share a name"


def test_pods_mount_only_volumes_they_declare_and_claims_that_exist() -> None:
    objects = k8s_objects()
    claims = {o["metadata"]["name"] for o in objects if o["kind"] == "PersistentVolumeClaim"}
    config_maps = {o["metadata"]["name"] for o in objects if o["kind"] == "ConfigMap"}
    secret = yaml_documents(K8S / "kafka-secret.example.yaml")[0]
    for obj in objects:
        spec = pod_spec(obj)
        if spec is None:
            continue
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for claim in (v["persistentVolumeClaim"]["claimName"] for v in volumes.values()
                      if "persistentVolumeClaim" in v):  # fmt: skip
            assert claim in claims, (obj["metadata"]["name"], claim)
        for container in spec.get("initContainers", []) + spec["containers"]:
            for mount in container.get("volumeMounts", []):
                assert mount["name"] in volumes, (obj["metadata"]["name"], mount)
            for source in container.get("envFrom", []):
                assert source["configMapRef"]["name"] in config_maps
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["name"] == secret["metadata"]["name"]
                    assert ref["key"] in secret["stringData"], ref
        for volume in volumes.values():
            for item in volume.get("secret", {}).get("items", []):
                assert item["key"] in secret["stringData"], item


def test_compose_builds_from_files_that_exist_and_mounts_declared_volumes() -> None:
    document = compose()
    named = set(document.get("volumes", {}))
    for name, service in document["services"].items():
        build = service.get("build")
        if build:
            context = (DEPLOY / build["context"]).resolve()
            assert (context / build["dockerfile"]).is_file(), name
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                path = (DEPLOY / source).resolve()
                assert path.is_relative_to(DEPLOY), volume
            else:
                assert source in named, (name, volume)


def test_compose_roostr_services_wait_for_the_topics() -> None:
    services = compose()["services"]
    for name, service in services.items():
        if service.get("image", "").startswith("roostr") and name != "topics":
            chain, seen = name, set()
            while chain != "topics":  # follow depends_on back to the topics job
                assert chain not in seen, f"{name}: depends_on does not reach topics"
                seen.add(chain)
                chain = next(iter(services[chain]["depends_on"]))


def test_prometheus_loads_the_rules_file_compose_mounts() -> None:
    """Prometheus resolves a relative rule file against its config file's directory."""
    (config,) = yaml_documents(DEPLOY / "prometheus" / "prometheus.yml")
    service = compose()["services"]["prometheus"]
    mounts = dict(
        (target, source) for source, target, *_ in (v.split(":") for v in service["volumes"])
    )
    (config_file,) = [
        a.split("=", 1)[1] for a in service["command"] if a.startswith("--config.file=")
    ]
    config_dir = PurePosixPath(config_file).parent
    for rule_file in config["rule_files"]:
        assert mounts[str(config_dir / rule_file)] == "./prometheus/alerts.yml"
    assert mounts[config_file] == "./prometheus/prometheus.yml"


def test_grafana_provisions_the_dashboard_compose_mounts() -> None:
    (provider,) = yaml_documents(
        DEPLOY / "grafana" / "provisioning" / "dashboards" / "roostr.yaml"
    )[0]["providers"]
    mounts = {
        target: source
        for source, target, *_ in (
            v.split(":") for v in compose()["services"]["grafana"]["volumes"]
        )
    }
    dashboards = [t for t, s in mounts.items() if s == "./grafana/roostr.json"]
    assert [str(PurePosixPath(t).parent) for t in dashboards] == [provider["options"]["path"]]
    assert mounts["/etc/grafana/provisioning"] == "./grafana/provisioning"
    (datasource,) = yaml_documents(
        DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yaml"
    )[0]["datasources"]
    assert datasource["url"] == "http://prometheus:9090"
    assert "prometheus" in compose()["services"]


def test_systemd_units_have_their_sections_and_name_files_that_exist() -> None:
    units = systemd_units()
    assert units, "no unit files"
    for name, sections in units.items():
        assert "Unit" in sections, name
        kind = name.rsplit(".", 1)[1]
        if kind == "service":
            keys = dict(sections["Service"])
            assert keys["ExecStart"].startswith("/"), name
            assert keys["EnvironmentFile"] == "/etc/roostr/roostr.env", name
        if kind == "timer":
            service = name.replace(".timer", ".service")
            assert service in units, f"{name} starts {service}, which does not exist"
    wants = dict(units["roostr.target"]["Unit"])["Wants"].split()
    for wanted in wants:
        template = wanted.split("@")[0] + "@.service" if "@" in wanted else wanted
        assert template in units, wanted
    assert (ROOT / "deploy" / "systemd" / "roostr.env").is_file()
