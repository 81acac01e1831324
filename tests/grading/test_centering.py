"""Centering maths on cards drawn with exact geometry (tests/grading/synthetic.py): widths in the card's own
frame, sub-pixel refinement of the eight lines, diamond cuts, coarse quads from detections, and the sentences
for borders that are missing, doubled or implausible."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from cardgrader.errors import DataError
from cardgrader.grading.centering import (LINE_NAMES, Centering, CenteringError, Quad, coarse_quads, from_lines,
                                          measure)
from cardgrader.models.predict import Detection
from tests.grading.synthetic import draw_card


def jittered(corners: np.ndarray, seed: int, px: float = 3.0) -> Quad:
    return Quad(corners + np.random.default_rng(seed).uniform(-px, px, (4, 2)))


def distance_to_line(points: np.ndarray, line) -> np.ndarray:
    (x0, y0), (x1, y1) = line
    u = np.array([x1 - x0, y1 - y0]) / np.hypot(x1 - x0, y1 - y0)
    return np.abs((points - [x0, y0]) @ np.array([-u[1], u[0]]))


def true_side(corners: np.ndarray, name: str, fractions=np.linspace(0.1, 0.9, 9)) -> np.ndarray:
    """Points along the middle of one side of a true quad."""
    a, b = Quad(corners).side(name)
    return a + fractions[:, None] * (b - a)


CASES = [  # angle, (L, R, T, B) card px, border colour, background
    pytest.param(3.0, (9.0, 24.0, 14.0, 30.0), (235, 238, 240), (70, 110, 60), id="+3deg-thin-left-white-on-green"),
    pytest.param(-3.0, (26.0, 8.0, 31.0, 12.0), (30, 30, 34), (160, 165, 170), id="-3deg-thick-left-black-on-grey"),
    pytest.param(1.2, (6.0, 6.5, 7.0, 7.5), (40, 200, 240), (200, 200, 205), id="+1.2deg-thin-all-yellow-on-light"),
    pytest.param(-2.2, (30.0, 28.0, 36.0, 40.0), (150, 70, 30), (40, 40, 40), id="-2.2deg-thick-all-blue-on-dark"),
]


@pytest.mark.parametrize("angle, borders, colour, background", CASES)
def test_rotated_cards_give_known_centering_within_a_tenth_of_a_point(angle, borders, colour, background):
    card = draw_card(angle_deg=angle, borders=borders, border_colour=colour, background=background, seed=7)
    result = measure(card.image, jittered(card.outer, 1), jittered(card.inner, 2))
    print(f"lr {result.lr:.3f} (true {card.lr:.3f})  tb {result.tb:.3f} (true {card.tb:.3f})  "
          f"angle {result.angle_deg:.3f}  borders {result.borders_px}")
    assert result.refined and result.unrefined == []
    assert result.lr == pytest.approx(card.lr, abs=0.1)
    assert result.tb == pytest.approx(card.tb, abs=0.1)
    assert result.angle_deg == pytest.approx(angle, abs=0.05)
    for side, width in card.borders.items():  # drawn at photo scale: card px are photo px
        assert result.borders_px[side] == pytest.approx(width, abs=0.15), side
        assert np.ptp(result.samples_px[side]) < 0.3, side  # a square print: the same width all along


def test_refinement_brings_a_line_4_px_off_and_1_degree_tilted_back_within_0_3_px():
    card = draw_card(angle_deg=2.5, borders=(12.0, 20.0, 16.0, 24.0), seed=3)
    outer, inner = card.outer.copy(), card.inner.copy()
    # outer left: 4 px outward and turned 1 degree about its top corner; inner top: 4 px down (inward), turned 1 degree
    turn = lambda p, about, deg: about + (p - about) @ np.array(  # noqa: E731
        [[np.cos(np.radians(deg)), np.sin(np.radians(deg))], [-np.sin(np.radians(deg)), np.cos(np.radians(deg))]])
    left = np.radians(2.5)
    outer[[0, 3]] += 4 * np.array([-np.cos(left), -np.sin(left)])
    outer[3] = turn(outer[3], outer[0], 1.0)
    inner[[0, 1]] += 4 * np.array([-np.sin(left), np.cos(left)])
    inner[1] = turn(inner[1], inner[0], 1.0)
    coarse = measure(card.image, Quad(outer), Quad(inner), refine=False)
    refined = measure(card.image, Quad(outer), Quad(inner))
    for name, true in (("outer_left", true_side(card.outer, "left")), ("inner_top", true_side(card.inner, "top"))):
        before = distance_to_line(true, coarse.lines[name]).max()
        after = distance_to_line(true, refined.lines[name]).max()
        print(f"{name}: {before:.2f} px off before refinement, {after:.3f} px after")
        assert before > 3.5
        assert after < 0.3
    for name in LINE_NAMES:  # and the six lines that started right stay right
        border, side = name.split("_")
        true = true_side(card.outer if border == "outer" else card.inner, side)
        assert distance_to_line(true, refined.lines[name]).max() < 0.3, name


def test_a_diamond_cut_shows_as_a_spread_of_widths_and_a_worst_pair_beyond_the_mean():
    tilt = 1.0
    card = draw_card(angle_deg=-2.0, borders=(16.0, 16.0, 20.0, 20.0), tilt_deg=tilt, seed=5)
    result = measure(card.image, jittered(card.outer, 3), jittered(card.inner, 4))
    left, right = np.array(result.samples_px["left"]), np.array(result.samples_px["right"])
    top, bottom = np.array(result.samples_px["top"]), np.array(result.samples_px["bottom"])
    frame_h = 300 * 88 / 63 - 40
    print(f"left {left.round(2)}  right {right.round(2)}  lr {result.lr:.2f} worst {result.lr_worst:.2f}  "
          f"tb {result.tb:.2f} worst {result.tb_worst:.2f}")
    # turned clockwise inside the card: the left border narrows going down, the right one widens
    assert np.ptp(left) == pytest.approx(frame_h * np.tan(np.radians(tilt)), rel=0.1)
    assert np.all(np.diff(left) < 0) and np.all(np.diff(right) > 0)
    assert np.all(np.diff(top) > 0) and np.all(np.diff(bottom) < 0)
    assert result.lr == pytest.approx(50.0, abs=0.15)  # centred on average...
    assert result.lr_worst > result.lr + 5  # ...but far off at the corners
    assert result.tb_worst > result.tb + 3
    assert result.angle_deg == pytest.approx(-2.0, abs=0.05)


def test_exact_quads_without_refinement_give_exact_numbers():
    card = draw_card(angle_deg=-1.5, borders=(10.0, 30.0, 15.0, 25.0), seed=1)
    result = measure(card.image, Quad(card.outer), Quad(card.inner), refine=False)
    assert not result.refined
    assert result.lr == pytest.approx(75.0, abs=1e-6) and result.tb == pytest.approx(62.5, abs=1e-6)
    assert result.samples_px["left"] == pytest.approx([10.0] * 7, abs=1e-6)
    assert result.borders_px["bottom"] == pytest.approx(25.0, abs=1e-6)


def test_a_box_of_a_rotated_card_gets_its_rotation_from_the_photo():
    angle = 3.5
    card = draw_card(angle_deg=angle, borders=(11.0, 22.0, 15.0, 27.0), seed=11)
    box = lambda pts: [*pts.min(0), *pts.max(0)]  # noqa: E731
    detections = [Detection(0, "outer_border", 0.9, box(card.outer)), Detection(1, "inner_border", 0.88, box(card.inner))]
    outer, inner = coarse_quads(detections)
    assert outer.is_axis_aligned() and inner.is_axis_aligned()
    coarse = measure(card.image, outer, inner, refine=False)
    refined = measure(card.image, outer, inner)
    print(f"box only: lr {coarse.lr:.2f} tb {coarse.tb:.2f}; refined: lr {refined.lr:.3f} tb {refined.tb:.3f} "
          f"angle {refined.angle_deg:.3f}; true lr {card.lr:.3f} tb {card.tb:.3f}")
    assert coarse.angle_deg == 0.0
    assert refined.angle_deg == pytest.approx(angle, abs=0.05)
    assert refined.lr == pytest.approx(card.lr, abs=0.1) and refined.tb == pytest.approx(card.tb, abs=0.1)


def test_a_large_blurred_jpeg_photo_measures_as_well():
    card = draw_card(size=(1000, 1400), card_w=700.0, angle_deg=-2.7, borders=(28.0, 56.0, 40.0, 62.0),
                     border_colour=(200, 215, 225), background=(90, 60, 40), blur=2.0, noise=3.0, seed=2)
    ok, jpeg = cv2.imencode(".jpg", card.image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    photo = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
    result = measure(photo, jittered(card.outer, 5, px=8.0), jittered(card.inner, 6, px=8.0))
    print(f"lr {result.lr:.3f} (true {card.lr:.3f})  tb {result.tb:.3f} (true {card.tb:.3f})")
    assert result.refined
    assert result.lr == pytest.approx(card.lr, abs=0.1) and result.tb == pytest.approx(card.tb, abs=0.1)


def test_grey_and_16_bit_photos_give_the_same_centering_as_colour():
    card = draw_card(angle_deg=2.0, borders=(12.0, 18.0, 14.0, 22.0), border_colour=(240, 240, 240),
                     background=(60, 60, 60), seed=9)
    outer, inner = jittered(card.outer, 7), jittered(card.inner, 8)
    colour = measure(card.image, outer, inner)
    grey = measure(cv2.cvtColor(card.image, cv2.COLOR_BGR2GRAY), outer, inner)
    deep = measure(card.image.astype(np.uint16) * 257, outer, inner)
    for other in (grey, deep):
        assert other.refined
        assert other.lr == pytest.approx(colour.lr, abs=0.1) and other.tb == pytest.approx(colour.tb, abs=0.1)
    assert deep.lr == pytest.approx(card.lr, abs=0.1)


def test_an_edge_that_cannot_be_seen_keeps_its_coarse_line_and_is_named():
    colour = (180, 180, 180)
    card = draw_card(angle_deg=1.0, borders=(14.0, 20.0, 16.0, 24.0), border_colour=colour, background=colour, seed=4)
    outer, inner = Quad(card.outer), jittered(card.inner, 9)
    result = measure(card.image, outer, inner)
    assert result.unrefined == ["outer_left", "outer_right", "outer_top", "outer_bottom"]
    assert result.refined is False
    assert result.to_json()["unrefined"] == result.unrefined
    assert distance_to_line(true_side(card.inner, "left"), result.lines["inner_left"]).max() < 0.3  # inner still measured


# ---- coarse quads from detections ----------------------------------------------------------------------
def test_coarse_quads_from_oriented_boxes_are_their_corners_in_order():
    card = draw_card(angle_deg=-3.0, seed=0)
    shuffled = lambda c: c[[2, 0, 3, 1]].tolist()  # noqa: E731
    detections = [Detection(1, "inner_border", 0.8, [0, 0, 1, 1], corners=shuffled(card.inner)),
                  Detection(0, "outer_border", 0.9, [0, 0, 1, 1], corners=shuffled(card.outer))]
    outer, inner = coarse_quads(detections)
    np.testing.assert_allclose(outer.corners, card.outer, atol=1e-9)
    np.testing.assert_allclose(inner.corners, card.inner, atol=1e-9)
    tl, tr, br, bl = outer.corners
    assert tl[0] < tr[0] and tl[1] < bl[1] and br[0] > bl[0] and br[1] > tr[1]


def test_coarse_quads_from_segment_outlines_fit_the_straight_sides():
    angle = 2.0
    card = draw_card(angle_deg=angle, seed=0)
    alpha = np.zeros(card.image.shape[:2], np.uint8)  # a mask like a segment model's: rounded, stair-stepped
    rot = np.array([[np.cos(np.radians(angle)), -np.sin(np.radians(angle))],
                    [np.sin(np.radians(angle)), np.cos(np.radians(angle))]])
    w, h, r = 300.0, 300.0 * 88 / 63, 15.0
    arc = [(cx + r * np.cos(a), cy + r * np.sin(a)) for cx, cy, a0 in
           ((r, r, 180), (w - r, r, 270), (w - r, h - r, 0), (r, h - r, 90)) for a in np.radians(a0 + np.linspace(0, 90, 8))]
    outline = (np.array(arc) - [w / 2, h / 2]) @ rot.T + card.outer.mean(0)
    cv2.fillPoly(alpha, [np.round(outline).astype(np.int32)], 255)
    contour = max(cv2.findContours(alpha, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0], key=cv2.contourArea)
    polygon = contour[:, 0, :].astype(float).tolist()
    detections = [Detection(0, "outer_border", 0.9, [0, 0, 1, 1], polygon=polygon),
                  Detection(1, "inner_border", 0.9, [0, 0, 1, 1], polygon=card.inner.tolist())]
    outer, inner = coarse_quads(detections)
    assert np.abs(outer.corners - card.outer).max() < 1.5  # the corners of the straight sides, not of the arcs
    assert np.abs(inner.corners - card.inner).max() < 0.01


def test_coarse_quads_from_boxes_are_the_boxes_sides():
    detections = [Detection(0, "outer_border", 0.9, [10.0, 20.0, 310.0, 440.0]),
                  Detection(1, "inner_border", 0.7, [25.0, 40.0, 290.0, 410.0])]
    outer, inner = coarse_quads(detections)
    np.testing.assert_allclose(outer.corners, [[10, 20], [310, 20], [310, 440], [10, 440]])
    np.testing.assert_allclose(inner.corners, [[25, 40], [290, 40], [290, 410], [25, 410]])


def test_an_outer_model_and_an_inner_model_with_their_own_class_names():
    detections = [Detection(0, "card", 0.9, [10.0, 20.0, 310.0, 440.0]),
                  Detection(0, "print", 0.8, [25.0, 40.0, 290.0, 410.0])]
    outer, inner = coarse_quads(detections, outer_classes=("card",), inner_classes=("print",))
    assert outer.corners[0].tolist() == [10.0, 20.0] and inner.corners[2].tolist() == [290.0, 410.0]


def test_the_most_confident_of_overlapping_detections_is_used():
    detections = [Detection(0, "outer_border", 0.6, [12.0, 22.0, 312.0, 442.0]),
                  Detection(0, "outer_border", 0.9, [10.0, 20.0, 310.0, 440.0]),
                  Detection(0, "outer_border", 0.3, [400.0, 20.0, 470.0, 100.0]),  # weak, elsewhere: ignored
                  Detection(1, "inner_border", 0.8, [25.0, 40.0, 290.0, 410.0])]
    outer, _ = coarse_quads(detections)
    assert outer.corners[0].tolist() == [10.0, 20.0]


def test_a_border_found_twice_in_different_places_is_a_sentence():
    detections = [Detection(0, "outer_border", 0.9, [10.0, 20.0, 310.0, 440.0]),
                  Detection(0, "outer_border", 0.85, [330.0, 20.0, 630.0, 440.0]),
                  Detection(1, "inner_border", 0.8, [25.0, 40.0, 290.0, 410.0])]
    with pytest.raises(CenteringError) as error:
        coarse_quads(detections)
    assert str(error.value) == ("The outer border was found twice, in different places (confidence 0.90 and 0.85): "
                                "photograph one card at a time, or crop the photo to one card.")
    assert isinstance(error.value, DataError) and error.value.exit_code == 1


@pytest.mark.parametrize("present, missing", [("outer_border", "inner"), ("inner_border", "outer")])
def test_a_missing_border_is_a_sentence_naming_the_class(present, missing):
    with pytest.raises(CenteringError) as error:
        coarse_quads([Detection(0, present, 0.9, [10.0, 20.0, 310.0, 440.0])])
    assert str(error.value).startswith(f"The {missing} border was not found (no '{missing}_border' detection)")


# ---- implausible borders -------------------------------------------------------------------------------
def test_an_inner_border_outside_the_outer_one_is_a_sentence():
    card = draw_card(seed=0)
    with pytest.raises(CenteringError, match="not inside the outer border"):
        measure(card.image, Quad(card.inner), Quad(card.outer), refine=False)


def test_an_outer_border_that_is_not_card_shaped_is_a_sentence():
    image = np.zeros((480, 640, 3), np.uint8)
    square = Quad([[100, 100], [400, 100], [400, 400], [100, 400]])
    inner = Quad([[120, 120], [380, 120], [380, 380], [120, 380]])
    with pytest.raises(CenteringError, match=r"300 x 300 px \(1.00:1\), not a card's shape"):
        measure(image, square, inner, refine=False)


def test_an_inner_border_enclosing_a_sliver_is_a_sentence():
    card = draw_card(seed=0)
    c = card.outer.mean(0)
    tiny = Quad(c + np.array([[-20, -30], [20, -30], [20, 30], [-20, 30]]))
    with pytest.raises(CenteringError, match=r"encloses only 2% of the card"):
        measure(card.image, Quad(card.outer), tiny, refine=False)


def test_lines_that_make_no_frame_are_a_sentence():
    card = draw_card(seed=0)
    result = measure(card.image, Quad(card.outer), Quad(card.inner), refine=False)
    lines = dict(result.lines)
    lines["outer_top"] = lines["outer_left"]  # dragged onto another line: parallel, no corner
    with pytest.raises(CenteringError, match="outer border's lines are parallel"):
        from_lines(lines)
    del lines["inner_bottom"]
    with pytest.raises(CenteringError, match="inner_bottom is missing"):
        from_lines(lines)


# ---- from_lines and JSON -------------------------------------------------------------------------------
def test_from_lines_recomputes_from_dragged_lines():
    card = draw_card(angle_deg=0.0, borders=(15.0, 15.0, 20.0, 20.0), seed=6)
    result = measure(card.image, Quad(card.outer), Quad(card.inner), refine=False)
    again = from_lines(result.to_json()["lines"])  # the JSON shape round-trips
    assert again.lr == pytest.approx(result.lr, abs=0.01) and again.tb == pytest.approx(result.tb, abs=0.01)
    lines = {k: [list(p) for p in v] for k, v in result.lines.items()}
    for point in lines["inner_left"]:
        point[0] += 5.0  # the printed frame's left line dragged 5 px right: L 20, R 15
    moved = from_lines(lines, refined=False)
    assert moved.borders_px["left"] == pytest.approx(20.0, abs=1e-6)
    assert moved.borders_px["right"] == pytest.approx(15.0, abs=1e-6)
    assert moved.lr == pytest.approx(100 * 20 / 35, abs=1e-6)
    assert moved.refined is False


def test_to_json_has_the_documented_keys_rounded():
    card = draw_card(angle_deg=1.0, borders=(13.0, 17.0, 15.0, 21.0), seed=8)
    result = measure(card.image, jittered(card.outer, 1), jittered(card.inner, 2))
    data = json.loads(json.dumps(result.to_json()))
    assert set(data) == {"lr", "tb", "lr_worst", "tb_worst", "angle_deg", "borders_px", "samples_px", "refined", "lines"}
    assert set(data["borders_px"]) == {"left", "right", "top", "bottom"}
    assert [len(data["samples_px"][k]) for k in ("left", "right", "top", "bottom")] == [7, 7, 7, 7]
    assert set(data["lines"]) == set(LINE_NAMES)
    assert data["lr"] == round(data["lr"], 2) and data["refined"] is True
    assert data["lr"] == pytest.approx(100 * 17 / 30, abs=0.1)
    assert isinstance(result, Centering) and result.outer.corners.shape == (4, 2)


# ---- what pass 1 must not be fooled by -----------------------------------------------------------------
def test_boxes_far_off_on_a_rotated_card_still_find_the_border():
    """A weak detect model: each side of each box 4-8 % of the card off, and no rotation."""
    card = draw_card(angle_deg=-3.0, borders=(12.0, 25.0, 18.0, 30.0), border_colour=(40, 200, 240),
                     background=(120, 80, 60), seed=12)
    (ox0, oy0), (ox1, oy1) = card.outer.min(0), card.outer.max(0)
    (ix0, iy0), (ix1, iy1) = card.inner.min(0), card.inner.max(0)
    detections = [Detection(0, "outer_border", 0.4, [ox0 + 14, oy0 - 20, ox1 + 22, oy1 - 12]),
                  Detection(1, "inner_border", 0.4, [ix0 - 16, iy0 + 18, ix1 + 20, iy1 - 25])]
    outer, inner = coarse_quads(detections)
    result = measure(card.image, outer, inner)
    print(f"lr {result.lr:.3f} (true {card.lr:.3f})  tb {result.tb:.3f} (true {card.tb:.3f})  "
          f"angle {result.angle_deg:.2f}")
    assert result.refined
    assert result.lr == pytest.approx(card.lr, abs=0.1) and result.tb == pytest.approx(card.tb, abs=0.1)
    assert result.angle_deg == pytest.approx(-3.0, abs=0.05)


def test_a_cutting_mat_grid_and_a_thin_frame_line_are_not_taken_for_the_border():
    """Grid lines parallel to the card make even strips of mat colour beside it, and a printed frame line
    makes a narrow strip of its own colour; neither is the border."""
    card = draw_card(angle_deg=1.5, borders=(14.0, 26.0, 20.0, 15.0), border_colour=(230, 232, 235),
                     background=(70, 120, 60), grid=(22, (150, 190, 140)), frame_line=(3.0, (25, 25, 25)),
                     seed=13)
    result = measure(card.image, jittered(card.outer, 14, px=8.0), jittered(card.inner, 15, px=8.0))
    print(f"lr {result.lr:.3f} (true {card.lr:.3f})  tb {result.tb:.3f} (true {card.tb:.3f})")
    assert result.refined
    for name in LINE_NAMES:
        border, side = name.split("_")
        true = true_side(card.outer if border == "outer" else card.inner, side)
        assert distance_to_line(true, result.lines[name]).max() < 0.3, name
    assert result.lr == pytest.approx(card.lr, abs=0.1) and result.tb == pytest.approx(card.tb, abs=0.1)


@pytest.mark.parametrize("outer_off, inner_off", [
    pytest.param((-11.0, 0.0, -8.9, 0.0), (0.0, 0.0, 0.0, 0.0), id="outer-box-slid-left-past-the-corner"),
    pytest.param((14.0, 14.8, -13.7, 9.8), (13.1, 12.1, 6.4, 5.3), id="both-tops-14px-low-at-the-name-bar"),
])
def test_a_sample_card_with_glare_and_a_name_bar_keeps_its_border_under_coarse_boxes_far_off(
        tmp_path, outer_off, inner_off):
    """A generated silver-bordered front (glare on the border, a white name bar inside a dark frame line): boxes
    this far off, as a weak border model gives, once took the frame line or the name bar for the top border
    (tb 92.8 and 75.2 for a true 53.8). The sampling stays within the inner box's span, and a choice whose strip
    has something other than the table beyond it on one side loses to one with the table beyond all four."""
    from cardgrader.data.sample import generate

    generate(tmp_path, count=4, seed=123, side="front", size=(240, 320))
    truth = json.loads((tmp_path / "truth.json").read_text())[2]
    image = cv2.imread(str(tmp_path / truth["image"]))

    def box(corners, off):
        corners = np.array(corners)
        return [*(corners.min(0) + off[:2]), *(corners.max(0) + off[2:])]

    detections = [Detection(0, "outer_border", 0.6, box(truth["outer"], outer_off)),
                  Detection(1, "inner_border", 0.6, box(truth["inner"], inner_off))]
    result = measure(image, *coarse_quads(detections))
    assert result.refined
    assert result.lr == pytest.approx(truth["centering_lr"], abs=1.0)
    assert result.tb == pytest.approx(truth["centering_tb"], abs=2.0)
