"""The Grade panel driven through its real widgets, with a border model Ultralytics trained for real: a
dropped card is graded in a child process and its numbers shown; a line dragged with real mouse events
moves the numbers as it goes and is kept as `manual`; the report is saved into the app's data folder, the
corrected lines as training labels the data checker reads; a corrupt photo is a sentence on the panel."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import tree_digest
from tests.gui.conftest import choose, drop, pump

pytestmark = pytest.mark.gui
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
PHOTO_SIZE = (240, 320)  # sample photos: the model trains on them at 160 px, the cards are graded at full size


@dataclass
class GradeModel:
    package: Path  # <its own home>/runs/<id>/model
    cards: Path  # fresh sample cards (front) it never saw, with truth.json


@pytest.fixture(scope="module")
def grade_model(gui_home, tmp_path_factory) -> GradeModel:
    """A front dual-border detector trained by the engine in its own data dir: 80 cards, 60 epochs at
    160 px in small batches (about 4 minutes on a busy 2-core CPU; mAP50-95 about 0.8), precise enough that
    refinement finds the eight lines on new cards. The `first-model` preset's model (mAP50-95 about 0.6) is
    not: its boxes miss the borders by more than refinement searches."""
    from cardgrader.data.sample import generate, write_training_set
    from cardgrader.training.config import TrainingConfig

    root = tmp_path_factory.mktemp("grade-model")
    data = write_training_set(root / "dataset", "detect", 80, seed=0, size=PHOTO_SIZE, side="front")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CARDGRADER_HOME", str(root / "home"))
        from cardgrader.training.engine import Engine

        engine = Engine()
        try:
            run_id = engine.start(TrainingConfig(task="border", side="front", arch="detect", data=str(data),
                                                 epochs=60, imgsz=160, batch=4, workers=0, plots=False,
                                                 augment="light", patience=0, name="grade borders"))
            status = engine.wait(run_id, timeout=1500)
        finally:
            engine.shutdown()
    assert status == "finished", f"training the border model ended {status}"
    generate(root / "fresh", count=6, seed=123, side="front", size=PHOTO_SIZE)
    return GradeModel(root / "home" / "runs" / run_id / "model", root / "fresh")


@pytest.fixture
def bare_panel(app, home):
    """The Grade panel with nothing chosen or graded."""
    app.show_panel("grade")
    grade = app.panel("grade")
    grade.cancel(quiet=True)
    grade.card, grade.front, grade.back = None, None, None
    grade._photos_changed()
    grade._show_card()
    pump(app, 0.2)
    return grade


@pytest.fixture
def panel(app, home, grade_model, bare_panel):
    """The Grade panel with the trained model in the library (a finished run of the session's home) and
    picked in its border-model menu."""
    from cardgrader.models.library import ModelLibrary

    run = f"grade-borders-{len(list(home.glob('runs/grade-borders-*'))) + 1}"
    shutil.copytree(grade_model.package, home / "runs" / run / "model")
    [entry] = [m for m in ModelLibrary().list() if m.run == run]
    bare_panel.refresh_models()
    [text] = [t for t, label in bare_panel.border_models.items() if label == entry.label]
    choose(bare_panel.border_menu, text)
    assert bare_panel.chosen_models() == {"border": entry.label}
    return bare_panel


@pytest.fixture
def photo(grade_model, tmp_path) -> Path:
    """A new card's front in a grader's folder (a name with a space, as photos have)."""
    folder = tmp_path / "my photos"
    folder.mkdir()
    target = folder / "card one front.jpg"
    shutil.copyfile(grade_model.cards / "images" / "card_00002_front.jpg", target)
    return target


def grade(app, panel, photo: Path) -> dict:
    drop(panel.canvas, [str(photo)])  # tkdnd's own drop handlers, as an X drop runs them
    pump(app, 0.1)
    assert panel.front == str(photo) and panel.grade_button.cget("state") == "normal"
    panel.grade_button.invoke()
    assert panel.task is not None and panel.cancel_button.cget("state") == "normal"
    pump(app, until=lambda: panel.task is None, timeout=300)
    assert panel.card is not None, panel.status.cget("text")
    return panel.card.report


def text(widget) -> str:
    return str(widget.cget("text"))


def shown_split(value: float) -> str:
    return f"{value:.1f}/{100 - value:.1f}"


def line_middle(panel, name: str) -> tuple[int, int]:
    x0, y0, x1, y1 = panel.view.line_on_screen(name)
    return round((x0 + x1) / 2), round((y0 + y1) / 2)


def mouse(app, canvas, kind: str, x: int, y: int) -> None:
    canvas.event_generate(kind, x=x, y=y)
    app.update()


def test_a_dropped_card_is_graded_and_its_numbers_match_the_report(app, panel, photo):
    report = grade(app, panel, photo)
    centering = report["front"]["centering"]
    assert "error" not in centering, centering
    assert text(panel.numbers["lr"]) == shown_split(centering["lr"])
    assert text(panel.numbers["tb"]) == shown_split(centering["tb"])
    assert text(panel.numbers["lr_worst"]) == f"worst point {shown_split(centering['lr_worst'])}"
    widths = centering["borders_px"]
    assert text(panel.numbers["widths"]) == (f"L {widths['left']:.1f}  R {widths['right']:.1f}  "
                                             f"T {widths['top']:.1f}  B {widths['bottom']:.1f} px")
    assert text(panel.numbers["angle"]) == f"{centering['angle_deg']:.2f}°"
    for company in ("psa", "bgs", "cgc"):
        band = report["subgrades"]["centering"][company]["grade"]
        assert text(panel.cells[("centering", company)]) == str(band or "–")
        overall = report["overall"][company]
        assert text(panel.cells[("overall", company)]) == str(overall["grade"] or "–")
        if overall["grade"]:
            assert f"limited by {overall['limited_by']}" in text(panel.limits_label)
    for note in report["notes"]:
        assert note in text(panel.notes_label)
    assert text(panel.cells[("corners", "psa")]) == str(report["subgrades"]["corners"].get("grade") or "–")
    assert f"Graded {photo.stem}" in text(panel.status)

    # the eight lines are drawn where the report puts them, at the view's scale
    scale, ox, oy = panel.view._view
    for name, ((x0, y0), (x1, y1)) in centering["lines"].items():
        assert panel.canvas.find_withtag(name), name
        sx0, sy0, sx1, sy1 = panel.canvas.coords(name)
        along = [(sx0 - ox) / scale, (sy0 - oy) / scale, (sx1 - ox) / scale, (sy1 - oy) / scale]
        # the drawn segment runs past both corners along the same line: the corners lie on it
        for px, py in ((x0, y0), (x1, y1)):
            cross = (along[2] - along[0]) * (py - along[1]) - (along[3] - along[1]) * (px - along[0])
            length = ((along[2] - along[0]) ** 2 + (along[3] - along[1]) ** 2) ** 0.5
            assert abs(cross / length) < 1.0, (name, px, py)
    height, width = panel._arrays["front"].shape[:2]
    assert (report["front"]["width"], report["front"]["height"]) == (width, height)
    assert f"{width}×{height} px" in text(panel.view.size_label)


def test_dragging_a_line_moves_the_numbers_as_it_goes_and_keeps_it_as_manual(app, panel, photo):
    report = grade(app, panel, photo)
    before = dict(report["front"]["centering"])
    assert "error" not in before, before
    widths = before["borders_px"]
    wider = "left" if widths["left"] >= widths["right"] else "right"  # pushed outward: more off centre
    other = "right" if wider == "left" else "left"
    name, outward = f"outer_{wider}", -1 if wider == "left" else 1
    canvas = panel.canvas
    x, y = line_middle(panel, name)
    mouse(app, canvas, "<Motion>", x, y)
    assert str(canvas.cget("cursor")) == "sb_h_double_arrow"  # the line can be grabbed here
    mouse(app, canvas, "<ButtonPress-1>", x, y)
    steps = []
    for dx in range(1, 13):
        mouse(app, canvas, "<B1-Motion>", x + outward * dx, y)
        steps.append(text(panel.numbers["lr"]))
    live = panel.card.report["front"]["centering"]
    assert live["borders_px"][wider] == pytest.approx(widths[wider] + 12 / panel.view.scale, rel=0.1)
    assert live["borders_px"][other] == pytest.approx(widths[other], abs=0.1)
    assert live["lr"] > before["lr"]
    shares = [float(step.split("/")[0]) for step in steps]
    assert shares == sorted(shares) and len(set(shares)) > 3, steps  # it grew as the mouse went, before the release
    assert text(panel.numbers["lr"]) == shown_split(live["lr"])
    mouse(app, canvas, "<ButtonRelease-1>", x + outward * 12, y)
    centering = panel.card.report["front"]["centering"]
    assert centering["manual"] == [name]
    assert f"Corrected by hand: outer {wider}." in text(panel.lines_label)
    for company in ("psa", "bgs", "cgc"):
        assert text(panel.cells[("centering", company)]) == str(
            panel.card.report["subgrades"]["centering"][company]["grade"] or "–")
    assert panel.reset_button.cget("state") == "normal"

    # a place where the lines make no card: said while dragging, and the line goes back at the release
    good = json.dumps(centering, sort_keys=True)
    x, y = line_middle(panel, "outer_top")
    inner_y = line_middle(panel, "inner_top")[1]
    mouse(app, canvas, "<ButtonPress-1>", x, y)
    mouse(app, canvas, "<B1-Motion>", x, inner_y + 25)  # one jump past the printed frame
    assert text(panel.status).startswith("Not there:")
    assert panel.canvas.itemcget("outer_top", "dash")  # drawn dashed where the mouse is
    mouse(app, canvas, "<ButtonRelease-1>", x, inner_y + 25)
    assert json.dumps(panel.card.report["front"]["centering"], sort_keys=True) == good
    assert "went back to its last good place" in text(panel.status)

    # Esc during a drag puts the line back
    x, y = line_middle(panel, "inner_right")
    mouse(app, canvas, "<ButtonPress-1>", x, y)
    mouse(app, canvas, "<B1-Motion>", x + 4, y)
    mouse(app, canvas, "<B1-Motion>", x + 8, y)
    assert json.dumps(panel.card.report["front"]["centering"], sort_keys=True) != good
    canvas.focus_force()  # a key goes to the focused widget (the press gave the canvas the focus in the app)
    app.update()  # let the focus change arrive before the key does
    assert app.focus_get() is canvas
    canvas.event_generate("<Escape>")
    app.update()
    assert json.dumps(panel.card.report["front"]["centering"], sort_keys=True) == good
    mouse(app, canvas, "<ButtonRelease-1>", x + 8, y)
    assert panel.card.manual == {"front": [name]}

    SHOTS.mkdir(parents=True, exist_ok=True)
    from cardgrader.gui.demo import screenshot

    x, y = line_middle(panel, "outer_right")
    mouse(app, canvas, "<ButtonPress-1>", x, y)
    mouse(app, canvas, "<B1-Motion>", x + 3, y)
    for mode in ("dark", "light"):  # mid-drag: the held line thicker, the numbers as they are now
        app.apply_theme(mode)
        pump(app, 0.5)
        screenshot(app, SHOTS / f"grade-panel-{mode}.png")
    app.apply_theme("dark")
    mouse(app, canvas, "<ButtonRelease-1>", x + 3, y)
    pump(app, 0.2)


def test_save_report_writes_the_corrected_report_into_the_data_folder(app, panel, photo, home):
    grade(app, panel, photo)
    before = tree_digest(photo.parent)
    x, y = line_middle(panel, "inner_top")
    mouse(app, panel.canvas, "<ButtonPress-1>", x, y)
    for dy in range(1, 5):
        mouse(app, panel.canvas, "<B1-Motion>", x, y + dy)
    mouse(app, panel.canvas, "<ButtonRelease-1>", x, y + 4)
    assert panel.save_button.cget("state") == "normal"
    panel.save_button.invoke()
    pump(app, until=lambda: panel.saving is None, timeout=60)
    folder = home / "grades" / photo.stem
    assert f"in {folder}" in text(panel.status) and str(folder) in text(panel.saved_label)
    saved = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert saved["front"]["centering"]["manual"] == ["inner_top"]
    assert saved["front"]["centering"]["tb"] == panel.card.report["front"]["centering"]["tb"]
    assert saved["overall"] == panel.card.report["overall"]
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "corrected by hand: inner_top" in page and 'alt="centering overlay"' in page
    assert tree_digest(photo.parent) == before  # nothing next to the grader's photo


def test_save_corrections_writes_labels_the_data_checker_reads(app, panel, photo, home):
    from cardgrader.data.readers import yolo

    grade(app, panel, photo)
    x, y = line_middle(panel, "outer_bottom")
    mouse(app, panel.canvas, "<ButtonPress-1>", x, y)
    for dy in range(1, 4):
        mouse(app, panel.canvas, "<B1-Motion>", x, y + dy)
    mouse(app, panel.canvas, "<ButtonRelease-1>", x, y + 3)
    panel.labels_button.invoke()
    pump(app, until=lambda: panel.saving is None, timeout=60)
    root = home / "corrections"
    label = root / "labels" / f"{photo.stem}.txt"
    assert (root / "images" / photo.name).read_bytes() == photo.read_bytes()
    assert f"into {root}" in text(panel.status) and "1 line corrected" in text(panel.status)
    parsed = yolo.read(label, ["outer_border", "inner_border"])
    assert not parsed.findings and [s.class_id for s in parsed.shapes] == [0, 1]
    bottom = max(y for _x, y in parsed.shapes[0].points) * panel.card.report["front"]["height"]
    line = panel.card.report["front"]["centering"]["lines"]["outer_bottom"]
    assert bottom == pytest.approx(max(line[0][1], line[1][1]), abs=0.05)  # the corrected corner, not the model's
    check = subprocess.run([sys.executable, "-m", "cardgrader", "data", "check", str(root)],
                           capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr

    # the Data panel offers the set as a source: one click, and it is scanned like any labelled folder
    data = app.data_panel
    data.clear()
    app.show_panel("data")
    data.corrections_button.invoke()
    pump(app, until=lambda: data.task is None and data.report is not None, timeout=120)
    assert data.paths == [str(root)]
    assert data.report.counts["labelled"] == len(list((root / "labels").glob("*.txt"))) >= 1
    data.clear()
    app.show_panel("grade")


def test_a_corrupt_photo_is_a_sentence_on_the_panel(app, bare_panel, tmp_path):
    panel = bare_panel
    broken = tmp_path / "broken card.jpg"
    broken.write_bytes(b"\xff\xd8 this is not really a JPEG")
    drop(panel.canvas, [str(broken)])
    pump(app, 0.1)
    panel.grade_button.invoke()
    pump(app, until=lambda: panel.task is None, timeout=120)
    status = text(panel.status)
    assert "broken card.jpg" in status and "cannot be read" in status and "Traceback" not in status
    assert panel.card is None and panel.save_button.cget("state") == "disabled"
    shown = " ".join(str(panel.canvas.itemcget(i, "text")) for i in panel.canvas.find_withtag("message"))
    assert "broken card.jpg" in shown

    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo")
    drop(panel.canvas, [str(notes)])
    pump(app, 0.1)
    assert "notes.txt is not a photo" in text(panel.status)
