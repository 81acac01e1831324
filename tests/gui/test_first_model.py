"""A grader without data: "Try with sample cards" then Start ends in a border model that works; and
before Start, the Train panel says how long the run should take on this computer."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from cardgrader.training import estimate as est
from cardgrader.training.presets import load_preset
from tests.gui.conftest import click_segment, drop, pump, type_into

pytestmark = pytest.mark.gui
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


def data_ready(app) -> bool:
    return app.data_panel.task is None and app.data_panel.report is not None


def shown_estimate(app) -> str:
    return app.train_panel.estimate_label.cget("text")


def timings_read(app) -> bool:
    return app.started and app._timings_task is None


def test_the_train_panel_says_how_long_the_run_should_take(app, tmp_path):
    from cardgrader.data.sample import generate

    app.data_panel.clear()
    pump(app, until=lambda: timings_read(app), timeout=30)
    app.show_panel("train")
    pump(app, 0.3)
    assert shown_estimate(app) == ""  # nothing to judge without data
    cards = tmp_path / "cards"
    generate(cards, count=20, seed=3, side="both", size=(240, 320))
    drop(app.data_panel.drop_zone, [str(cards)])
    pump(app, until=lambda: data_ready(app) and shown_estimate(app) != "", timeout=60)
    app.show_panel("model")
    click_segment(app.model_panel.side, "Front")
    app.show_panel("train")
    pump(app, until=lambda: app.model_panel.config.side == "front", timeout=5)
    assert app.data_panel.planned_images() == (8, 2)  # the 10 fronts of the 20 cards: what a front run trains
    assert "10 labelled images (front side)" in app.train_panel.ready_label.cget("text")
    click_segment(app.model_panel.side, "Both")
    pump(app, until=lambda: app.model_panel.config.side == "both" and "(front side)" not in
         app.train_panel.ready_label.cget("text"), timeout=5)
    pump(app, until=lambda: shown_estimate(app) != "" and app.train_panel.estimate is not None, timeout=10)
    config = app.model_panel.config
    figure = app.train_panel.estimate
    train, val = app.data_panel.planned_images()
    assert (train, val) == (16, 4)  # 20 labelled cards at the 0.8/0.2 split
    assert figure == est.estimate(config, train, val, est.history(), app.model_panel.devices())  # from disk
    assert shown_estimate(app) == figure.text()
    assert shown_estimate(app).startswith(("Expected: about ", "Expected: roughly ")) and "on this computer" in \
        shown_estimate(app)
    assert ("from your last" in shown_estimate(app)) == (figure.basis == "history")

    app.show_panel("model")
    type_into(app.model_panel.numbers["epochs"], str(config.epochs * 4))  # the grader asks for more epochs
    app.show_panel("train")
    pump(app, until=lambda: app.train_panel.estimate is not figure and app.model_panel.config is not None
         and app.model_panel.config.epochs == config.epochs * 4, timeout=10)
    assert app.train_panel.estimate.seconds > 3 * figure.seconds - 3 * est.ROUGH_RUN_SECONDS["cuda"]
    assert shown_estimate(app) == app.train_panel.estimate.text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    from cardgrader.gui.demo import screenshot

    screenshot(app, SHOTS / "train-estimate.png")
    app.show_panel("model")
    type_into(app.model_panel.numbers["epochs"], str(config.epochs))
    pump(app, 0.3)


@pytest.mark.slow
def test_sample_cards_then_start_train_a_border_model_that_works(app, home):
    """The path README promises a new grader: two clicks, a few minutes on a CPU, a model that finds borders."""
    from cardgrader.gui import samples

    app.data_panel.clear()
    app.show_panel("data")
    pump(app, until=lambda: app.started, timeout=30)
    app.data_panel.sample_button.invoke()
    pump(app, until=lambda: data_ready(app), timeout=180)
    folder = samples.FIRST_MODEL.folder
    assert app.data_panel.paths == [str(folder)] and folder.is_relative_to(home)  # drawn into the app's data dir
    assert app.data_panel.report.counts["labelled"] == 80
    config = app.model_panel.config
    assert config == load_preset("first-model").updated(device=app.model_panel.device.get())
    assert (config.arch, config.task, config.side, config.border, config.epochs, config.imgsz) == \
        ("detect", "border", "both", "dual", 60, 160)
    assert app.model_panel.preset.get() == "first-model"
    app.show_panel("train")
    pump(app, 0.5)
    train = app.train_panel
    assert train.start_button.cget("state") == "normal", train.ready_label.cget("text")
    expected = train.estimate
    started = time.time()
    train.start_button.invoke()
    pump(app, until=lambda: train.run_id is not None and train.progress.status is not None, timeout=600)
    seconds = time.time() - started
    assert train.progress.status == "finished", train.status.cget("text")
    metadata = json.loads((app.bridge.store.folder(train.run_id) / "model" / "metadata.json").read_text())
    map50 = metadata["metrics"]["mAP50"]
    print(f"\nfirst model from the sample cards: mAP50 {map50:.3f} in {seconds:.0f} s "
          f"(expected before Start: {expected.text() if expected else 'none'}, {expected.seconds:.0f} s)")
    assert metadata["config"]["epochs"] == 60 and metadata["imgsz"] == 160
    assert app.bridge.store.get(train.run_id).best_mAP50 >= map50 >= 0.5
    assert seconds < 600
    pump(app, 1.0)
    SHOTS.mkdir(parents=True, exist_ok=True)
    from cardgrader.gui.demo import screenshot

    screenshot(app, SHOTS / "first-model-finished.png")
