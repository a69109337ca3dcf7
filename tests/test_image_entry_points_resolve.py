"""The image runs the console script pyproject.toml declares, copies every package it installs,
runs as a non-root user, and creates (owned by that user) every directory a volume mounts on."""

from __future__ import annotations

import importlib
import json
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

from deploy_files import DEPLOY, ROOT, compose, dockerfile_instructions, k8s_objects, pod_spec

from stack.cli import build_parser

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SCRIPTS = PYPROJECT["project"]["scripts"]
INSTRUCTIONS = dockerfile_instructions()


def _last(keyword: str) -> str:
    return [args for kw, args in INSTRUCTIONS if kw == keyword][-1]


def _runtime_user() -> tuple[int, int]:
    user, group = _last("USER").split(":")
    return int(user), int(group)


def _directories_owned_by_the_user() -> set[str]:
    """Directories created by `install -d -o <user>` in the runtime stage."""
    owned = set()
    for keyword, args in INSTRUCTIONS:
        if keyword == "RUN" and "install -d" in args:
            words = args.split("install -d", 1)[1].split("&&")[0].split()
            owner = words[words.index("-o") + 1]
            assert owner in args.split("useradd", 1)[1], "owned by the user the image creates"
            owned |= {w for w in words if w.startswith("/")}
    return owned


def test_console_scripts_import_and_are_installed_as_declared() -> None:
    installed = {e.name: e.value for e in entry_points(group="console_scripts")}
    for name, target in SCRIPTS.items():
        module, _, attr = target.partition(":")
        assert callable(getattr(importlib.import_module(module), attr))
        assert installed[name] == target


def test_entrypoint_is_the_console_script_of_the_images_virtualenv() -> None:
    (executable,) = json.loads(_last("ENTRYPOINT"))
    path = Path(executable)
    assert path.name in SCRIPTS
    venvs = [
        args.split("-m venv", 1)[1].split()[0] for kw, args in INSTRUCTIONS if "-m venv" in args
    ]
    assert str(path.parent) == f"{venvs[0]}/bin"
    copied = [args for kw, args in INSTRUCTIONS if kw == "COPY" and args.startswith("--from=build")]
    assert any(args.split()[1:] == [venvs[0], venvs[0]] for args in copied), "venv in runtime stage"


def test_default_command_parses() -> None:
    command = json.loads(_last("CMD"))
    assert build_parser().parse_args(command).command == command[0]


def test_image_copies_every_package_pyproject_installs() -> None:
    copied = {source for kw, args in INSTRUCTIONS if kw == "COPY" and "--from" not in args
              for source in args.split()[:-1]}  # fmt: skip
    patterns = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()
                and any(p.match(pattern) for pattern in patterns)}  # fmt: skip
    assert packages and packages <= copied
    assert {"pyproject.toml", PYPROJECT["project"]["readme"]} <= copied
    for source in copied:
        assert (ROOT / source).exists(), source
    # BuildKit's Dockerfile-specific ignore file must let every copied path through.
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    included = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert copied <= included


def test_image_installs_the_cpu_build_of_xgboost() -> None:
    dependencies = PYPROJECT["project"]["dependencies"]
    assert any(d.startswith("xgboost-cpu") for d in dependencies)
    assert not any(d.split(">")[0].split("=")[0].strip() == "xgboost" for d in dependencies)
    assert any("pip install ." in args for kw, args in INSTRUCTIONS if kw == "RUN")


def test_image_runs_as_a_numeric_non_root_user() -> None:
    user, group = _runtime_user()
    assert user != 0 and group != 0
    for obj in k8s_objects():
        spec = pod_spec(obj)
        if spec:
            context = spec["securityContext"]
            assert context["runAsNonRoot"] is True
            assert (context["runAsUser"], context["runAsGroup"]) == (user, group)
            # fsGroup makes mounted volumes writable by that user, as the image does for Docker.
            assert context["fsGroup"] == group


def test_every_compose_volume_of_the_image_mounts_on_a_directory_the_user_owns() -> None:
    owned = _directories_owned_by_the_user()
    workdir = _last("WORKDIR")
    assert workdir in owned, "relative paths (reports/, the spool) must be writable"
    services = compose()["services"]
    targets = {
        volume.split(":")[1]
        for service in services.values()
        if service.get("image", "").startswith("roostr")
        for volume in service.get("volumes", [])
    }
    assert "/models" in targets
    assert targets <= owned, f"mounted but not created for the user: {targets - owned}"
    env = dict(a.split("=", 1) for kw, args in INSTRUCTIONS if kw == "ENV" for a in args.split())
    assert env["ROOSTR_REGISTRY_DIR"] in owned
