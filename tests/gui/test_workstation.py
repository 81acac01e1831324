"""The workstation driven through its real widgets: drop data, choose what to train, train for real,
stop and resume, see the run in Runs; bad drops end in messages, never tracebacks."""

from __future__ import annotations

import pytest

from cardgrader.training.config import TrainingConfig
from tests.gui.conftest import choose, click_segment, drop, pump, type_into

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def card_folders(tmp_path_factory):
    """Three sample-card folders whose names need care: spaces, braces, unicode."""
    from cardgrader.data.sample import generate

    root = tmp_path_factory.mktemp("drops")
    folders = [root / "cards with spaces", root / "{braced} set", root / "kört ünïcode"]
    for seed, folder in enumerate(folders):
        generate(folder, count=8, seed=seed, side="both", size=(200, 260))
    return [str(f) for f in folders]


def data_ready(app) -> bool:
    return app.data_panel.task is None and app.data_panel.report is not None


def with_cards(app, card_folders) -> None:
    """This test's own data: the three folders dropped on a cleared Data panel, scanned."""
    app.data_panel.clear()
    drop(app.data_panel.drop_zone, card_folders)
    pump(app, until=lambda: data_ready(app))
    assert app.data_panel.report.counts["labelled"] == 24


def set_tiny(app, epochs: int = 2, batch: int = 4) -> None:
    app.show_panel("model")
    panel = app.model_panel
    for name, value in (("epochs", epochs), ("batch", batch), ("imgsz", 64), ("workers", 0), ("patience", 0)):
        type_into(panel.numbers[name], str(value))
    panel.plots.deselect()
    pump(app, 0.3)


def test_dropping_several_folders_fills_the_data_panel(app, card_folders):
    app.data_panel.clear()
    drop(app.data_panel.drop_zone, card_folders)
    pump(app, until=lambda: data_ready(app))
    panel = app.data_panel
    assert panel.paths == card_folders
    assert panel.report.counts["images"] == 24 and panel.report.counts["labelled"] == 24
    assert "24 images" in panel.counts_label.cget("text")
    assert panel.score_label.cget("text").isdigit()
    assert all(path in panel.sources_label.cget("text") for path in card_folders)
    pump(app, until=lambda: len(panel.thumb_grid.winfo_children()) > 0, timeout=30)
    assert len(panel.thumb_grid.winfo_children()) == 24
    ready, reason = panel.readiness()
    assert ready, reason


def test_every_selector_changes_the_config_and_class_list(app, card_folders):
    app.show_panel("model")
    panel = app.model_panel
    for label, value in (("Segmentation", "segment"), ("Oriented boxes", "obb"), ("Detection", "detect")):
        click_segment(panel.arch, label)
        pump(app, 0.3)
        assert panel.config.arch == value
    click_segment(panel.task, "Corners")
    pump(app, 0.3)
    assert panel.config.task == "corners" and panel.config.class_names == ["corner_sharp", "corner_worn"]
    assert panel.classes_entry.get() == "corner_sharp, corner_worn"
    assert panel.border.cget("state") == "disabled"
    click_segment(panel.task, "Border")
    click_segment(panel.border, "Outer")
    pump(app, 0.3)
    assert panel.config.class_names == ["outer_border"] and panel.border.cget("state") == "normal"
    click_segment(panel.border, "Dual")
    pump(app, 0.3)
    assert panel.config.class_names == ["outer_border", "inner_border"]
    type_into(panel.classes_entry, "card_edge")
    pump(app, 0.3)
    assert panel.config.class_names == ["card_edge"]  # one class, edited by the grader
    panel.reset_classes_button.invoke()
    pump(app, 0.3)
    assert panel.config.class_names == ["outer_border", "inner_border"]
    click_segment(panel.side, "Back")
    click_segment(panel.size, "s")
    choose(panel.family, "yolov8")
    choose(panel.optimizer, "AdamW")
    choose(panel.device, "cpu")
    click_segment(panel.augment, "Heavy")
    pump(app, 0.3)
    c = panel.config
    assert (c.side, c.size, c.family, c.optimizer, c.device, c.augment) == ("back", "s", "yolov8", "AdamW", "cpu", "heavy")

    type_into(panel.numbers["imgsz"], "100")
    pump(app, 0.3)
    assert panel.config is None
    assert "multiple of 32" in panel.fields["imgsz"].message.cget("text")
    assert app.train_panel.start_button.cget("state") == "disabled"
    type_into(panel.numbers["imgsz"], "64")
    pump(app, 0.3)
    assert panel.config is not None and panel.fields["imgsz"].error is None
    assert app.train_panel.start_button.cget("state") == "normal"
    remembered = app.model_panel.values()
    from cardgrader.gui.panels.model import ModelPanel

    again = ModelPanel(app.content, app)  # what the next launch builds from the saved settings
    pump(app, 0.5)
    assert again.values() == remembered and again.config == panel.config
    again.destroy()
    panel.set_config(TrainingConfig(side="both"))
    pump(app, 0.3)


