"""The card's outline and the damage at its perimeter as photometric stereo sees them, and how border,
corners and edges detections are counted against them (no model needed: the detections are given)."""

from __future__ import annotations

import numpy as np
import pytest

from cardgrader.models.predict import Detection
from cardgrader.photometric import synthetic
from cardgrader.photometric.capture import load_capture
from cardgrader.photometric.perimeter import NoOutline, find_outline, perimeter_findings
from cardgrader.photometric.pipeline import analyse_capture
from cardgrader.photometric.validate_border import compare_border
from cardgrader.photometric.validate_perimeter import compare_corners, compare_edges
from tests.photometric.perimeter_cards import card_seed, perimeter_capture

SIZE = (72, 96)


def solved(card):
    capture = load_capture(card.folder)
    analysis = analyse_capture(capture)
    return analysis, find_outline(analysis.result.normals, analysis.result.albedo, capture.mask)


@pytest.fixture(scope="module")
def two_worn_seed():
    return card_seed(SIZE, defect_rate=1.0, worn=2)


def test_the_outline_is_the_cut_edge_in_the_normals_and_a_sound_card_shows_no_damage(tmp_path, two_worn_seed):
    card = perimeter_capture(tmp_path / "capture", seed=two_worn_seed, size=SIZE, defect_rate=1.0)
    analysis, outline = solved(card)
    assert outline.source == "normals" and outline.off_frame == []
    assert np.abs(np.subtract(outline.box, card.card_box)).max() <= 1
    assert (outline.region ^ card.stock).sum() <= 0.03 * card.stock.sum()
    # The print shows two worn corners, but worn print is ink: the stock is whole, so nothing at the perimeter.
    assert perimeter_findings(analysis, outline) == []


def test_chipped_corners_are_found_where_they_are_and_nowhere_else(tmp_path, two_worn_seed):
    card = perimeter_capture(tmp_path / "capture", seed=two_worn_seed, size=SIZE, defect_rate=1.0, chip="worn")
    assert len(card.chipped) == 2
    analysis, outline = solved(card)
    findings = perimeter_findings(analysis, outline)
    assert sorted(f.where for f in findings) == sorted(card.chipped)
    assert all(f.source == "outline" and f.detail == "missing stock" and f.depth_px >= 2 for f in findings)


def test_the_mask_when_given_is_the_card_and_a_mask_of_the_whole_frame_is_no_outline(tmp_path):
    card = perimeter_capture(tmp_path / "capture", seed=5, size=SIZE, mask=True)
    capture = load_capture(card.folder)
    assert capture.mask is not None
    analysis = analyse_capture(capture)
    outline = find_outline(analysis.result.normals, analysis.result.albedo, capture.mask)
    assert outline.source == "mask" and outline.box == card.card_box
    with pytest.raises(NoOutline, match="mask covers the whole frame"):
        find_outline(analysis.result.normals, analysis.result.albedo, np.ones(capture.mask.shape, bool))


def test_a_card_filling_the_frame_has_no_outline(tmp_path):
    flat = synthetic.card(96, 72, dents=2, scratches=1, seed=8)
    capture = synthetic.render(flat.height, flat.normals, flat.mask, synthetic.ring_lights(6, 30, 10),
                               albedo=flat.albedo, noise=0.004)
    analysis = analyse_capture(load_capture(synthetic.write_capture(tmp_path / "capture", capture)))
    with pytest.raises(NoOutline, match="no closed card edge"):
        find_outline(analysis.result.normals, analysis.result.albedo)


@pytest.mark.parametrize("side", ["left", "bottom"])
def test_a_ding_just_inside_an_edge_is_relief_on_that_side(tmp_path, side):
    card = perimeter_capture(tmp_path / "capture", seed=3, size=(144, 192), ding=side)
    analysis, outline = solved(card)
    [finding] = perimeter_findings(analysis, outline)
    assert finding.source == "relief" and finding.where == side and finding.depth_px > 0.5


def detection(name: str, box, confidence: float = 0.8) -> Detection:
    return Detection(0, name, confidence, [float(v) for v in box])


