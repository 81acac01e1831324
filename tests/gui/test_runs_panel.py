"""The Runs panel where the desktop has no file manager: Open folder says where the run's folder is and
puts its path on the clipboard (instead of "Something went wrong (FileNotFoundError …)" and no path)."""

from __future__ import annotations

from cardgrader.gui.panels import runs
from cardgrader.training import events
from cardgrader.training.config import TrainingConfig
from tests.gui.conftest import pump


def test_open_folder_without_a_file_manager_says_where_the_folder_is(app, monkeypatch):
    store = app.bridge.engine.store
    record = store.create(TrainingConfig(epochs=1, imgsz=64, name="no file manager"))
    store.record_event(record.id, {"type": events.CANCELLED, "time": record.started})  # a run that stopped
    monkeypatch.setattr(runs.shutil, "which", lambda _name: None)  # no xdg-open / open on this desktop
    app.show_panel("runs")
    app.runs_panel.refresh()
    pump(app, 0.3)
    app.runs_panel.table.selection_set([record.id])
    pump(app, 0.2)
    app.runs_panel.buttons["open"].invoke()
    folder = str(store.folder(record.id))
    text, level = app.last_message
    assert level == "warning" and folder in text and "copied to the clipboard" in text
    assert app.clipboard_get() == folder
    store.delete(record.id)


def test_rename_starts_with_the_runs_name(app):
    from cardgrader.gui.dialogs import TextDialog

    store = app.bridge.engine.store
    record = store.create(TrainingConfig(epochs=1, imgsz=64, name="front outer"))
    store.record_event(record.id, {"type": events.CANCELLED, "time": record.started})
    app.show_panel("runs")
    app.runs_panel.refresh()
    pump(app, 0.3)
    app.runs_panel.table.selection_set([record.id])
    pump(app, 0.2)
    seen = []

    def rename():
        [dialog] = [w for w in app.winfo_children() if isinstance(w, TextDialog)]
        seen.append(dialog.entry.get())
        dialog.entry.delete(0, "end")
        dialog.entry.insert(0, "front outer v2")
        dialog.ok_button.invoke()

    app.after(400, rename)
    app.runs_panel.buttons["rename"].invoke()
    assert seen == ["front outer"] and store.get(record.id).name == "front outer v2"
    store.delete(record.id)