def test_start_trains_for_real_and_the_run_appears_in_runs(app, card_folders):
    with_cards(app, card_folders)
    set_tiny(app, epochs=2)
    app.show_panel("train")
    assert app.train_panel.start_button.cget("state") == "normal", app.train_panel.ready_label.cget("text")
    app.train_panel.start_button.invoke()
    train = app.train_panel
    headers = []  # what the header says while the run trains (not "Add card photos…", not "Ready")

    def finished() -> bool:
        if train.run_id is not None and train.progress.batches:
            headers.append(train.ready_label.cget("text"))
        return train.run_id is not None and train.progress.status is not None

    pump(app, until=finished, timeout=240)
    assert train.progress.status == "finished", train.status.cget("text")
    assert headers and all(h == "Training (Stop ends it; it stays resumable)." for h in headers[:-1]), set(headers)
    assert train.bar.get() == pytest.approx(1.0)
    assert "finished after 2 of 2 epochs" in train.status.cget("text")
    pump(app, 1.5)
    assert train.charts.loss.point_count > 0 and train.charts.metrics.point_count >= 8
    assert "Preparing the dataset" in train.visible_log()  # the run built its dataset from the dropped folders
    assert "Dataset ready: " in train.visible_log()
    app.show_panel("runs")
    pump(app, 0.3)
    row = app.runs_panel.table.item(train.run_id)["values"]
    assert "finished" in row and "2/2" in row


def test_stop_mid_epoch_then_resume_finishes_the_run(app, card_folders):
    with_cards(app, card_folders)
    set_tiny(app, epochs=3, batch=2)
    app.show_panel("train")
    train = app.train_panel
    previous = train.run_id
    train.start_button.invoke()
    assert train.run_id is None and train.bar.get() == 0  # the last run's figures are gone at once
    pump(app, until=lambda: train.run_id not in (None, previous) and train.progress.epoch == 2
         and train.progress.batch >= 2, timeout=240)
    run_id = train.run_id
    train.stop_button.invoke()
    pump(app, until=lambda: train.progress.status is not None, timeout=15)
    assert train.progress.status == "cancelled"
    assert "Cancelled after 1 of 3 epochs" in train.status.cget("text")
    assert train.resume_button.cget("state") == "normal"
    train.resume_button.invoke()
    pump(app, until=lambda: train.progress.status is not None, timeout=240)
    assert train.progress.status == "finished" and train.run_id == run_id
    epochs = [e["epoch"] for e in app.bridge.store.events(run_id) if e["type"] == "epoch"]
    assert epochs == [1, 2, 3]
    pump(app, 1.5)
    assert max(train.charts.metrics.series["mAP50"][0]) == 3  # the chart continued, not restarted


def test_closing_during_training_asks_first(app, card_folders):
    train = app.train_panel
    with_cards(app, card_folders)
    set_tiny(app, epochs=3, batch=2)
    app.show_panel("train")
    train.start_button.invoke()
    pump(app, until=lambda: train.run_id is not None and train.progress.batch >= 1, timeout=240)
    dialogs = []

    def answer_no():
        from cardgrader.gui.dialogs import ConfirmDialog

        found = [w for w in app.winfo_children() if isinstance(w, ConfirmDialog)]
        dialogs.extend(found)
        found[0].no_button.invoke()

    app.after(400, answer_no)
    app.on_close()  # the window's close button
    assert dialogs and app.winfo_exists()  # it asked, and "Cancel" kept the app open
    train.stop_button.invoke()
    pump(app, until=lambda: train.progress.status is not None, timeout=15)
    assert train.progress.status == "cancelled"


@pytest.mark.parametrize("kind", ["text file", "empty folder", "corrupt images"])
def test_bad_drops_show_messages_not_tracebacks(app, tmp_path, kind, home):
    from cardgrader.data.sample import generate

    if kind == "text file":
        target = tmp_path / "notes.txt"
        target.write_text("not a picture\n")
    elif kind == "empty folder":
        target = tmp_path / "empty"
        target.mkdir()
    else:
        target = tmp_path / "broken"
        generate(target, count=3, seed=5, size=(160, 200))
        jpgs = sorted((target / "images").glob("*.jpg"))
        jpgs[0].write_bytes(jpgs[0].read_bytes()[:300])
        jpgs[1].write_text("this is text, not a JPEG")
    app.data_panel.clear()
    drop(app.data_panel.drop_zone, [str(target)])
    pump(app, until=lambda: app.data_panel.task is None, timeout=60)
    shown = app.data_panel.findings_box.get("1.0", "end") + app.last_message[0]
    expected = {"text file": [f"{target} is a file, not a folder of images and labels"],
                "empty folder": [f"{target} is empty"],
                "corrupt images": ["card_00000_front.jpg is not a readable JPEG",
                                   "card_00001_back.jpg is named like an image but holds text"]}[kind]
    assert all(sentence in shown for sentence in expected), shown
    assert "Traceback" not in shown
    assert not (home / "logs" / "gui.log").exists()
    ready, reason = app.data_panel.readiness()
    assert not ready and reason


