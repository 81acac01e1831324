"""The one converter: every conversion between boxes, polygons and oriented boxes, to known coordinates."""

from __future__ import annotations

import numpy as np

from cardgrader.data.geometry import area, convert, four_point_kind, is_rectangle, min_area_rect
from cardgrader.data.model import BOX, OBB, POLYGON, Shape

from .formats import BOX as KNOWN_BOX
from .formats import POLYGON as KNOWN_POLYGON
from .formats import H, W, box_corners, norm, rotated_rect, same_points, yolo_box


def shape(kind, pixel_points, w=W, h=H):
    return Shape(kind, "x", [[x / w, y / h] for x, y in pixel_points])


def as_pixels(coords, w=W, h=H):
    return np.asarray(coords, np.float64).reshape(-1, 2) * [w, h]


def test_polygon_to_box_is_its_bounds():
    coords, note = convert(shape(POLYGON, KNOWN_POLYGON), "detect", W, H)
    xs, ys = [p[0] for p in KNOWN_POLYGON], [p[1] for p in KNOWN_POLYGON]
    assert np.allclose(coords, yolo_box(min(xs), min(ys), max(xs), max(ys)), atol=1e-12)
    assert note is None


def test_rotated_rectangle_polygon_to_obb_is_exact():
    corners = rotated_rect(degrees=17.0)
    coords, note = convert(shape(POLYGON, corners), "obb", W, H)
    assert same_points(as_pixels(coords), corners, tol=1e-6)
    assert note is None  # a polygon that already is a rectangle loses nothing


def test_irregular_polygon_to_obb_is_the_smallest_rotated_rectangle():
    coords, note = convert(shape(POLYGON, KNOWN_POLYGON), "obb", W, H)
    rect = as_pixels(coords)
    assert is_rectangle(rect.tolist(), 1, 1, tol_deg=1e-6)
    hull_area = area(KNOWN_POLYGON)
    rect_area = area(rect.tolist())
    assert rect_area >= hull_area
    # no rotation of a rectangle around the polygon is smaller: try every degree
    pts = np.asarray(KNOWN_POLYGON)
    for degrees in range(0, 90):
        a = np.radians(degrees)
        r = pts @ np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        assert rect_area <= np.prod(r.max(0) - r.min(0)) + 1e-6
    assert note == "polygon_as_obb"


def test_min_area_rect_is_computed_in_pixels_not_normalised_units():
    corners = rotated_rect(cx=300, cy=60, w=200, h=40, degrees=30)
    wide_w, wide_h = 600, 120  # a 5:1 image: in normalised units the rectangle is a skewed parallelogram
    rect = min_area_rect([[x / wide_w, y / wide_h] for x, y in corners], wide_w, wide_h)
    assert same_points(np.asarray(rect) * [wide_w, wide_h], corners, tol=1e-6)


def test_obb_to_box_and_to_polygon():
    corners = rotated_rect(degrees=-25)
    box, _ = convert(shape(OBB, corners), "detect", W, H)
    xs, ys = [p[0] for p in corners], [p[1] for p in corners]
    assert np.allclose(box, yolo_box(min(xs), min(ys), max(xs), max(ys)), atol=1e-12)
    polygon, note = convert(shape(OBB, corners), "segment", W, H)
    assert same_points(as_pixels(polygon), corners, tol=1e-9) and note is None
    again, note = convert(shape(OBB, corners), "obb", W, H)
    assert same_points(as_pixels(again), corners, tol=1e-9) and note is None


def test_box_to_obb_and_polygon_are_axis_aligned_approximations():
    corners = box_corners(*KNOWN_BOX)
    for arch, expected_note in (("obb", "box_as_obb"), ("segment", "box_as_polygon")):
        coords, note = convert(shape(BOX, corners), arch, W, H)
        assert same_points(as_pixels(coords), corners, tol=1e-9)
        assert note == expected_note
    coords, note = convert(shape(BOX, corners), "detect", W, H)
    assert np.allclose(coords, yolo_box(*KNOWN_BOX), atol=1e-12) and note is None


def test_conversion_clips_to_the_image_as_ultralytics_does():
    corners = box_corners(-4.0, 10.0, 60.0, H + 1.0)
    coords, _ = convert(shape(BOX, corners), "detect", W, H)
    assert np.allclose(coords, yolo_box(0.0, 10.0, 60.0, H), atol=1e-12)


def test_four_point_kind_tells_rectangles_from_quads():
    assert four_point_kind([[x / W, y / H] for x, y in rotated_rect(degrees=8)], W, H) == OBB
    quad = rotated_rect(degrees=8)
    quad[2][0] += 6  # perspective: no longer a rectangle
    assert four_point_kind([[x / W, y / H] for x, y in quad], W, H) == POLYGON


def test_area_and_norm_helpers_agree():
    assert area(box_corners(0, 0, 10, 4)) == 40
    assert np.isclose(area([[x / W, y / H] for x, y in box_corners(0, 0, 10, 4)], W, H), 40)
    assert norm([[W, H]]) == [1.0, 1.0]
