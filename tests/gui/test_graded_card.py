"""What the Grade panel does without Tk: lines dragged through `GradedCard` recompute centering and bands,
a place that makes no card is refused in a sentence, reports are saved into the app's data folder only,
and corrected lines become YOLO labels that the data checker reads. The card is a sample card whose
exact borders the generator knows, so no model is needed here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cardgrader.data.readers import yolo
from cardgrader.errors import DataError
from cardgrader.grading.centering import from_lines
from cardgrader.grading.grade import apply_correction
from cardgrader.grading.quads import SIDE_CORNERS
from cardgrader.gui import grading_jobs
from cardgrader.gui.graded_card import GradedCard, moved, split
from tests.conftest import tree_digest


def truth_report(folder: Path, index: int = 0) -> dict:
    """A report as `grade_card` would give for a sample card whose lines were found exactly."""
    from cardgrader.data.sample import generate

    truths = generate(folder, count=index + 1, seed=7, side="front", size=(240, 320))
    truth = truths[index]
    lines = {f"{border}_{side}": [getattr(truth, border)[a], getattr(truth, border)[b]]
             for border in ("outer", "inner") for side, (a, b) in SIDE_CORNERS.items()}
    photo = folder / truth.image
    report = {"card": photo.stem, "created": "now", "models": {}, "photometric": None, "back": None,
              "notes": ["No corners model is active, so corners were not assessed."],
              "front": {"image": str(photo), "width": truth.width, "height": truth.height, "centering": {},
                        "findings": {}},
              "subgrades": {c: {"grade": None, "reason": "not assessed (no model)", "estimate": True}
                            for c in ("corners", "edges", "surface")}}
    return apply_correction(report, "front", lines, [])


@pytest.fixture
def own_home(tmp_path, monkeypatch) -> Path:
    """A data folder of this test's own (the GUI tests' `home` is shared by the session)."""
    path = tmp_path / "home"
    monkeypatch.setenv("CARDGRADER_HOME", str(path))
    return path


@pytest.fixture
def card(tmp_path) -> GradedCard:
    return GradedCard(truth_report(tmp_path / "my cards"))


def midpoint(card: GradedCard, name: str) -> np.ndarray:
    a, b = card.lines("front")[name]
    return (a + b) / 2


def test_a_parallel_move_shifts_the_line_across_itself_only():
    line = np.array([[10.0, 0.0], [10.0, 100.0]])
    assert moved(line, "line", np.array([-5.0, 30.0])).tolist() == [[5.0, 0.0], [5.0, 100.0]]
    tilted = moved(line, "end", np.array([4.0, 0.0]))
    assert tilted.tolist() == [[10.0, 0.0], [14.0, 100.0]]  # the far end stays where it was


def test_dragging_the_outer_left_line_outward_widens_the_left_border(card):
    before = dict(card.centering("front"))
    grab = card.grab("front", "outer_left", "line", midpoint(card, "outer_left"))
    card.drag(grab, midpoint(card, "outer_left") + [-6.0, 0.0])
    after = card.centering("front")
    assert after["borders_px"]["left"] == pytest.approx(before["borders_px"]["left"] + 6.0, abs=0.5)
    assert after["borders_px"]["right"] == pytest.approx(before["borders_px"]["right"], abs=0.05)
    left, right = after["borders_px"]["left"], after["borders_px"]["right"]
    assert after["lr"] == pytest.approx(100 * max(left, right) / (left + right), abs=0.02)
    assert after["manual"] == ["outer_left"] and card.manual == {"front": ["outer_left"]}
    assert card.band("centering", "psa")["side_grades"]["front"]["lr"] == pytest.approx(after["lr"], abs=0.01)
    assert card.report["overall"]["psa"]["limited_by"]
    assert card.release(grab) is None


def test_a_drag_is_measured_from_the_press_not_added_up(card):
    start = midpoint(card, "inner_top")
    grab = card.grab("front", "inner_top", "line", start)
    for dy in (1.0, 2.0, 3.0, 4.0):
        card.drag(grab, start + [0.0, dy])
    once = GradedCard(truth_report(Path(card.photo("front")).parents[1]))
    once.drag(once.grab("front", "inner_top", "line", start), start + [0.0, 4.0])
    assert card.centering("front")["tb"] == pytest.approx(once.centering("front")["tb"], abs=0.02)


def test_a_place_that_makes_no_card_is_refused_and_the_last_good_numbers_stay(card):
    inner_left = card.lines("front")["inner_left"][0][0]
    grab = card.grab("front", "outer_left", "line", midpoint(card, "outer_left"))
    card.drag(grab, midpoint(card, "outer_left") + [-2.0, 0.0])
    good = json.dumps(card.centering("front"), sort_keys=True)
    past_frame = inner_left + 5 - midpoint(card, "outer_left")[0]
    card.drag(grab, midpoint(card, "outer_left") + [past_frame, 0.0])  # the card edge inside the printed frame
    assert card.problem and "inner" in card.problem
    assert json.dumps(card.centering("front"), sort_keys=True) == good
    problem = card.problem
    assert card.release(grab) == problem and card.problem is None


def test_escape_and_reset_put_the_lines_back(card):
    original = card.centering("front")["lr"]
    grab = card.grab("front", "outer_right", "end", card.lines("front")["outer_right"][1])
    card.drag(grab, card.lines("front")["outer_right"][1] + [5.0, 0.0])
    assert card.centering("front")["lr"] != pytest.approx(original, abs=0.01)
    card.cancel(grab)
    assert card.centering("front")["lr"] == original and card.manual == {"front": []}
    assert json.dumps(card.report, sort_keys=True) == json.dumps(card.original, sort_keys=True)
    grab = card.grab("front", "outer_right", "line", midpoint(card, "outer_right"))
    card.drag(grab, midpoint(card, "outer_right") + [5.0, 0.0])
    card.release(grab)
    card.reset()
    assert card.centering("front")["lr"] == original and not card.corrected


def test_split_reads_as_the_two_shares():
    assert split(55.2) == "55.2/44.8" and split(50) == "50.0/50.0"


def test_a_report_is_saved_into_the_data_folder_and_never_next_to_the_photo(card, own_home):
    photos = Path(card.photo("front")).parent
    before = tree_digest(photos)
    saved = grading_jobs.save_report(card.report, None)
    assert Path(saved["folder"]) == own_home / "grades" / Path(card.photo("front")).stem
    assert json.loads(Path(saved["json"]).read_text())["front"]["centering"]["lr"] == card.centering("front")["lr"]
    assert Path(saved["html"]).is_file()
    with pytest.raises(DataError, match="not written next to your photos"):
        grading_jobs.save_report(card.report, str(photos))
    with pytest.raises(DataError, match="not written next to your photos"):
        grading_jobs.save_report(card.report, str(photos / "reports"))
    assert tree_digest(photos) == before
    other = json.loads(json.dumps(card.report))
    other["front"]["image"] = str(own_home / "elsewhere" / Path(card.photo("front")).name)  # same name, other photo
    assert grading_jobs.report_folder(other).name == Path(card.photo("front")).stem + "-2"
    assert grading_jobs.report_folder(card.report) == Path(saved["folder"])  # the same card: the same folder


def test_corrected_lines_become_labels_the_data_checker_reads(card, own_home):
    photos = Path(card.photo("front")).parent
    before = tree_digest(photos)
    grab = card.grab("front", "inner_bottom", "line", midpoint(card, "inner_bottom"))
    card.drag(grab, midpoint(card, "inner_bottom") + [0.0, -3.0])
    card.release(grab)
    result = grading_jobs.save_training_labels(card.report)
    root = own_home / "corrections"
    assert Path(result["folder"]) == root and result["written"][0]["manual"] == ["inner_bottom"]
    image, label = Path(result["written"][0]["image"]), Path(result["written"][0]["label"])
    assert image.parent == root / "images" and label.parent == root / "labels"
    assert image.read_bytes() == Path(card.photo("front")).read_bytes() and not image.samefile(card.photo("front"))
    assert (root / "classes.txt").read_text().split() == ["outer_border", "inner_border"]
    parsed = yolo.read(label, ["outer_border", "inner_border"])
    assert not parsed.findings and [s.label for s in parsed.shapes] == ["outer_border", "inner_border"]
    expected = from_lines(card.centering("front")["lines"])
    w, h = card.report["front"]["width"], card.report["front"]["height"]
    for shape, quad in zip(parsed.shapes, (expected.outer, expected.inner)):
        assert np.allclose(np.asarray(shape.points) * [w, h], quad.corners, atol=0.01)
    again = grading_jobs.save_training_labels(card.report)  # the same photo again: the same files
    assert again["written"][0]["image"] == str(image) and len(list((root / "images").iterdir())) == 1
    check = subprocess.run([sys.executable, "-m", "cardgrader", "data", "check", str(root), "--json"],
                           capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
    assert tree_digest(photos) == before


def test_a_card_without_lines_has_no_labels_to_save(card):
    card.report["front"]["centering"] = {"error": "The outer border was not found."}
    with pytest.raises(Exception, match="no border lines to save"):
        grading_jobs.save_training_labels(card.report)
