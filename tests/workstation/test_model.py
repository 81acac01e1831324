"""The workstation model without Tk: sources → scan → report → split/config → a finished run, the
events a window would redraw on, and the same run request whichever way it is made."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cardgrader.errors import ConfigError, UserError
from cardgrader.training.config import TrainingConfig
from cardgrader.training.job_queue import JobQueue
from cardgrader.workstation import Workstation
from tests.conftest import tree_digest


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    from cardgrader.data.sample import generate

    root = tmp_path_factory.mktemp("workstation")
    out = []
    for seed, name in enumerate(("first box", "second box")):
        generate(root / name, count=8, seed=seed + 20, side="both", size=(160, 200))
        out.append(str(root / name))
    return out


def tiny(**overrides) -> TrainingConfig:
    values = dict(epochs=1, batch=4, imgsz=64, plots=False, workers=0, patience=0, augment="light", side="both")
    return TrainingConfig(**{**values, **overrides})


def test_sources_are_read_judged_and_counted_for_the_chosen_side(folders):
    ws = Workstation(tiny())
    seen = []
    ws.subscribe(lambda e: seen.append(e["what"]))
    assert ws.readiness() == (False, "Add card photos and labels on the Data panel (or try the sample cards).")
    ws.add_sources(folders)
    ws.add_sources(folders[:1])  # the same folder again adds nothing
    assert ws.sources == folders and ws.readiness() == (False, "Looking at your data…")
    report = ws.scan_sources()
    assert report.counts["images"] == 16 and report.counts["labelled"] == 16
    assert seen == ["sources", "scan", "report"]
    assert ws.readiness() == (True, "16 labelled images")
    assert ws.planned_images() == (13, 3)

    ws.set_config(tiny(side="front"))
    assert ws.trainable_images() == 8  # the run trains the fronts only, and the count says so
    assert ws.readiness() == (True, "8 labelled images (front side)")
    ws.set_config(tiny(task="corners"))  # another task: judged again, with its own classes
    assert seen[-2:] == ["config", "report"] and ws.report.task == "corners"
    ws.set_config(None, task="corners", border="dual")  # a wrong setting on the Model panel
    assert ws.readiness() == (False, "Fix the marked settings on the Model panel first.")
    with pytest.raises(UserError, match="Fix the marked settings"):
        ws.request()


def test_a_reading_of_sources_that_changed_since_is_ignored(folders):
    ws = Workstation(tiny())
    ws.add_sources(folders[:1])
    ticket, job = ws.scan_job()
    result = job()  # a worker finished reading the first folder...
    ws.add_sources(folders[1:])  # ...but the grader added another meanwhile
    assert ws.set_scan(ticket, result) is False and ws.scan is None
    ticket, job = ws.scan_job()
    ws.scan_was_stopped(ticket)  # Cancel
    assert ws.set_scan(ticket, job()) is False
    assert ws.readiness()[1].startswith("Scanning was stopped")


def test_a_wrong_split_or_seed_is_refused_and_the_old_one_kept(folders):
    ws = Workstation(tiny())
    with pytest.raises(ConfigError, match="--split must give train and val a share"):
        ws.set_split("0,1,0", 3)
    with pytest.raises(ConfigError, match="seed must be a whole number"):
        ws.set_split("0.7,0.3,0", "x")
    assert (ws.split, ws.seed) == ("0.8,0.2,0", 0)


def test_from_sources_to_a_finished_run_with_the_engine(folders, engine, home):
    before = {f: tree_digest(Path(f)) for f in folders}
    ws = Workstation(tiny())
    ws.add_sources(folders)
    ws.scan_sources()
    ws.set_split("0.5,0.5,0", 7)
    ws.map_class("outer_border", "outer_border")  # a grader's own mapping travels with the request
    ws.set_run_name("two boxes")
    request = ws.request()
    assert (request.sources, request.split, request.seed) == (folders, "0.5,0.5,0", 7)
    run_id = ws.start(engine)
    assert engine.wait(run_id, timeout=300) == "finished"
    record = engine.store.get(run_id)
    assert record.name == "two boxes" and record.epochs_done == 1
    saved = json.loads((home / "runs" / run_id / "request.json").read_text())
    assert saved["sources"] == folders and saved["seed"] == 7 and saved["class_map"] == {"outer_border": "outer_border"}
    metadata = json.loads((home / "runs" / run_id / "model" / "metadata.json").read_text())
    assert metadata["dataset"]["counts"] == {"train": 8, "val": 8}
    logs = (home / "runs" / run_id / "log.txt").read_text()
    assert "Preparing the dataset" in logs and "Dataset ready: 8 train, 8 val" in logs
    assert {f: tree_digest(Path(f)) for f in folders} == before  # only read

    job = ws.enqueue()  # the same request, lined up instead
    assert JobQueue().jobs()[0].request == ws.request().to_dict() and job.name == "two boxes"


def test_the_model_imports_no_tk():
    code = ("import sys; from cardgrader.workstation import Workstation; Workstation(); "
            "bad = [m for m in ('tkinter', 'customtkinter', 'torch', 'ultralytics') if m in sys.modules]; "
            "print(bad); sys.exit(bool(bad))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_task_change_fills_only_what_the_grader_did_not_set():
    from cardgrader.training.presets import task_defaults

    model = Workstation(tiny(task="border"))
    current = {"epochs": "3", "imgsz": "64", "augment": "light", "batch": "4"}
    updates, sentence = model.task_changed("surface", current)
    surface = task_defaults("surface")
    assert updates == {k: v for k, v in surface.items() if k in current and str(current[k]) != str(v)}
    assert "kept" not in sentence and f"epochs {surface['epochs']}" in sentence
    model.touch("epochs")
    updates, sentence = model.task_changed("surface", current)
    assert "epochs" not in updates and updates["imgsz"] == surface["imgsz"]
    assert sentence.endswith("kept what you set: epochs 3.")
    model.forget_touches()
    assert "epochs" in model.task_changed("surface", current)[0]
    assert model.task_changed("surface", {k: str(v) for k, v in surface.items()}) == ({}, "")
