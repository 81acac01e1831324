"""The model library: finished runs join by themselves, versions per line, one active model per line."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys

import pytest

from cardgrader import paths
from cardgrader.errors import ConfigError
from cardgrader.models import resolve_model
from cardgrader.models.library import ModelLibrary

CLI = [sys.executable, "-m", "cardgrader"]


def cli(*args, timeout=300):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def add_run(surface_model, run_id: str, name: str, classes: list[str], finished: float):
    """A finished run's folder, as the engine leaves it, holding a copy of a really trained package."""
    folder = paths.runs_dir() / run_id
    shutil.copytree(surface_model.package, folder / "model")
    (folder / "events.jsonl").write_text("{}\n", encoding="utf-8")
    meta_path = folder / "model" / "metadata.json"
    meta = json.loads(meta_path.read_text())
    meta.update(name=name, run=run_id, classes=classes, timings={**meta.get("timings", {}), "finished": finished})
    meta_path.write_text(json.dumps(meta))
    return folder


@pytest.fixture
def three_runs(surface_model, home):
    classes = ["scratch", "dent", "crease"]
    return [add_run(surface_model, "20260101-000001-aaaa", "first", classes, 1000.0),
            add_run(surface_model, "20260101-000002-bbbb", "retrained", classes, 2000.0),
            add_run(surface_model, "20260101-000003-cccc", "fewer-classes", classes[:2], 3000.0)]


def test_finished_runs_join_with_minor_bumps_for_retraining_and_a_major_bump_for_new_classes(three_runs):
    models = {m.name: m for m in ModelLibrary().list()}
    assert {n: m.version for n, m in models.items()} == {"first": "1.0.0", "retrained": "1.1.0", "fewer-classes": "2.0.0"}
    assert [n for n, m in models.items() if m.active] == ["first"]  # the first of a line is active until changed
    assert {m.line for m in models.values()} == {("surface", "front", "detect")}  # the engine's default side
    listed = json.loads(cli("models", "list", "--json").stdout)
    assert sorted(m["name"] for m in listed) == ["fewer-classes", "first", "retrained"]
    for entry in listed:
        assert set(entry) >= {"name", "version", "line", "classes", "active", "run", "metrics"}
        assert set(entry["line"]) == {"task", "side", "arch"}
    assert resolve_model("retrained@1.1.0").folder == three_runs[1] / "model"
    assert resolve_model("first").folder == three_runs[0] / "model"


def test_names_are_unique(three_runs):
    library = ModelLibrary()
    with pytest.raises(ConfigError, match="already in the library"):
        library.rename("retrained", "first")
    result = cli("models", "rename", "retrained", "first")
    assert result.returncode == 2 and "already in the library" in result.stderr
    assert cli("models", "rename", "retrained", "second-try").returncode == 0
    assert ModelLibrary().get("second-try").version == "1.1.0"


def test_one_active_per_line_and_deleting_it_promotes_the_newest_and_says_so(three_runs):
    assert cli("models", "activate", "fewer-classes").returncode == 0
    active = [m.name for m in ModelLibrary().list() if m.active]
    assert active == ["fewer-classes"]
    result = cli("models", "delete", "fewer-classes")
    assert result.returncode == 0, result.stderr
    assert "retrained@1.1.0 is now the active model" in result.stderr
    assert (three_runs[2] / "events.jsonl").is_file() and (three_runs[2] / "model").is_dir()  # the run stays
    names = [m.name for m in ModelLibrary().list()]
    assert "fewer-classes" not in names  # and does not come back on the next read
    assert [m.name for m in ModelLibrary().list() if m.active] == ["retrained"]


def test_a_run_deleted_with_runs_delete_leaves_the_library(three_runs):
    assert ModelLibrary().get("first").active
    shutil.rmtree(three_runs[0])
    library = ModelLibrary()
    assert library.find("first") is None
    assert [m.name for m in library.list() if m.active] == ["fewer-classes"]  # the newest remaining


def test_importing_a_foreign_pt_reads_its_classes_and_leaves_the_file_alone(surface_model, tmp_path, home):
    from cardgrader.yolo_runtime import configure_environment

    configure_environment()
    from ultralytics import YOLO

    foreign = tmp_path / "downloads" / "foreign model.pt"
    foreign.parent.mkdir()
    YOLO("yolo11n.yaml").save(foreign)  # a checkpoint made elsewhere: 80 classes named "0" to "79"
    digest = hashlib.sha256(foreign.read_bytes()).hexdigest()
    refused = cli("models", "import", foreign)
    assert refused.returncode == 2 and "--task" in refused.stderr  # its class names say nothing about cards
    result = cli("models", "import", foreign, "--task", "border", "--side", "front", "--json")
    assert result.returncode == 0, result.stderr
    entry = json.loads(result.stdout)
    assert entry["name"] == "foreign model" and entry["version"] == "1.0.0" and entry["active"]
    assert entry["line"] == {"task": "border", "side": "front", "arch": "detect"} and len(entry["classes"]) == 80
    assert hashlib.sha256(foreign.read_bytes()).hexdigest() == digest
    package = resolve_model("foreign model")
    assert package.weights.is_file() and package.weights != foreign and package.classes[:2] == ["0", "1"]
    # the surface model's own classes tell its task; a second import under the same name is refused
    surface = cli("models", "import", surface_model.package / "best.pt", "--name", "shared surface", "--json")
    assert surface.returncode == 0, surface.stderr
    assert json.loads(surface.stdout)["line"]["task"] == "surface"
    again = cli("models", "import", foreign, "--task", "border", "--name", "shared surface")
    assert again.returncode == 2 and "already in the library" in again.stderr
    deleted = cli("models", "delete", "foreign model")
    assert deleted.returncode == 0 and not package.folder.exists() and foreign.is_file()
