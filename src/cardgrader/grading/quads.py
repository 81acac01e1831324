"""Quadrilaterals for the outer (physical) and inner (printed) border, and the coarse ones a border model's
detections give: a box's sides, an oriented box's corners, or four lines fitted to a segment outline.

Corners are always TL, TR, BR, BL in image pixels (x right, y down). A side of a quad is a line through two
corners; `line_names` gives the eight lines' names (`outer_left` ... `inner_bottom`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import cv2
import numpy as np

from cardgrader.errors import DataError

SIDES = ("left", "right", "top", "bottom")
SIDE_CORNERS = {"left": (0, 3), "right": (1, 2), "top": (0, 1), "bottom": (3, 2)}  # TL→BL, TR→BR, TL→TR, BL→BR
CONFIDENT = 0.5  # two detections of one border at least this confident, in different places: "found twice"
SAME_PLACE_IOU = 0.5  # boxes overlapping at least this much are one border found twice by the model (kept once)


class CenteringError(DataError):
    """A border is missing, found twice, or the two borders do not make a card; one sentence, exit 1."""


@dataclass
class Quad:
    """Four corners TL, TR, BR, BL in image pixels (float)."""

    corners: np.ndarray  # (4, 2)

    def __post_init__(self) -> None:
        self.corners = np.asarray(self.corners, dtype=np.float64).reshape(4, 2)

    @classmethod
    def from_points(cls, points: Iterable[Sequence[float]]) -> Quad:
        """Four corners in any order → TL, TR, BR, BL."""
        return cls(order_corners(np.asarray(points, dtype=np.float64).reshape(4, 2)))

    @classmethod
    def from_box(cls, box: Sequence[float]) -> Quad:
        x0, y0, x1, y1 = (float(v) for v in box)
        x0, x1, y0, y1 = min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)
        return cls(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]))

    def side(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The side `left|right|top|bottom` as two corners (top to bottom, left to right)."""
        a, b = SIDE_CORNERS[name]
        return self.corners[a].copy(), self.corners[b].copy()

    def lines(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        return {name: self.side(name) for name in SIDES}

    @classmethod
    def from_lines(cls, lines: dict[str, tuple[np.ndarray, np.ndarray]]) -> Quad:
        """The quad whose corners are where the four lines meet (a ValueError when two are parallel)."""
        return cls(np.array([intersect(lines["top"], lines["left"]), intersect(lines["top"], lines["right"]),
                             intersect(lines["bottom"], lines["right"]), intersect(lines["bottom"], lines["left"])]))

    @property
    def centre(self) -> np.ndarray:
        return self.corners.mean(axis=0)

    @property
    def size(self) -> tuple[float, float]:
        """Mean width (top and bottom sides) and mean height (left and right sides), pixels."""
        c = self.corners
        width = (np.linalg.norm(c[1] - c[0]) + np.linalg.norm(c[2] - c[3])) / 2
        height = (np.linalg.norm(c[3] - c[0]) + np.linalg.norm(c[2] - c[1])) / 2
        return float(width), float(height)

    def is_axis_aligned(self) -> bool:
        """True for a detect model's box (the card's rotation then has to come from the photo)."""
        c = self.corners
        return bool(abs(c[0, 1] - c[1, 1]) < 1e-6 and abs(c[3, 1] - c[2, 1]) < 1e-6
                    and abs(c[0, 0] - c[3, 0]) < 1e-6 and abs(c[1, 0] - c[2, 0]) < 1e-6)

    def area(self) -> float:
        x, y = self.corners[:, 0], self.corners[:, 1]
        return float(0.5 * (np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))  # positive: clockwise on screen

    def is_convex(self) -> bool:
        c = self.corners
        cross = [np.cross(c[(k + 1) % 4] - c[k], c[(k + 2) % 4] - c[(k + 1) % 4]) for k in range(4)]
        return bool(all(v > 0 for v in cross))

    def contains(self, points: np.ndarray) -> np.ndarray:
        """For each point, whether it lies strictly inside this (convex, clockwise) quad."""
        points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        inside = np.ones(len(points), dtype=bool)
        for k in range(4):
            a, b = self.corners[k], self.corners[(k + 1) % 4]
            inside &= np.cross(b - a, points - a) > 0
        return inside

    def to_json(self) -> list[list[float]]:
        return [[round(float(x), 2), round(float(y), 2)] for x, y in self.corners]


def order_corners(points: np.ndarray) -> np.ndarray:
    """Four points → TL, TR, BR, BL: clockwise on screen around their centre, starting nearest the top-left."""
    centre = points.mean(axis=0)
    angles = np.arctan2(points[:, 1] - centre[1], points[:, 0] - centre[0])  # y down: increasing = clockwise
    ordered = points[np.argsort(angles)]
    start = int(np.argmin(np.abs(np.angle(np.exp(1j * (np.sort(angles) + 3 * np.pi / 4))))))  # nearest -135°
    return np.roll(ordered, -start, axis=0)


def intersect(line_a: tuple[np.ndarray, np.ndarray], line_b: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Where two lines (each through two points) meet; ValueError when they are (nearly) parallel."""
    p, r = np.asarray(line_a[0], float), np.asarray(line_a[1], float) - np.asarray(line_a[0], float)
    q, s = np.asarray(line_b[0], float), np.asarray(line_b[1], float) - np.asarray(line_b[0], float)
    denom = float(np.cross(r, s))
    scale = float(np.linalg.norm(r) * np.linalg.norm(s))
    if scale == 0 or abs(denom) < 1e-6 * scale:
        raise ValueError("parallel lines")
    t = float(np.cross(q - p, s)) / denom
    return p + t * r


# ---- from detections -----------------------------------------------------------------------------------
def _box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _densify(polygon: np.ndarray, step: float) -> np.ndarray:
    """Points every `step` px along a closed outline, so long straight runs weigh as much as their length."""
    out = []
    for k in range(len(polygon)):
        a, b = polygon[k], polygon[(k + 1) % len(polygon)]
        n = max(1, int(np.ceil(np.linalg.norm(b - a) / step)))
        out.append(a + (b - a) * (np.arange(n)[:, None] / n))
    return np.concatenate(out)


def quad_from_polygon(polygon: Sequence[Sequence[float]]) -> Quad:
    """A segment outline → the quad of four lines fitted to the middle of its sides (rounded corners and the
    mask's stair steps left out); the outline's minimum-area rectangle where a side has too few points."""
    points = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    rect = Quad.from_points(cv2.boxPoints(cv2.minAreaRect(points.astype(np.float32))))
    width, height = rect.size
    if min(width, height) < 2:
        return rect
    dense = _densify(points, max(0.5, min(width, height) / 200))
    lines = {}
    for name in SIDES:
        a, b = rect.side(name)
        u = (b - a) / np.linalg.norm(b - a)
        normal = np.array([-u[1], u[0]])
        along = (dense - a) @ u / np.linalg.norm(b - a)
        across = (dense - a) @ normal
        near = (along > 0.15) & (along < 0.85) & (np.abs(across) < 0.1 * min(width, height))
        if near.sum() < 5:
            return rect
        vx, vy, x0, y0 = cv2.fitLine(dense[near].astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        lines[name] = (np.array([x0, y0], float), np.array([x0 + vx, y0 + vy], float))
    try:
        quad = Quad.from_lines(lines)
    except ValueError:
        return rect
    return quad if quad.is_convex() and quad.area() > 0.5 * rect.area() else rect


def quad_from_detection(detection) -> Quad:
    """A Detection → its quad: oriented corners (obb), a fitted outline (segment), else the box's sides."""
    if detection.corners is not None and len(detection.corners) == 4:
        return Quad.from_points(detection.corners)
    if detection.polygon is not None and len(detection.polygon) >= 4:
        return quad_from_polygon(detection.polygon)
    return Quad.from_box(detection.box)


def _describe(classes: Sequence[str]) -> str:
    return " or ".join(f"'{c}'" for c in classes)


def _pick(detections: list, classes: Sequence[str], border: str):
    found = sorted((d for d in detections if d.class_name in classes), key=lambda d: -d.confidence)
    if not found:
        raise CenteringError(f"The {border} border was not found (no {_describe(classes)} detection): check that the "
                             f"photo shows the whole card on a plain background, or try a lower confidence.")
    best = found[0]
    for other in found[1:]:
        if other.confidence >= CONFIDENT and best.confidence >= CONFIDENT and _box_iou(best.box, other.box) < SAME_PLACE_IOU:
            raise CenteringError(
                f"The {border} border was found twice, in different places (confidence {best.confidence:.2f} and "
                f"{other.confidence:.2f}): photograph one card at a time, or crop the photo to one card.")
    return best


def coarse_quads(detections: Iterable, outer_classes: Sequence[str] = ("outer_border",),
                 inner_classes: Sequence[str] = ("inner_border",)) -> tuple[Quad, Quad]:
    """The outer and inner border's quads from a border model's detections (one dual model, or an outer and an
    inner model's detections together): the most confident detection of each, unless two confident ones are in
    different places. CenteringError names what is missing or doubled."""
    detections = list(detections)
    outer = _pick(detections, tuple(outer_classes), "outer")
    inner = _pick(detections, tuple(inner_classes), "inner")
    return quad_from_detection(outer), quad_from_detection(inner)
