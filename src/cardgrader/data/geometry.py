"""The one converter between boxes, polygons and oriented boxes, and the geometry checks on them.

Shapes are normalised (0..1), but angles and areas only mean something in pixels, so every function
that needs them takes the image size. Oriented boxes are four corners, the Ultralytics OBB label
format (`class x1 y1 x2 y2 x3 y3 x4 y4`).
"""

from __future__ import annotations

import math

import numpy as np

from cardgrader.data.model import BOX, OBB, POLYGON, Shape, bounds

Points = list[list[float]]
RIGHT_ANGLE_TOLERANCE_DEG = 1.0  # a four-point shape this close to a rectangle is read as an oriented box


def box_corners(x0: float, y0: float, x1: float, y1: float) -> Points:
    """The four corners of an axis-aligned box, clockwise from top-left (y points down)."""
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def box_from_center(cx: float, cy: float, w: float, h: float) -> Points:
    return box_corners(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def area(points: Points, width: float = 1.0, height: float = 1.0) -> float:
    """Polygon area (shoelace) in pixels² when given the image size, else in normalised units."""
    total = 0.0
    x0, y0 = points[-1]
    for x1, y1 in points:
        total += x0 * y1 - x1 * y0
        x0, y0 = x1, y1
    return abs(total) / 2 * width * height


def is_rectangle(points: Points, width: float, height: float, tol_deg: float = RIGHT_ANGLE_TOLERANCE_DEG) -> bool:
    """Four corners whose angles are all within `tol_deg` of 90° in pixels."""
    if len(points) != 4:
        return False
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = points
    edges = [((x1 - x0) * width, (y1 - y0) * height), ((x2 - x1) * width, (y2 - y1) * height),
             ((x3 - x2) * width, (y3 - y2) * height), ((x0 - x3) * width, (y0 - y3) * height)]
    limit = math.sin(math.radians(tol_deg)) ** 2
    for i in range(4):
        (ux, uy), (vx, vy) = edges[i], edges[(i + 1) % 4]
        dot, uu, vv = ux * vx + uy * vy, ux * ux + uy * uy, vx * vx + vy * vy
        if uu == 0 or vv == 0 or dot * dot > limit * uu * vv:  # |cos| of the corner over sin(tol)
            return False
    return True


def min_area_rect(points: Points, width: float, height: float) -> Points:
    """The smallest rotated rectangle around a polygon, computed in pixels (rotating calipers on the hull)."""
    pts = np.asarray(points, np.float64) * [width, height]
    hull = _convex_hull(pts)
    if len(hull) < 3:
        x0, y0 = pts.min(0)
        x1, y1 = pts.max(0)
        return [[x / width, y / height] for x, y in box_corners(x0, y0, x1, y1)]
    best = None
    for i in range(len(hull)):
        edge = hull[(i + 1) % len(hull)] - hull[i]
        norm = math.hypot(*edge)
        if norm == 0:
            continue
        u = edge / norm
        v = np.array([-u[1], u[0]])
        pu, pv = hull @ u, hull @ v
        size = (pu.max() - pu.min()) * (pv.max() - pv.min())
        if best is None or size < best[0] - 1e-12:
            best = (size, u, v, pu.min(), pu.max(), pv.min(), pv.max())
    _size, u, v, u0, u1, v0, v1 = best
    corners = [u0 * u + v0 * v, u1 * u + v0 * v, u1 * u + v1 * v, u0 * u + v1 * v]
    return [[float(c[0]) / width, float(c[1]) / height] for c in corners]


def _convex_hull(pts: np.ndarray) -> np.ndarray:
    """Andrew's monotone chain; returns the hull's corners counter-clockwise without repeats."""
    order = sorted(set(map(tuple, pts.tolist())))
    if len(order) < 3:
        return np.asarray(order, np.float64)

    def cross(o, a, b) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list = []
    for p in order:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list = []
    for p in reversed(order):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return np.asarray(lower[:-1] + upper[:-1], np.float64)


def clip(points: Points) -> Points:
    return [[min(1.0, max(0.0, x)), min(1.0, max(0.0, y))] for x, y in points]


def convert(shape: Shape, arch: str, width: int, height: int) -> tuple[list[float], str | None]:
    """The label-row coordinates of `shape` for an architecture, and a note when it is an approximation.

    detect → `cx cy w h`; segment → polygon `x y` pairs; obb → four corners. Coordinates are clipped
    to the image, as Ultralytics does when it loads labels.
    """
    points = clip(shape.points)
    if arch == "detect":
        x0, y0, x1, y1 = bounds(points)
        return [(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0], None
    if arch == "segment":
        note = "box_as_polygon" if shape.kind == BOX else None
        return [c for p in points for c in p], note
    if arch == "obb":
        if shape.kind == BOX:
            return [c for p in points for c in p], "box_as_obb"
        if shape.kind == OBB:
            return [c for p in points for c in p], None
        rect = clip(min_area_rect(points, width, height))
        note = None if len(points) == 4 and is_rectangle(points, width, height) else "polygon_as_obb"
        return [c for p in rect for c in p], note
    raise ValueError(f"unknown architecture {arch!r}")


def four_point_kind(points: Points, width: int, height: int) -> str:
    """A four-corner shape is an oriented box when its corners are right angles, else a polygon."""
    return OBB if is_rectangle(points, width, height) else POLYGON


APPROXIMATION_NOTES = {
    "box_as_polygon": "boxes became four-corner polygons; a box cannot follow a rotated card, so the outline is "
                      "approximate",
    "box_as_obb": "boxes became axis-aligned oriented boxes; their rotation is unknown, so they are approximate",
    "polygon_as_obb": "polygons became their smallest enclosing rotated rectangles",
}
