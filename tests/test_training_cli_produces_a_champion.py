"""`roostr train --bootstrap` end to end: a registered champion, a report with plots, and the
ModelUpdate on models.updates; then `roostr models promote/rollback/list` against it."""

import json
import subprocess
from pathlib import Path

from conftest import ROOSTR

from roostr.contracts import ModelUpdate, Outcome
from roostr.features import FEATURE_SET_VERSION, feature_dict
from roostr.kafka import make_consumer
from roostr.registry import ModelRegistry
from roostr.settings import Settings


def _roostr(settings: Settings, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ROOSTR, *args],
        env=settings.child_env(),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _updates(settings: Settings, expected: int) -> list[ModelUpdate]:
    consumer = make_consumer(settings, f"{settings.group_scoring}-updates-check")
    consumer.subscribe([settings.topic_model_updates])
    found: list[ModelUpdate] = []
    try:
        for _ in range(60):
            message = consumer.poll(1.0)
            if message is not None and message.error() is None:
                assert message.key() is None
                found.append(ModelUpdate.model_validate_json(message.value()))
            if len(found) >= expected:
                break
    finally:
        consumer.close()
    return found


def test_bootstrap_training_end_to_end(settings: Settings, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    done = _roostr(settings, "train", "--bootstrap", "--reports-dir", str(reports), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    registry = ModelRegistry(settings.registry_dir)
    first = registry.champion()
    assert first is not None and first.startswith("v0.1-bootstrap-")
    assert registry.load().version == first
    meta = registry.metadata(first)
    assert meta["training_data"]["rows"] == 400
    assert meta["metrics"]["test"]["auc"] > 0.5
    report = reports / f"training_report_{first}.md"
    assert report.is_file()
    for plot in ("roc", "calibration", "importance"):
        png = reports / f"training_report_{first}_{plot}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png.name in report.read_text()

    # a second model is registered but not promoted while a champion exists
    done = _roostr(
        settings,
        "train",
        "--bootstrap",
        "--seed",
        "8",
        "--samples",
        "300",
        "--reports-dir",
        str(reports),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    second = next(v.version for v in registry.versions() if v.version != first)
    assert registry.champion() == first

    assert _roostr(settings, "models", "promote", second, cwd=tmp_path).returncode == 0
    assert registry.champion() == second
    assert _roostr(settings, "models", "rollback", cwd=tmp_path).returncode == 0
    assert registry.champion() == first
    refused = _roostr(settings, "models", "rollback", cwd=tmp_path)
    assert refused.returncode == 1 and "no previous champion" in refused.stderr

    listing = _roostr(settings, "models", "list", cwd=tmp_path).stdout
    assert f"*\t{first}" in listing and second in listing

    updates = _updates(settings, 3)
    assert [(u.action, u.model_version) for u in updates] == [
        ("promote", first),
        ("promote", second),
        ("rollback", first),
    ]


def test_training_from_logged_outcomes(settings: Settings, tmp_path: Path) -> None:
    from roostr.labels import matured_at, resolved_at
    from training.datasets import bootstrap_set, outcomes_set
    from training.synthetic import generate

    synthetic = generate(400, seed=7)
    features = bootstrap_set(400, seed=7).X
    lines = [
        outcome.model_copy(
            update={
                "features": feature_dict(row),
                "feature_set_version": FEATURE_SET_VERSION,
                "rule_score": 5,
            }
        ).model_dump_json()
        for outcome, row in zip(synthetic.outcomes, features, strict=True)
    ]
    lines.append(lines[0])  # a redelivered outcome
    lines.append(json.dumps({"signal_id": "broken"}))
    unresolved = Outcome(
        signal_id="u1", ticker="X", posted_at=synthetic.outcomes[0].posted_at, status="unresolved"
    )
    lines.append(unresolved.model_dump_json())
    data_file = tmp_path / "outcomes.jsonl"
    data_file.write_text("\n".join(lines) + "\n")

    data = outcomes_set(data_file)
    # without a cutoff given, the file's newest decision is it: the horizons still open then
    # are left out, whatever they had decided
    newest = max(resolved_at(o) for o in synthetic.outcomes)
    immature = sum(matured_at(o) > newest for o in synthetic.outcomes)
    assert data.cutoff == newest
    assert data.skipped == {
        "invalid": 1,
        "duplicate": 1,
        "immature": immature,
        "unresolved": 1,
        "no_feature_set": 0,
        "other_feature_set": 0,
    }
    assert data.X.shape == (400 - immature, features.shape[1])

    done = _roostr(
        settings,
        "train",
        "--data",
        str(data_file),
        "--reports-dir",
        str(tmp_path / "r"),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "skipped records" in done.stdout
    assert ModelRegistry(settings.registry_dir).champion().startswith("v0.1-")
