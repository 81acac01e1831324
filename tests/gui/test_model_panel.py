"""The Model panel keeps what the grader typed: a change of task fills only the fields the grader has not
set, a preset is exactly that preset, official weights that are not on this computer are marked at once,
From scratch shows no weights file, the learning rate says when optimizer auto ignores it, and presets are
replaced only when asked and can be deleted."""

from __future__ import annotations

from cardgrader.training import presets
from tests.gui.conftest import choose, click_segment, pump, type_into


def _settle(app) -> None:
    pump(app, 0.3)


def test_a_task_change_keeps_the_epochs_the_grader_typed_and_says_what_it_set(app):
    app.show_panel("model")  # typing reaches a field that is on screen
    panel = app.model_panel
    panel.use_preset("standard")
    click_segment(panel.task, "Border")
    type_into(panel.numbers["epochs"], "3")
    _settle(app)
    click_segment(panel.task, "Surface")
    _settle(app)
    surface = presets.task_defaults("surface")
    assert panel.numbers["epochs"].get() == "3"  # was replaced by the profile's 200
    assert panel.numbers["imgsz"].get() == str(surface["imgsz"]) and panel.config.epochs == 3
    note = panel.task_note.cget("text")
    assert f"image size {surface['imgsz']}" in note and "kept what you set: epochs 3" in note
    click_segment(panel.task, "Edges")  # a field the grader never touched follows each task's profile
    _settle(app)
    assert panel.numbers["imgsz"].get() == str(presets.task_defaults("edges")["imgsz"])
    assert panel.numbers["epochs"].get() == "3"
    panel.use_preset("standard")  # a preset is a fresh start: the next task change fills every field
    _settle(app)
    assert app.workstation.touched == set() and panel.task_note.cget("text") == ""


def test_a_preset_gives_exactly_that_preset_whatever_was_chosen_before(app):
    panel = app.model_panel
    choose(panel.preset, "quick-test")
    _settle(app)
    assert panel.config.epochs == presets.load_preset("quick-test").epochs
    choose(panel.preset, "border-front-dual")
    _settle(app)
    wanted = presets.load_preset("border-front-dual").updated(device=panel.device.get()).to_dict()
    assert panel.config.to_dict() == wanted  # quick-test's batch, patience, workers and plots do not linger
    assert app.last_message == ("Preset 'border-front-dual' applied: exactly its values, as `--preset "
                                "border-front-dual` trains.", "info")


def test_official_weights_that_are_not_here_are_marked_and_from_scratch_shows_no_file(app):
    panel = app.model_panel
    panel.use_preset("standard")
    click_segment(panel.weights_kind, "Official pretrained")
    _settle(app)
    name = panel.weights_entry.get()
    assert name.endswith(".pt")
    error = panel.fields["weights"].error  # not on disk and downloads off: marked, and Start stays off
    assert panel.config is None and error and f"{name} are not on this computer" in error and "--weights" not in error
    app.refresh_start_state()
    assert app.train_panel.start_button.cget("state") == "disabled"
    click_segment(panel.weights_kind, "From scratch")
    _settle(app)
    assert panel.weights_entry.get() == "" and panel.config.weights == "scratch"


def _answer(app, kind, act, delay=400):
    """Answer the next dialog of class `kind` (from cardgrader.gui.dialogs) with `act(dialog)`."""
    from cardgrader.gui import dialogs

    seen = []

    def answer():
        found = [w for w in app.winfo_children() if isinstance(w, getattr(dialogs, kind))]
        seen.extend(found)
        act(found[0])

    app.after(delay, answer)
    return seen


def test_the_learning_rate_says_when_optimizer_auto_ignores_it(app):
    from cardgrader.gui.panels.model import LR_AUTO_HINT

    panel = app.model_panel
    app.show_panel("model")
    choose(panel.optimizer, "auto")
    _settle(app)
    field = panel.fields["lr0"]
    assert field.message.cget("text") == LR_AUTO_HINT and field.message.winfo_ismapped()
    choose(panel.optimizer, "SGD")
    _settle(app)
    assert not field.message.winfo_ismapped()


def test_save_as_asks_before_replacing_a_preset_and_a_user_preset_can_be_deleted(app, home):
    panel = app.model_panel
    app.show_panel("model")
    panel.use_preset("quick-test")
    _settle(app)

    def name_it(dialog):
        dialog.entry.delete(0, "end")
        dialog.entry.insert(0, "mine")
        dialog.ok_button.invoke()

    _answer(app, "TextDialog", name_it)
    panel.preset_buttons["save"].invoke()
    assert "mine" in panel._preset_names() and panel.preset.get() == "mine"
    type_into(panel.numbers["epochs"], "7")
    _settle(app)
    prompts = _answer(app, "TextDialog", lambda d: d.ok_button.invoke())  # starts with "mine": OK keeps it
    refusals = _answer(app, "ConfirmDialog", lambda d: d.no_button.invoke(), delay=900)
    panel.preset_buttons["save"].invoke()
    assert prompts and prompts[0].result == "mine" and refusals  # it asked, and "Cancel" kept the old one
    assert presets.load_preset("mine").epochs == presets.load_preset("quick-test").epochs
    _answer(app, "ConfirmDialog", lambda d: d.yes_button.invoke())
    panel.preset_buttons["delete"].invoke()
    assert "mine" not in panel._preset_names() and not (home / "presets" / "mine.yaml").exists()