def test_cancelling_a_scan_stops_it_and_a_late_result_is_ignored(app, card_folders):
    panel = app.data_panel
    panel.clear()
    drop(panel.drop_zone, card_folders)
    assert panel.busy and panel.progress_frame.winfo_manager()  # progress shows while scanning
    panel.cancel_button.invoke()
    assert not panel.busy
    pump(app, 3.0)  # the worker may still finish; what it returns must not land
    assert panel.scan is None and panel.report is None
    ready, reason = panel.readiness()
    assert not ready and "stopped" in reason
    drop(panel.drop_zone, card_folders[:1])  # adding data again scans again, fully
    pump(app, until=lambda: data_ready(app))
    assert panel.report.counts["images"] == 24


def test_stop_at_once_after_start_trains_nothing(app, card_folders):
    """Stop pressed the moment after Start (the run is being created or builds its dataset) ends the run
    cancelled before its first epoch; Start works again."""
    with_cards(app, card_folders)
    train = app.train_panel
    set_tiny(app, epochs=2)
    app.show_panel("train")
    before = {r.id for r in app.bridge.store.list()}
    train.start_button.invoke()
    assert train.stop_button.cget("state") == "normal"  # Stop works before the run exists
    train.stop_button.invoke()
    pump(app, until=lambda: train.run_id is not None and train.progress.status is not None, timeout=120)
    assert train.progress.status == "cancelled", train.status.cget("text")
    pump(app, until=lambda: app.bridge.engine.active_run is None, timeout=30)
    new = [r for r in app.bridge.store.list() if r.id not in before]
    assert [(r.id, r.status, r.epochs_done) for r in new] == [(train.run_id, "cancelled", 0)]
    assert not [e for e in app.bridge.store.events(train.run_id) if e["type"] in ("batch", "epoch")]
    assert train.start_button.cget("state") == "normal"


def test_the_gui_and_train_with_two_data_options_build_the_same_dataset(app, card_folders, gui_home, tmp_path):
    """Two folders dropped with split 0.5/0.5 and seed 7, trained from the Train panel; then
    `cardgrader train --data A --data B --split 0.5,0.5,0 --seed 7` with the same settings: one dataset."""
    import json
    import os
    import subprocess
    import sys

    import yaml

    app.data_panel.clear()
    drop(app.data_panel.drop_zone, card_folders[:2])
    pump(app, until=lambda: data_ready(app))
    app.show_panel("data")
    app.data_panel.finish_building()
    click_segment(app.data_panel.tabs._segmented_button, "Split")  # the grader opens the Split tab
    pump(app, 0.2)
    for name, value in (("train", "0.5"), ("val", "0.5"), ("test", "0"), ("seed", "7")):
        type_into(app.data_panel.split_entries[name], value)
    assert (app.workstation.split, app.workstation.seed) == ("0.5,0.5,0", 7)
    set_tiny(app, epochs=1)
    click_segment(app.model_panel.side, "Both")
    pump(app, until=lambda: app.model_panel.config.side == "both", timeout=5)
    app.show_panel("train")
    train = app.train_panel
    train.start_button.invoke()
    pump(app, until=lambda: train.run_id is not None and train.progress.status is not None, timeout=240)
    assert train.progress.status == "finished", train.status.cget("text")
    gui_run = app.bridge.store.folder(train.run_id)
    gui_dataset = json.loads((gui_run / "model" / "metadata.json").read_text())["dataset"]
    config = app.model_panel.config
    app.show_panel("data")
    for name, value in (("train", "0.8"), ("val", "0.2"), ("seed", "0")):  # the defaults again, for the tests after
        type_into(app.data_panel.split_entries[name], value)
    assert (app.workstation.split, app.workstation.seed) == ("0.8,0.2,0", 0)

    settings = tmp_path / "settings.yaml"  # the Model panel's settings, as a grader would save them
    settings.write_text(yaml.safe_dump({**config.to_dict(), "data": "", "name": "from-the-cli"}), encoding="utf-8")
    cli = subprocess.run(
        [sys.executable, "-m", "cardgrader", "train", "--config", settings, "--data", card_folders[0],
         "--data", card_folders[1], "--split", "0.5,0.5,0", "--seed", "7", "--json"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "CARDGRADER_HOME": str(gui_home)})
    assert cli.returncode == 0, cli.stderr
    cli_run = gui_home / "runs" / json.loads(cli.stdout.splitlines()[0])["run"]
    cli_dataset = json.loads((cli_run / "model" / "metadata.json").read_text())["dataset"]
    requests = [json.loads((run / "request.json").read_text()) for run in (gui_run, cli_run)]
    assert cli_dataset["fingerprint"] == gui_dataset["fingerprint"], json.dumps(requests)
    assert cli_dataset["counts"] == gui_dataset["counts"] == {"train": 8, "val": 8}
    assert "reused: the sources are unchanged" in (cli_run / "log.txt").read_text()
