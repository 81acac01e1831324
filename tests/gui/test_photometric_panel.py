"""The Photometric panel: a capture is solved on a worker thread and shown; a surface model and a border
model trained by the engine are checked against it; the capture folder is never written to."""

from __future__ import annotations

import pytest

from tests.conftest import tree_digest
from tests.gui.conftest import pump

pytestmark = pytest.mark.gui


def test_solve_a_capture_and_check_a_surface_model(app, tmp_path):
    from cardgrader.photometric.samples import write_surface_training_set
    from cardgrader.training.config import TrainingConfig

    app.show_panel("photometric")
    panel = app.panel("photometric")
    panel.use_sample()
    pump(app, until=lambda: panel.folder is not None and panel.task is None, timeout=60)
    before = tree_digest(panel.folder)
    panel.solve_button.invoke()
    pump(app, until=lambda: panel.task is None and panel.analysis is not None, timeout=120)
    assert len(panel.pictures.winfo_children()) == 4
    text = panel.summary.cget("text")
    assert "8 lights" in text and "surface integrity" in text and "defect regions" in text
    assert panel.analysis.defects.regions, "the sample card has planted dents, scratches and a crease"

    data = write_surface_training_set(tmp_path / "surface", count=10, size=96, seed=1)
    engine = app.bridge.engine
    run_id = engine.start(TrainingConfig(task="surface", arch="detect", data=str(data), epochs=1, batch=4, imgsz=96,
                                         workers=0, plots=False, name="surface check"))
    pump(app, until=lambda: engine.active_run is None, timeout=180)
    assert engine.store.get(run_id).status == "finished"

    app.show_panel("runs")
    pump(app, 0.5)
    app.runs_panel.table.selection_set([run_id])
    pump(app, 0.2)
    app.runs_panel.buttons["validate"].invoke()  # opens the Photometric panel with this model chosen
    assert app.current_panel == "photometric" and run_id in panel.model_menu.get()
    assert panel.kind_label.cget("text") == "Surface model: its detections are checked against the defect map."
    panel.validate_button.invoke()
    pump(app, until=lambda: panel.task is None and panel.validation_text.cget("text"), timeout=120)
    result = panel.validation_text.cget("text")
    assert "Precision" in result and "recall" in result and str(engine.store.folder(run_id)) in result
    assert panel.overlay.cget("image") is not None
    assert tree_digest(panel.folder) == before  # the capture is only read


def test_check_a_border_model_against_the_card_outline(app, tmp_path):
    """A border model is offered beside surface models; its check finds the card's outline in the
    capture's normals and reports the outer border against it (a one-epoch model finds no border)."""
    from cardgrader.data.sample import write_training_set
    from cardgrader.training.config import TrainingConfig
    from tests.photometric.perimeter_cards import perimeter_capture

    data = write_training_set(tmp_path / "borders", "detect", 10, seed=2, size=(96, 96))
    engine = app.bridge.engine
    run_id = engine.start(TrainingConfig(task="border", arch="detect", data=str(data), epochs=1, batch=4, imgsz=96,
                                         workers=0, plots=False, name="border check"))
    pump(app, until=lambda: engine.active_run is None, timeout=180)
    assert engine.store.get(run_id).status == "finished"

    card = perimeter_capture(tmp_path / "capture", seed=4, size=(72, 96))
    before = tree_digest(card.folder)
    app.show_panel("photometric")
    panel = app.panel("photometric")
    panel.set_folder(card.folder)  # what Choose folder… does with the folder picked in its dialog
    assert any(run_id in v for v in panel.model_menu.cget("values"))  # offered beside surface models
    app.show_panel("runs")
    pump(app, 0.5)
    app.runs_panel.table.selection_set([run_id])
    pump(app, 0.2)
    assert app.runs_panel.buttons["validate"].cget("state") == "normal"  # Check with PS… is not for surface runs only
    app.runs_panel.buttons["validate"].invoke()
    assert app.current_panel == "photometric" and run_id in panel.model_menu.get()
    assert panel.kind_label.cget("text") == "Border model: its outer border is checked against the card's outline."
    panel.validate_button.invoke()
    pump(app, until=lambda: panel.task is None and panel.validation_text.cget("text"), timeout=120)
    text = panel.validation_text.cget("text")
    assert "(border)" in text and "photometric stereo found 1 card outline" in text
    assert "Card outline from the normals: box [" in text and "no outer_border detection to measure" in text
    assert "recall 0%" in text and "1 missed" in text
    assert str(engine.store.folder(run_id) / "validations") in text
    assert panel.overlay.cget("image") is not None
    assert tree_digest(card.folder) == before
