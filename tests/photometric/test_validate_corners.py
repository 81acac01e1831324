"""`ps validate` with a corners model the engine trained on generated cards, on captures of one card with
two corners chipped (the two its print shows worn) and of the same card whole.

A corners model trained for seconds on a CPU places its boxes poorly (a corner's box is 0.14 of the
card's width; see `perimeter_models`), so the model is asked for all its guesses (--conf 0.001): what is
checked is what photometric stereo sees at each corner, and that every guess is counted by it: on the
whole card no corner_worn box is supported, on the chipped one those covering a chipped corner are."""

from __future__ import annotations

import json

import pytest

from cardgrader.cli import main
from cardgrader.data.cards import CORNERS
from cardgrader.photometric.matching import MIN_IOU, at_least_iou
from tests.photometric.perimeter_cards import card_seed, perimeter_capture
from tests.photometric.perimeter_models import CLOSEUP, trained_closeup_model

pytestmark = pytest.mark.slow  # trains a corners model (about half a minute on 2 CPU cores)
ON_CORNER = at_least_iou(MIN_IOU)  # the report's rule for a box on a corner (see its definitions)
SAMPLE = (CLOSEUP[0] * 2, CLOSEUP[1] * 2)  # each capture's card is drawn as the training cards are
MARGIN = 0.15  # the table around the card in a capture, a share of its width


@pytest.fixture(scope="module")
def corners_model(tmp_path_factory):
    return trained_closeup_model(tmp_path_factory, "corners", ("corner_sharp", "corner_worn"), count=32, epochs=15)


@pytest.fixture(scope="module")
def seed():
    return card_seed(SAMPLE, start=20, defect_rate=1.0, worn=2, room=MARGIN)


def validate_json(model, folder, capsys) -> dict:
    assert main(["ps", "validate", str(model.package), str(folder), "--json", "--conf", "0.001"]) == 0
    return json.loads(capsys.readouterr().out)


def guesses_at(report: dict, box) -> list[dict]:
    """The corner_worn detections the report lists (paired or unsupported) on the corner `box`."""
    listed = [p["detection"] for p in report["pairs"]] + report["unsupported_detections"]
    return [d for d in listed if d["class_name"] == "corner_worn" and ON_CORNER(d["box"], box)]


def test_chipped_corners_are_the_damage_and_worn_guesses_on_them_are_supported(corners_model, seed, tmp_path, capsys):
    whole = perimeter_capture(tmp_path / "whole", seed=seed, size=SAMPLE, defect_rate=1.0, zoom=CLOSEUP,
                              zoom_margin=MARGIN)
    chipped = perimeter_capture(tmp_path / "chipped", seed=seed, size=SAMPLE, defect_rate=1.0, zoom=CLOSEUP,
                                zoom_margin=MARGIN, chip="worn")
    assert len(chipped.chipped) == 2
    sound = validate_json(corners_model, whole.folder, capsys)
    damaged = validate_json(corners_model, chipped.folder, capsys)

    for report in (sound, damaged):
        assert report["kind"] == "corners" and report["model"]["run"] == corners_model.run_id
        assert report["outline"]["source"] == "normals" and [row["corner"] for row in report["corners"]] == list(CORNERS)
        assert report["detections"] >= 1  # corner_worn guesses, however poor
        assert report["supported_detections"] + len(report["unsupported_detections"]) == report["detections"]
    # Photometric stereo: nothing on the whole card; exactly the two chipped corners on the other.
    assert sound["ps_regions"] == 0 and sound["recall"] is None and sound["perimeter_findings"] == []
    assert {row["ps"] for row in sound["corners"]} == {"sharp"}
    assert sound["supported_detections"] == 0 and sound["precision"] == 0.0
    assert damaged["ps_regions"] == 2
    assert {row["corner"]: row["ps"] for row in damaged["corners"]} == {
        c: "worn" if c in chipped.chipped else "sharp" for c in CORNERS}
    assert all(f["source"] == "outline" and f["where"] in chipped.chipped for f in damaged["perimeter_findings"])
    # Every guess is counted by where it is: unsupported ones are on no chipped corner, found corners have one.
    zones = {row["corner"]: row["box"] for row in damaged["corners"]}
    for guess in damaged["unsupported_detections"]:
        assert not any(ON_CORNER(guess["box"], zones[c]) for c in chipped.chipped)
    found = [c for c in chipped.chipped if c not in {m["corner"] for m in damaged["missed_regions"]}]
    assert damaged["recall"] == len(found) / 2
    for corner in chipped.chipped:
        assert (corner in found) == bool(guesses_at(damaged, zones[corner]))
    assert damaged["supported_detections"] >= len(found)
