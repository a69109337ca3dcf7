"""Reading deploy/ as the tests of the deployment files need it: YAML documents, the compose
services, the Kubernetes objects, the systemd units, and every ``roostr`` command line in them."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
SYSTEMD = DEPLOY / "systemd"
IMAGE = "roostr"  # the compose image is roostr:local; the Kubernetes manifests use `roostr`


# The setting holding the HTTP port (/healthz, /readyz, /metrics) of each long-running role.
ROLE_PORT_SETTING = {
    "consume": "http_port",
    "join": "joiner_http_port",
    "monitor": "monitor_http_port",
}
_SHELL_OPERATORS = {";", "&&", "||", "|", "&"}


@dataclass(frozen=True)
class Invocation:
    """One ``roostr`` command line found in deploy/, with the environment it runs in."""

    where: str
    argv: tuple[str, ...]
    env: dict[str, str]

    @property
    def role(self) -> str:
        return self.argv[0] if self.argv else ""


def yaml_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in {".yaml", ".yml"})


def yaml_documents(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def compose() -> dict[str, Any]:
    (document,) = yaml_documents(DEPLOY / "compose.yaml")
    return document


def roostr_services() -> dict[str, dict[str, Any]]:
    """Compose services that run the roostr image."""
    services = compose()["services"]
    return {n: s for n, s in services.items() if s.get("image", "").split(":")[0] == IMAGE}


def k8s_objects() -> list[dict[str, Any]]:
    kustomization = yaml_documents(K8S / "kustomization.yaml")[0]
    return [doc for name in kustomization["resources"] for doc in yaml_documents(K8S / name)]


def pod_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    spec = obj.get("spec", {})
    if obj["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec.get("template", {}).get("spec")


def config_map(name: str = "roostr-config") -> dict[str, str]:
    for obj in k8s_objects():
        if obj["kind"] == "ConfigMap" and obj["metadata"]["name"] == name:
            return obj["data"]
    raise LookupError(name)


def systemd_unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """``{section: [(key, value), …]}``; keys may repeat, as systemd allows."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), [])
        elif current is not None and "=" in line:
            key, value = line.split("=", 1)
            current.append((key.strip(), value.strip()))
        else:
            raise ValueError(f"{path.name}: not a unit line: {raw!r}")
    return sections


def systemd_units() -> dict[str, dict[str, list[tuple[str, str]]]]:
    return {
        p.name: systemd_unit(p)
        for p in sorted(SYSTEMD.iterdir())
        if p.suffix in {".service", ".timer", ".target"}
    }


def env_file(path: Path) -> dict[str, str]:
    """A systemd EnvironmentFile: KEY=value lines, # comments."""
    lines = [line.strip() for line in path.read_text().splitlines()]
    pairs = [line.split("=", 1) for line in lines if line and not line.startswith("#")]
    return {key: value for key, value in pairs}


def dockerfile_instructions(path: Path = DEPLOY / "Dockerfile") -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions, pending = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and not pending):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = pending + line
        pending = ""
        keyword, _, rest = full.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def roostr_argvs(words: list[str] | str) -> Iterator[list[str]]:
    """The ``roostr`` command lines in an argv, or in a shell script (``sh -c '…'``)."""
    if isinstance(words, str):
        lexer = shlex.shlex(words, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words = list(lexer)
    if len(words) >= 3 and Path(words[0]).name in {"sh", "bash"} and words[1] == "-c":
        yield from roostr_argvs(words[2])
        return
    segment: list[str] = []
    for word in [*words, ";"]:
        if word not in _SHELL_OPERATORS:
            segment.append(word)
            continue
        # The command word: the first after `exec` and VAR=value assignments.
        while segment and (segment[0] == "exec" or re.match(r"^[A-Z_]+=", segment[0])):
            segment.pop(0)
        if segment and Path(segment[0]).name == "roostr":
            yield segment[1:]
        segment = []


def invocations() -> list[Invocation]:
    """Every roostr command line in compose, Kubernetes, systemd, the crontab and the image."""
    found: list[Invocation] = []
    entrypoint = _image_entrypoint()
    for name, service in roostr_services().items():
        env = {k: str(v) for k, v in (service.get("environment") or {}).items()}
        argv = service.get("entrypoint") or [*entrypoint, *service.get("command", [])]
        if Path(argv[0]).name == "supercronic":
            continue  # its crontab is read below
        found += [Invocation(f"compose {name}", tuple(a), env) for a in roostr_argvs(argv)]
    base_env = config_map()
    for obj in k8s_objects():
        spec = pod_spec(obj)
        for container in (spec or {}).get("initContainers", []) + (spec or {}).get(
            "containers", []
        ):
            env = base_env | {
                e["name"]: e["value"] for e in container.get("env", []) if "value" in e
            }
            argv = container.get("command") or [*entrypoint, *container.get("args", [])]
            where = f"k8s {obj['metadata']['name']}/{container['name']}"
            found += [Invocation(where, tuple(a), env) for a in roostr_argvs(argv)]
    systemd_env = env_file(SYSTEMD / "roostr.env")
    for unit, sections in systemd_units().items():
        for key, value in sections.get("Service", []):
            if key == "ExecStart":
                # A template unit's instance (%i) is its member's HTTP port.
                line = value.replace("%i", "9108")
                found += [
                    Invocation(f"systemd {unit}", tuple(a), systemd_env) for a in roostr_argvs(line)
                ]
    for line in (DEPLOY / "retrain.crontab").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            command = " ".join(line.split()[5:])
            found += [Invocation("retrain.crontab", tuple(a), {}) for a in roostr_argvs(command)]
    cmd = dict(dockerfile_instructions())["CMD"]
    found.append(Invocation("Dockerfile CMD", tuple(json.loads(cmd)), {}))
    return found


def documented_invocations(path: Path) -> Iterator[list[str]]:
    """``roostr …`` command lines in a Markdown file's code spans and fenced blocks."""
    text = path.read_text().replace("\\\n", " ")  # shell line continuations
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S)
    spans = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    for snippet in [line for block in blocks for line in block.splitlines()] + spans:
        snippet = snippet.split(" #", 1)[0]  # trailing comments
        if re.search(r"(^|[\s;&|/])roostr\s", snippet):
            yield from roostr_argvs(snippet)


def _image_entrypoint() -> list[str]:
    return json.loads(dict(dockerfile_instructions())["ENTRYPOINT"])
