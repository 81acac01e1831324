"""The queue in the window: "Add to queue" on the Train panel, the Queue panel runs the jobs in order
with the window's engine (the Train panel follows each), reorders and removes; the data folder change
in Settings takes full effect at once and is refused while a model trains."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cardgrader import paths
from cardgrader.training.job_queue import JobQueue
from tests.gui.conftest import drop, pump, type_into

pytestmark = pytest.mark.gui
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


@pytest.fixture(scope="module")
def cards(tmp_path_factory):
    from cardgrader.data.sample import generate

    folder = tmp_path_factory.mktemp("queue-cards") / "cards"
    generate(folder, count=8, seed=4, side="both", size=(160, 200))
    return str(folder)


def ready_with(app, folder: str, epochs: int, name: str) -> None:
    if app.data_panel.paths != [folder] or app.data_panel.report is None:
        app.data_panel.clear()
        drop(app.data_panel.drop_zone, [folder])
        pump(app, until=lambda: app.data_panel.task is None and app.data_panel.report is not None)
    app.show_panel("model")
    panel = app.model_panel
    for field, value in (("epochs", epochs), ("batch", 4), ("imgsz", 64), ("workers", 0), ("patience", 0)):
        type_into(panel.numbers[field], str(value))
    panel.plots.deselect()
    pump(app, 0.3)
    app.show_panel("train")
    type_into(app.train_panel.name_entry, name)


def test_jobs_added_in_the_window_run_in_order_and_the_train_panel_follows_them(app, cards, home):
    for job in JobQueue().jobs():
        JobQueue().remove(job.id)
    ready_with(app, cards, 1, "queued-first")
    app.train_panel.queue_button.invoke()
    ready_with(app, cards, 2, "queued-second")
    app.train_panel.queue_button.invoke()
    ready_with(app, cards, 1, "queued-third")
    app.train_panel.queue_button.invoke()
    app.show_panel("queue")
    queue_panel = app.panel("queue")
    pump(app, 0.3)
    assert [queue_panel.table.set(i, "name") for i in queue_panel.table.get_children()] == \
        ["queued-first", "queued-second", "queued-third"]

    third = queue_panel.table.get_children()[2]  # the grader moves the third job up, then removes it
    queue_panel.table.selection_set(third)
    pump(app, 0.1)
    queue_panel.buttons["up"].invoke()
    assert [j.name for j in JobQueue().jobs()] == ["queued-first", "queued-third", "queued-second"]
    queue_panel.table.selection_set(third)
    pump(app, 0.1)
    queue_panel.buttons["remove"].invoke()
    assert [j.name for j in JobQueue().jobs()] == ["queued-first", "queued-second"]

    queue_panel.buttons["run"].invoke()
    assert app.queue_running() and queue_panel.buttons["run"].cget("text") == "Stop queue"
    pump(app, 1.5)
    from cardgrader.gui.demo import screenshot

    screenshot(app, SHOTS / "queue-running.png")
    assert app.train_panel.start_button.cget("state") == "disabled"  # one training at a time
    followed = []
    pump(app, until=lambda: (followed.append(app.train_panel.run_id) or True) and not app.queue_running(),
         timeout=300)
    pump(app, 1.2)
    jobs = JobQueue().jobs()
    assert [(j.name, j.status) for j in jobs] == [("queued-first", "finished"), ("queued-second", "finished")]
    assert {j.run for j in jobs} <= set(followed)  # the Train panel showed each job's run
    assert app.train_panel.run_id == jobs[1].run and app.train_panel.progress.status == "finished"
    assert app.bridge.store.get(jobs[1].run).epochs_done == 2
    assert [queue_panel.table.set(i, "status") for i in queue_panel.table.get_children()] == ["finished"] * 2
    assert "The queue is done: 2 finished." in app.last_message[0]
    app.show_panel("train")
    screenshot(app, SHOTS / "queue-train-followed.png")
    app.show_panel("queue")
    queue_panel.buttons["clear"].invoke()
    assert JobQueue().jobs() == []


def test_changing_the_data_folder_moves_runs_datasets_lock_and_settings_at_once(app, cards, home, tmp_path,
                                                                                 monkeypatch):
    settings = app.panel("settings")
    assert settings.change_button.cget("state") == "disabled"  # CARDGRADER_HOME decides in these tests
    app.change_data_folder(str(tmp_path / "elsewhere"))
    assert "CARDGRADER_HOME" in app.last_message[0] and paths.home() == home

    monkeypatch.delenv("CARDGRADER_HOME")
    paths.choose_home(home)  # where the window's data lives, now chosen in Settings
    settings.show_home()
    assert settings.change_button.cget("state") == "normal"
    old_runs = {r.id for r in app.bridge.store.list()}
    assert old_runs, "the tests before left runs in the old folder"

    new_home = tmp_path / "new data folder"
    monkeypatch.setattr("cardgrader.gui.panels.settings.filedialog.askdirectory", lambda **_k: str(new_home))
    settings.change_button.invoke()
    assert paths.home() == new_home
    assert app.bridge.store.root == new_home / "runs" and app.bridge.store.list() == []
    assert not app.runs_panel.table.get_children()  # the Runs panel shows the new folder's (no) runs
    assert app.settings.path == new_home / "settings.json" and app.settings.path.is_file()
    assert str(new_home) in settings.home_label.cget("text")

    ready_with(app, cards, 1, "in-the-new-folder")
    app.train_panel.start_button.invoke()
    pump(app, until=lambda: app.bridge.engine.active_run is not None, timeout=60)
    assert json.loads((new_home / "training.lock").read_text())["run"] == app.bridge.engine.active_run
    app.change_data_folder(str(home))  # refused while the model trains
    assert "A model is training" in app.last_message[0] and paths.home() == new_home
    pump(app, until=lambda: app.train_panel.progress.status is not None, timeout=120)
    assert app.train_panel.progress.status == "finished"
    run_id = app.train_panel.run_id
    assert (new_home / "runs" / run_id / "model").is_dir()
    assert any((new_home / "datasets").iterdir())  # its dataset was built in the new folder

    settings.default_button.configure(command=lambda: app.change_data_folder(str(home)))  # back, for the tests after
    settings.default_button.invoke()
    assert paths.home() == home and {r.id for r in app.bridge.store.list()} == old_runs
    paths.choose_home(None)
