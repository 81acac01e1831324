"""Acceptance 3: what `data import` builds trains with the engine for detect, segment and obb, with no edits —
real Ultralytics training through the CLI — and the grader's source folder is untouched afterwards."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cardgrader.data.sample import generate
from tests.conftest import tree_digest

CLI = [sys.executable, "-m", "cardgrader"]


def cli(*args, timeout=300):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("arch,border,out", [("detect", "dual", "given"), ("segment", "dual", "given"),
                                             ("obb", "outer", "default")])
def test_imported_data_trains(tmp_path, home, arch, border, out):
    source = tmp_path / "meine Karten"
    generate(source, count=8, seed=11, size=(128, 128), defect_rate=0.5)
    odd = next((source / "images").glob("*_back.jpg"))
    odd.write_bytes(odd.read_bytes() + b"\x00maker notes")  # Ultralytics re-saves such JPEGs: must be copied
    before = tree_digest(source)

    args = ["data", "import", source, "--arch", arch, "--task", "border", "--border", border, "--json"]
    if out == "given":
        args += ["--out", tmp_path / "built"]
    result = cli(*args)
    assert result.returncode == 0, result.stderr
    built = json.loads(result.stdout)
    if out == "default":
        assert Path(built["root"]).parent == home / "datasets"  # used by the engine as it is, not mirrored

    config = tmp_path / "run.yaml"
    config.write_text(f"arch: {arch}\ntask: border\nborder: {border}\nworkers: 0\nplots: false\n"
                      "patience: 0\naugment: light\n", encoding="utf-8")
    if out == "default":  # the settings file the import writes beside its data.yaml
        config = Path(built["root"]) / "train.yaml"
    trained = cli("train", "--config", config, "--data", built["data_yaml"], "--epochs", 1, "--imgsz", 64,
                  "--batch", 4, "--json")
    assert trained.returncode == 0, trained.stderr[-3000:]
    events = [json.loads(line) for line in trained.stdout.splitlines()]
    assert events[0]["type"] == "run_started" and events[-1]["type"] == "finished", events[-1]
    log = (home / "runs" / events[0]["run"] / "log.txt").read_text(encoding="utf-8", errors="replace")
    assert "corrupt image/label" not in log and "No labels found" not in log
    assert tree_digest(source) == before
