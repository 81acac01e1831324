"""The Models and Predict panels driven through their real widgets, with a border model Ultralytics
trained for real: the library's rows change as a grader activates, renames, deletes and imports; dropped
photos are predicted in a child process, a corrupt one is named, and the confidence slider re-filters
what came back without running the model again."""

from __future__ import annotations

import itertools
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.gui.conftest import choose, drop, pump, type_into

pytestmark = pytest.mark.gui
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
_copies = itertools.count(1)


@dataclass
class BorderModel:
    run_id: str
    package: Path  # <its own home>/runs/<id>/model
    photos: list[Path]  # the sample cards it trained on


@pytest.fixture(scope="module")
def border_model(gui_home, tmp_path_factory) -> BorderModel:
    """A dual-border detector trained for real by the engine in its own data dir: about 40 s on a CPU,
    enough that it finds borders on its own cards above 1 % confidence (a 1-epoch model finds nothing)."""
    from cardgrader.data.sample import write_training_set
    from cardgrader.training.config import TrainingConfig

    root = tmp_path_factory.mktemp("border-model")
    data = write_training_set(root / "dataset", "detect", 40, seed=0, size=(128, 160),
                              classes=("outer_border", "inner_border"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CARDGRADER_HOME", str(root / "home"))
        from cardgrader.training.engine import Engine

        engine = Engine()
        try:
            run_id = engine.start(TrainingConfig(task="border", side="both", arch="detect", data=str(data), epochs=30,
                                                 imgsz=128, batch=4, workers=0, plots=False, augment="light",
                                                 patience=0, name="border finder"))
            status = engine.wait(run_id, timeout=600)
        finally:
            engine.shutdown()
    assert status == "finished", f"training the border model ended {status}"
    return BorderModel(run_id, root / "home" / "runs" / run_id / "model", sorted((root / "dataset").rglob("*.jpg")))


def add_finished_run(home: Path, model) -> str:
    """The trained model's package as a new finished run of this home (the library adds it by itself);
    returns the run folder's name."""
    run = f"{model.run_id}-copy{next(_copies)}"
    shutil.copytree(model.package, home / "runs" / run / "model")
    return run


def open_in_models(app, home: Path, model) -> tuple:
    """A new finished run of `model`, selected on the Models panel as a grader clicks its row."""
    run = add_finished_run(home, model)
    app.show_panel("models")
    panel = app.panel("models")
    panel.buttons["refresh"].invoke()
    label = label_of(run)
    panel.table.selection_set([label])
    pump(app, 0.2)
    return panel, label


def label_of(run: str) -> str:
    from cardgrader.models.library import ModelLibrary

    [entry] = [m for m in ModelLibrary().list() if m.run == run]
    return entry.label


def row(panel, label: str) -> dict:
    values = panel.table.item(label)["values"]
    return dict(zip(("active", "line", "name", "version", "map50", "map", "classes"), (str(v) for v in values)))


def answer_dialog(app, yes: bool) -> list:
    """Press Delete (or Cancel) in the confirmation dialog as soon as it is open."""
    seen = []

    def press():
        from cardgrader.gui.dialogs import ConfirmDialog

        found = [w for w in app.winfo_children() if isinstance(w, ConfirmDialog)]
        if not found:
            app.after(100, press)
            return
        seen.append(found[0])
        (found[0].yes_button if yes else found[0].no_button).invoke()

    app.after(300, press)
    return seen


def shoot(app, name: str) -> None:
    from cardgrader.gui.demo import screenshot

    for mode in ("dark", "light"):
        app.apply_theme(mode)
        pump(app, 0.6)
        screenshot(app, SHOTS / f"{name}-{mode}.png")
    app.apply_theme("dark")
    pump(app, 0.2)


def test_the_library_lists_activates_renames_and_deletes_models(app, home, border_model):
    first, second = add_finished_run(home, border_model), add_finished_run(home, border_model)
    app.show_panel("models")
    panel = app.panel("models")
    panel.buttons["refresh"].invoke()
    a, b = label_of(first), label_of(second)
    assert a in panel.table.get_children() and b in panel.table.get_children()
    assert row(panel, b)["line"] == "Border / both / Detection"
    assert row(panel, b)["classes"] == "outer_border, inner_border"
    assert row(panel, b)["map"] == f"{border_model_metric(border_model, 'mAP50_95'):.3f}"
    versions = sorted(tuple(int(p) for p in row(panel, x)["version"].split(".")) for x in (a, b))
    assert versions[0][0] == versions[1][0] and versions[1][1] == versions[0][1] + 1  # same classes: a minor bump

    line = [label for label in panel.table.get_children() if row(panel, label)["line"] == "Border / both / Detection"]
    target, other = (b, a) if row(panel, b)["active"] == "" else (a, b)  # one line has one active model
    panel.table.selection_set([target])
    pump(app, 0.2)
    assert target in panel.facts.cget("text") and "outer_border, inner_border" in panel.facts.cget("text")
    assert panel.buttons["activate"].cget("state") == "normal"
    panel.buttons["activate"].invoke()
    pump(app, 0.2)
    assert [label for label in line if row(panel, label)["active"] == "●"] == [target]
    assert f"{target} is now the active model" in panel.message.cget("text")
    assert panel.buttons["activate"].cget("state") == "disabled"  # it already is

    new_name = f"border finder {target.split('@')[1]}-{second[-6:]}"
    type_into(panel.name_entry, new_name)
    panel.rename_button.invoke()
    pump(app, 0.2)
    renamed = f"{new_name}@{target.split('@')[1]}"
    assert renamed in panel.table.get_children() and target not in panel.table.get_children()
    assert row(panel, renamed)["name"] == new_name and row(panel, renamed)["active"] == "●"
    type_into(panel.name_entry, other.split("@")[0])  # another model's name
    panel.rename_button.invoke()
    pump(app, 0.2)
    assert "already in the library" in panel.message.cget("text")
    assert renamed in panel.table.get_children()
    shoot(app, "models-panel")

    answer_dialog(app, yes=False)
    panel.buttons["delete"].invoke()
    assert renamed in panel.table.get_children()  # Cancel kept it
    seen = answer_dialog(app, yes=True)
    panel.buttons["delete"].invoke()
    pump(app, 0.2)
    assert seen and renamed not in panel.table.get_children()
    message = panel.message.cget("text")
    assert f"Deleted {renamed}." in message and "is now the active model for border / both / detect" in message
    promoted = [label for label in panel.table.get_children() if row(panel, label)["active"] == "●"
                and row(panel, label)["line"] == "Border / both / Detection"]
    assert len(promoted) == 1 and promoted[0] in message
    runs = {first, second}
    assert all((home / "runs" / run / "model").is_dir() for run in runs)  # the runs themselves are kept


def border_model_metric(model, key: str) -> float:
    import json

    return json.loads((model.package / "metadata.json").read_text())["metrics"][key]


def test_dropping_a_pt_imports_it_and_a_damaged_one_is_refused_in_the_dialog(app, home, border_model, tmp_path):
    app.show_panel("models")
    panel = app.panel("models")
    bad = tmp_path / "damaged.pt"
    bad.write_bytes(b"not a checkpoint at all")
    drop(panel.table, [str(bad)])
    dialog = panel.import_dialog
    assert dialog is not None and dialog.winfo_exists()
    dialog.import_button.invoke()
    pump(app, until=lambda: dialog.task is None, timeout=120)
    assert dialog.winfo_exists() and "damaged.pt" in dialog.message.cget("text")
    assert dialog.import_button.cget("state") == "normal"  # the grader may change something and try again
    shoot_dialog(app, dialog, "import-refused")
    dialog.cancel_button.invoke()
    assert panel.import_dialog is None and not dialog.winfo_exists()

    weights = tmp_path / "shop border model.pt"
    shutil.copyfile(border_model.package / "best.pt", weights)
    drop(panel.table, [str(weights)])
    dialog = panel.import_dialog
    assert dialog.name_entry.get() == "shop border model" and dialog.task_menu.get() == "Guess from class names"
    name = f"shop border {tmp_path.name[-8:]}"
    type_into(dialog.name_entry, name)
    choose(dialog.side_menu, "Back")
    pump(app, 0.3)
    shoot_dialog(app, dialog, "import-dialog")
    dialog.import_button.invoke()
    pump(app, until=lambda: not dialog.winfo_exists(), timeout=180)
    label = f"{name}@1.0.0"
    assert label in panel.table.get_children(), panel.message.cget("text")
    assert row(panel, label)["line"] == "Border / back / Detection"  # the task guessed from its classes
    assert row(panel, label)["active"] == "●"  # the first of its line
    assert f"Imported {label}" in panel.message.cget("text")
    assert panel.selected_label() == label

    seen = answer_dialog(app, yes=True)
    panel.buttons["delete"].invoke()
    pump(app, 0.2)
    assert seen and label not in panel.table.get_children()
    assert "No model is active for border / back / detect any more." in panel.message.cget("text")
    assert weights.is_file()  # the grader's own file is never touched


def shoot_dialog(app, dialog, name: str) -> None:
    from PIL import ImageGrab

    for mode in ("dark", "light"):
        app.apply_theme(mode)
        pump(app, 0.5)
        dialog.lift()
        pump(app, 0.3)
        x, y = dialog.winfo_rootx(), dialog.winfo_rooty()
        SHOTS.mkdir(parents=True, exist_ok=True)
        ImageGrab.grab(bbox=(x, y, x + dialog.winfo_width(), y + dialog.winfo_height())).save(
            SHOTS / f"{name}-{mode}.png")
    app.apply_theme("dark")
    pump(app, 0.2)


@pytest.fixture
def photos(border_model, tmp_path):
    """Card photos from the model's own training set, and one file that only looks like a photo."""
    source = border_model.photos[:4]
    assert len(source) == 4, "the border training set has photos"
    folder = tmp_path / "photos to check"
    folder.mkdir()
    for path in source:
        shutil.copyfile(path, folder / path.name)
    broken = folder / "broken card.jpg"
    broken.write_text("this is text, not a JPEG")
    return sorted(str(p) for p in folder.iterdir()), str(broken)


def drag_slider(app, slider, fraction: float) -> None:
    """Press the slider's track at `fraction` of its width, as a click or drag there does."""
    canvas = slider._canvas
    canvas.event_generate("<Button-1>", x=int(canvas.winfo_width() * fraction), y=canvas.winfo_height() // 2)
    pump(app, 0.3)


def test_dropped_photos_are_predicted_and_the_slider_refilters_without_running_again(app, home, border_model,
                                                                                       photos):
    files, broken = photos
    models, label = open_in_models(app, home, border_model)
    models.buttons["predict"].invoke()  # opens the Predict panel with this model
    panel = app.panel("predict")
    assert app.current_panel == "predict" and panel.model_label() == label
    runs_before = panel.predictions_run

    drop(panel.canvas, [str(Path(broken).parent)])  # a folder: its photos are found
    pump(app, until=lambda: panel.task is None and panel.prediction is not None and panel.prediction.finished,
         timeout=180)
    prediction = panel.prediction
    assert panel.predictions_run == runs_before + 1
    assert prediction.photos == files and prediction.done == len(files)
    assert [r.name for r in prediction.failed] == ["broken card.jpg"]
    assert "cannot be read" in panel.row_text(broken)
    assert "broken card.jpg" in panel.status.cget("text") and "1 could not be read" in panel.status.cget("text")
    good = [f for f in files if f != broken]
    for photo in good:
        assert "cannot be read" not in panel.row_text(photo)
    richest = max(good, key=lambda p: len(prediction.get(p).detections))
    total = len(prediction.get(richest).detections)
    assert total > 0, "the model finds something above 1 % confidence"
    assert min(d.confidence for r in prediction.results.values() for d in r.detections) >= 0.01

    panel._rows[richest].invoke()  # the photo's row in the list
    pump(app, 0.3)
    assert panel.current == richest and panel.canvas.find_all()
    drag_slider(app, panel.slider, 0.0)
    assert panel.conf == pytest.approx(0.01)
    draws = panel.draws
    assert panel.drawn == total
    assert panel.row_text(richest).endswith(f"   {total}")
    drag_slider(app, panel.slider, 1.0)
    assert panel.conf == pytest.approx(1.0)
    assert panel.draws > draws and panel.drawn == len([d for d in prediction.get(richest).detections
                                                       if d.confidence >= 1.0]) < total
    middle = sorted(d.confidence for d in prediction.get(richest).detections)[total // 2]
    drag_slider(app, panel.slider, (middle - 0.01) / 0.99)
    expected = len([d for d in prediction.get(richest).detections if d.confidence >= panel.conf])
    assert panel.drawn == expected and f"{expected} of {total} detections" in panel.count_label.cget("text")
    assert panel.predictions_run == runs_before + 1 and panel.task is None  # filtered, never re-run

    click_zoom(panel, "100 %")
    pump(app, 0.3)
    image = prediction.get(richest)
    region = [int(float(v)) for v in str(panel.canvas.cget("scrollregion")).split()]
    assert region[2:] == [image.width, image.height]  # full size, scrollable
    click_zoom(panel, "Fit")
    pump(app, 0.3)
    drag_slider(app, panel.slider, 0.0)
    shoot(app, "predict-panel")
    panel._rows[broken].invoke()
    pump(app, 0.3)
    assert panel.drawn == 0 and "broken card.jpg" in " ".join(
        str(panel.canvas.itemcget(i, "text")) for i in panel.canvas.find_all() if panel.canvas.type(i) == "text")


def click_zoom(panel, label: str) -> None:
    panel.zoom._buttons_dict[label].invoke()


def test_a_prediction_can_be_cancelled_and_keeps_what_came_back(app, home, border_model, photos, tmp_path):
    files, broken = photos
    good = [f for f in files if f != broken]
    many = tmp_path / "many"
    many.mkdir()
    for k in range(80):
        shutil.copyfile(good[k % len(good)], many / f"card {k:03d}.png")
    label = label_of(add_finished_run(home, border_model))
    app.show_panel("data")
    app.show_panel("predict")
    panel = app.panel("predict")
    pump(app, 0.3)  # shown again: it lists the library again
    [entry] = [text for text in panel.model_menu.cget("values") if text.startswith(label + " ")]
    choose(panel.model_menu, entry)
    assert panel.model_label() == label
    drop(panel.canvas, [str(many)])
    pump(app, until=lambda: panel.prediction.done >= 1, timeout=180)
    assert panel.progress.get() > 0 and "of 80)" in panel.status.cget("text")  # progress, photo by photo
    panel.cancel_button.invoke()
    done = panel.prediction.done
    assert panel.task is None and 1 <= done < 80
    assert f"Stopped after {done} of 80 photos" in panel.status.cget("text")
    pump(app, 1.0)
    assert panel.prediction.done == done  # nothing arrives after the stop
    assert panel.cancel_button.cget("state") == "disabled" and panel.again_button.cget("state") == "normal"


def test_export_writes_an_onnx_file_and_shows_its_check(app, home, border_model):
    panel, label = open_in_models(app, home, border_model)
    panel.buttons["export"].invoke()
    assert panel.task is not None and panel.buttons["delete"].cget("state") == "disabled"  # busy with this model
    assert "Exporting" in panel.message.cget("text")
    pump(app, until=lambda: panel.task is None, timeout=300)
    result = panel.export_result
    assert result is not None, panel.message.cget("text")
    from cardgrader.models.library import ModelLibrary

    onnx = Path(ModelLibrary().get(label).package) / "best.onnx"
    assert onnx.parent.parent.parent == home / "runs"  # beside the weights, in the run's own model folder
    assert Path(result["path"]) == onnx and onnx.is_file()
    message = panel.message.cget("text")
    assert f"Exported {label} to {onnx}" in message and "verified against the .pt" in message
    assert result["verified"] is True and "worst box IoU gap" in message
    assert panel.buttons["delete"].cget("state") == "normal"
    shoot(app, "models-exported")
