"""`ps validate` with a border model the engine trained on generated cards: its outer border is checked
against the card's outline in the capture's normals, and a card whose stock is not where the model sees
the card is reported as a mismatch, the gap measured."""

from __future__ import annotations

import json

import pytest

from cardgrader.cli import main
from tests.conftest import tree_digest
from tests.photometric.perimeter_cards import card_seed, perimeter_capture
from tests.photometric.perimeter_models import CLOSEUP, trained_closeup_model

pytestmark = pytest.mark.slow  # trains a border model (1.5 to 2 minutes on 2 busy CPU cores)
SAMPLE = (CLOSEUP[0] * 2, CLOSEUP[1] * 2)  # each capture's card is drawn as the training cards are
MARGIN = 0.22  # the table around the card in a capture, a share of its width (about 14 px)
SHIFT = 10  # px the stock moves right and down under the print in the mismatched capture (card about 66 px wide)


@pytest.fixture(scope="module")
def border_model(tmp_path_factory):
    return trained_closeup_model(tmp_path_factory, "border", ("outer_border", "inner_border"), count=64, epochs=50)


def seeds(count: int) -> list[int]:
    """Sample cards the model never saw (its training cards come from seed 0) with room for the margin."""
    found = [card_seed(SAMPLE, start=11, room=MARGIN)]
    while len(found) < count:
        found.append(card_seed(SAMPLE, start=found[-1] + 1, room=MARGIN))
    return found


def validate_json(model, folder, capsys) -> dict:
    assert main(["ps", "validate", str(model.package), str(folder), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_outer_border_matches_the_card_outline_photometric_stereo_sees(border_model, tmp_path, capsys):
    matched = []
    for seed in seeds(3):
        card = perimeter_capture(tmp_path / f"card{seed}", seed=seed, size=SAMPLE, zoom=CLOSEUP, zoom_margin=MARGIN)
        before = tree_digest(card.folder)
        report = validate_json(border_model, card.folder, capsys)
        assert tree_digest(card.folder) == before
        assert report["kind"] == "border" and report["model"]["run"] == border_model.run_id
        assert report["outline"]["source"] == "normals" and report["outline"]["off_frame"] == []
        assert max(abs(a - b) for a, b in zip(report["outline"]["box"], card.card_box)) <= 1
        assert report["ps_regions"] == 1 and "not assessed" in report["definitions"]["inner_border"]
        assert report["supported_detections"] + len(report["unsupported_detections"]) == report["detections"]
        assert report["outputs"]["overlay"].startswith(str(border_model.package.parent / "validations"))
        if report["recall"] == 1.0:
            matched.append((report, card))
    assert len(matched) >= 2, "the model should find at least two of the three cards"
    for report, card in matched:
        assert report["iou"] >= 0.75 and report["missed_regions"] == [] and report["precision"] > 0
        # The gaps are the model's box against the card where it truly is (the outline is within 1 px of it):
        # how good the model is shows in the IoU above; here the report must measure it right.
        x0, y0, x1, y1 = card.card_box
        box = report["measured_box"]
        truth = {"top": y0 - box[1], "right": box[2] - (x1 + 1), "bottom": box[3] - (y1 + 1), "left": x0 - box[0]}
        assert report["gap_px"] == {side: pytest.approx(gap, abs=1.1) for side, gap in truth.items()}


def test_a_card_whose_edge_is_not_where_the_model_sees_it_is_a_mismatch(border_model, tmp_path, capsys):
    """The same card, its stock moved SHIFT px right and down under the print: the model still boxes the
    print, and the report finds its box off the outline by that much on every side, the outline missed."""
    [seed] = seeds(1)
    here = perimeter_capture(tmp_path / "here", seed=seed, size=SAMPLE, zoom=CLOSEUP, zoom_margin=MARGIN)
    moved_card = perimeter_capture(tmp_path / "moved", seed=seed, size=SAMPLE, zoom=CLOSEUP, zoom_margin=MARGIN,
                                   stock_shift=(SHIFT, SHIFT))
    right, moved = validate_json(border_model, here.folder, capsys), validate_json(border_model, moved_card.folder, capsys)
    assert moved["outline"]["off_frame"] == []
    assert max(abs(a - b) for a, b in zip(moved["outline"]["box"], moved_card.card_box)) <= 1
    assert [a - b for a, b in zip(moved["outline"]["box"], right["outline"]["box"])] == [pytest.approx(SHIFT, abs=1)] * 4
    assert moved["recall"] == 0.0 and len(moved["missed_regions"]) == 1 and moved["iou"] < 0.75
    assert moved["supported_detections"] == 0 and len(moved["unsupported_detections"]) == moved["detections"] >= 1
    # The model sees the same print in both pictures, so it draws the same box; against the moved outline
    # that box starts left of and above the card and stops short of its right and bottom edges.
    assert max(abs(a - b) for a, b in zip(moved["measured_box"], right["measured_box"])) <= 2
    for side, sign in (("left", 1), ("top", 1), ("right", -1), ("bottom", -1)):
        assert moved["gap_px"][side] - right["gap_px"][side] == pytest.approx(sign * SHIFT, abs=3), side