def test_border_detections_are_matched_to_the_outline_and_the_gap_is_measured_per_side(tmp_path):
    card = perimeter_capture(tmp_path / "capture", seed=5, size=SIZE)
    _analysis, outline = solved(card)
    x0, y0, x1, y1 = outline.box
    exact = detection("outer_border", [x0, y0, x1 + 1, y1 + 1])
    inner = detection("inner_border", [x0 + 5, y0 + 6, x1 - 4, y1 - 6])
    good = compare_border([exact, inner], outline).report()
    assert (good["precision"], good["recall"], good["iou"]) == (1.0, 1.0, pytest.approx(1.0, abs=0.03))
    assert good["gap_px"] == {"top": 0.0, "right": 0.0, "bottom": 0.0, "left": 0.0}
    assert good["not_assessed"]["detections"][0]["class_name"] == "inner_border"
    assert "not assessed" in good["not_assessed"]["reason"]
    shifted = detection("outer_border", [x0 + 12, y0, x1 + 13, y1 + 1])
    bad = compare_border([shifted], outline).report()
    assert (bad["precision"], bad["recall"], len(bad["missed_regions"]), len(bad["unsupported_detections"])) == (0.0, 0.0, 1, 1)
    assert bad["gap_px"] == {"top": 0.0, "right": 12.0, "bottom": 0.0, "left": -12.0}
    none = compare_border([], None, "no edge").report()
    assert (none["precision"], none["recall"], none["outline"], none["outline_note"]) == (None, None, None, "no edge")


def test_corner_detections_are_counted_against_the_damaged_corners(tmp_path, two_worn_seed):
    card = perimeter_capture(tmp_path / "capture", seed=two_worn_seed, size=SIZE, defect_rate=1.0, chip="worn")
    analysis, outline = solved(card)
    findings = perimeter_findings(analysis, outline)
    names = ["top_left", "top_right", "bottom_right", "bottom_left"]
    boxes = {name: outline.corner_box(k) for k, name in enumerate(names)}
    damaged, sound = card.chipped, [n for n in names if n not in card.chipped]
    # Worn on one damaged corner (found), worn on a sound corner (unsupported), sharp on the other damaged one;
    # a faint worn box around the whole card holds every corner but is no claim about any of them.
    x0, y0, x1, y1 = outline.box
    dets = [detection("corner_worn", boxes[damaged[0]], 0.9), detection("corner_worn", boxes[sound[0]], 0.7),
            detection("corner_sharp", boxes[damaged[1]], 0.6), detection("corner_sharp", boxes[sound[1]], 0.6),
            detection("corner_worn", [x0, y0, x1 + 1, y1 + 1], 0.05)]
    r = compare_corners(dets, outline, findings).report()
    assert (r["ps_regions"], r["detections"], r["precision"], r["recall"]) == (2, 3, round(1 / 3, 4), 0.5)
    assert [m["corner"] for m in r["missed_regions"]] == [damaged[1]]
    assert [u["box"] for u in r["unsupported_detections"]] == [[float(v) for v in boxes[sound[0]]], dets[-1].box]
    table = {row["corner"]: (row["ps"], row["model"]) for row in r["corners"]}
    assert table[damaged[0]] == ("worn", "worn") and table[damaged[1]] == ("worn", "sharp")
    assert table[sound[0]] == ("sharp", "worn") and table[sound[1]] == ("sharp", "sharp")
    assert r["kind_agreement"] == 0.5


def test_edge_wear_is_counted_against_damage_along_the_edges(tmp_path):
    card = perimeter_capture(tmp_path / "capture", seed=3, size=(144, 192), ding="left")
    analysis, outline = solved(card)
    findings = perimeter_findings(analysis, outline)
    [ding] = findings
    x0, y0, x1, y1 = outline.box
    on_it = detection("edge_wear", [x0, ding.bbox[1] - 4, ding.bbox[2] + 2, ding.bbox[3] + 4])
    elsewhere = detection("edge_wear", [x1 - 8, y0 + 30, x1, y0 + 60])
    whole_card = detection("edge_wear", [x0, y0, x1, y1], 0.05)  # holds the ding, but is no edge claim
    r = compare_edges([on_it, elsewhere, whole_card], outline, findings).report()
    assert (r["ps_regions"], r["precision"], r["recall"]) == (1, round(1 / 3, 4), 1.0)
    assert r["missed_regions"] == [] and [u["box"] for u in r["unsupported_detections"]] == [elsewhere.box, whole_card.box]
