"""The card's outline as photometric stereo sees it, and the damage at its perimeter.

Outline. A card lies on a table: its face is nearly flat (a gentle warp), the table is flat, and between
them the cut edge is a step as high as the stock is thick, where the normals turn steeply away from the
camera axis and the albedo changes from the table's to the card's. The edge is where the normals turn at
least `EDGE_TILT_DEG`, or at least `STEP_TILT_DEG` where the albedo has an edge too (a thin card's step
is only a few pixels' tilt; print has albedo edges but no tilt). The card is the largest region a closed
band of edge encloses, and its edge runs along the middle of that band. A capture's own mask.png, when
it marks less than the whole frame, is the card as the grader marked it and is used instead.

Ideal shape. Four straight sides, each a robust line fit to the middle of a side of the outline
(`grading.quads.quad_from_polygon`, as centering fits a border; a camera not quite square-on makes the
card a quadrilateral, not a rectangle), meeting in corners rounded with the standard radius
(`data.cards.CORNER_RADIUS` of the card's width: 1/8 inch on a 63 mm card).

Perimeter findings. (1) The outline departing from the ideal shape: stock missing inside it (a chipped or
worn-round corner, a nicked edge) or sticking out of it, at least `DEPART_SHARE` of the card's width (and
`DEPART_MIN_PX`) deep. (2) Relief: PS defect regions of the card's face whose centre lies within
`PERIMETER_BAND` of the card's width from its edge, counted from where the defect map starts looking
(it leaves out a strip `edge_margin_px` wide along the cut edge). A finding within `CORNER_BOX` of the card's width of a
corner along both sides (the corner box the corner classes label) belongs to that corner, any other to the
nearest side. Findings that touch the frame are left out: there the frame, not the card, ends the outline.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from cardgrader.data.cards import CORNER_BOX, CORNER_RADIUS, CORNERS, EDGES
from cardgrader.grading.quads import quad_from_polygon
from cardgrader.photometric.defects import DefectMap
from cardgrader.photometric.pipeline import Analysis, defects_within

EDGE_TILT_DEG = 20.0  # a normal turned this far from the camera axis is the cut edge, not the card's face
STEP_TILT_DEG = 8.0  # ... and this far where the albedo has an edge too
MIN_CARD_SHARE = 0.05  # an enclosed region smaller than this share of the frame is not a card
FULL_FRAME_SHARE = 0.97  # a mask covering this share of the frame shows no edge
DEPART_SHARE = 0.008  # of the card's width: about 0.5 mm on a 63 mm card
DEPART_MIN_PX = 2.0  # a one-pixel step is the outline's aliasing, not damage
PERIMETER_BAND = 0.08  # of the card's width: about 5 mm on a 63 mm card


class NoOutline(Exception):
    """The capture shows no card outline; the message says why, in a sentence for the report."""


@dataclass
class CardOutline:
    region: np.ndarray  # (H, W) bool: the card's pixels
    source: str  # mask | normals (with the albedo's edges)
    corners: np.ndarray  # (4, 2) float: the fitted sides' corners, top_left, top_right, bottom_right, bottom_left
    ideal: np.ndarray  # (H, W) bool: the four sides with standard rounded corners
    off_frame: list[str]  # the sides of the image the card runs into

    @property
    def box(self) -> list[int]:
        """x0, y0, x1, y1 of the card's pixels, inclusive."""
        ys, xs = np.nonzero(self.region)
        return [int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())]

    @property
    def width_px(self) -> float:
        """The card's short side (its width, portrait or landscape), from the fitted sides."""
        c = self.corners
        sides = [float(np.linalg.norm(c[(k + 1) % 4] - c[k])) for k in range(4)]
        return min((sides[0] + sides[2]) / 2, (sides[1] + sides[3]) / 2)

    def _axes(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Corner k and the unit directions along its two sides (to the next and the previous corner)."""
        p = self.corners[k]
        nxt, prev = self.corners[(k + 1) % 4] - p, self.corners[(k - 1) % 4] - p
        return p, nxt / max(float(np.linalg.norm(nxt)), 1e-9), prev / max(float(np.linalg.norm(prev)), 1e-9)

    def corner_box(self, k: int) -> list[int]:
        """The axis-aligned box around corner k's zone (`CORNER_BOX` of the width along both sides), in the frame."""
        p, u, v = self._axes(k)
        s = CORNER_BOX * self.width_px
        pts = np.array([p, p + s * u, p + s * (u + v), p + s * v])
        h, w = self.region.shape
        x0, y0 = np.clip(np.floor(pts.min(0)), 0, [w - 1, h - 1])
        x1, y1 = np.clip(np.ceil(pts.max(0)), 0, [w - 1, h - 1])
        return [int(x0), int(y0), int(x1), int(y1)]

    def where(self, point) -> str:
        """The corner (top_left, ...) whose zone holds `point` (x, y), else the nearest side (top, ...)."""
        q = np.asarray(point, float)
        s = CORNER_BOX * self.width_px
        for k, name in enumerate(CORNERS):
            p, u, v = self._axes(k)
            if (q - p) @ u <= s and (q - p) @ v <= s:
                return name
        return EDGES[int(np.argmin(self._side_distances(q)))]

    def _side_distances(self, q: np.ndarray) -> list[float]:
        out = []
        for k in range(4):
            a, b = self.corners[k], self.corners[(k + 1) % 4]
            d = b - a
            t = np.clip((q - a) @ d / max(float(d @ d), 1e-9), 0, 1)
            out.append(float(np.linalg.norm(q - (a + t * d))))
        return out

    def distance_to_edge(self, point) -> float:
        """Pixels from `point` (x, y) to the nearest of the fitted sides."""
        return min(self._side_distances(np.asarray(point, float)))

    def to_json(self) -> dict:
        return {"source": self.source, "box": self.box, "area_px": int(self.region.sum()),
                "corners": np.round(self.corners, 1).tolist(), "width_px": round(self.width_px, 1),
                "off_frame": list(self.off_frame)}


@dataclass
class PerimeterFinding:
    source: str  # outline (the edge departs from the ideal shape) | relief (a PS defect region)
    detail: str  # missing stock | protruding stock | the defect region's kind
    where: str  # a corner (top_left, ...) or a side (top, ...)
    bbox: list[int]  # x0, y0, x1, y1 inclusive
    area_px: int
    depth_px: float  # outline: how far the edge departs from the ideal; relief: the region's depth

    @property
    def at_corner(self) -> bool:
        return self.where in CORNERS

    def to_json(self) -> dict:
        return {"source": self.source, "detail": self.detail, "where": self.where, "bbox": self.bbox,
                "area_px": self.area_px, "depth_px": self.depth_px}


# ---- the outline --------------------------------------------------------------------------------------
def _largest(binary: np.ndarray) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary.astype(np.uint8), connectivity=8)
    if count < 2:
        return np.zeros(binary.shape, bool)
    return labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))


def _enclosed(edges: np.ndarray) -> np.ndarray | None:
    """The largest region a closed band of `edges` encloses, with the band's outer half taken off."""
    h, w = edges.shape
    band = cv2.morphologyEx(edges.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8)).astype(bool)
    _count, labels = cv2.connectedComponents((~band).astype(np.uint8), connectivity=4)
    rim = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    outside = np.isin(labels, rim[rim > 0]) & ~band
    region = _largest(~outside)
    if region.sum() < MIN_CARD_SHARE * h * w:
        return None
    inside = cv2.distanceTransform(region.astype(np.uint8), cv2.DIST_L2, 3)
    _count, ring_labels = cv2.connectedComponents((band & region).astype(np.uint8), connectivity=8)
    touching = np.unique(ring_labels[region & (inside <= 1.0)])
    ring = np.isin(ring_labels, touching[touching > 0])
    contours, _ = cv2.findContours(region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    length = max(cv2.arcLength(max(contours, key=len), True), 1.0)
    return region & (inside > float(ring.sum()) / length / 2)


def _albedo_edges(albedo: np.ndarray) -> np.ndarray:
    top = float(np.percentile(albedo, 99.5)) or 1.0
    image = np.clip(albedo / top * 255.0, 0, 255).astype(np.uint8)
    high, _ = cv2.threshold(image, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return cv2.Canny(image, 0.5 * high, high) > 0


def rounded_quad(corners: np.ndarray, radius: float, per_corner: int = 10) -> np.ndarray:
    """The quadrilateral with each corner rounded by an arc of `radius` tangent to both sides; (N, 2)."""
    out = []
    for k in range(4):
        p = corners[k]
        u = corners[(k - 1) % 4] - p
        v = corners[(k + 1) % 4] - p
        u, v = u / np.linalg.norm(u), v / np.linalg.norm(v)
        half = np.arccos(np.clip(u @ v, -1.0, 1.0)) / 2
        if half < 1e-3:
            out.append(p)
            continue
        centre = p + (u + v) / np.linalg.norm(u + v) * radius / np.sin(half)
        a, b = p + u * radius / np.tan(half), p + v * radius / np.tan(half)
        start = np.arctan2(*(a - centre)[::-1])
        sweep = (np.arctan2(*(b - centre)[::-1]) - start + np.pi) % (2 * np.pi) - np.pi
        for t in np.linspace(0, 1, per_corner):
            angle = start + t * sweep
            out.append(centre + radius * np.array([np.cos(angle), np.sin(angle)]))
    return np.array(out)


def find_outline(normals: np.ndarray, albedo: np.ndarray, mask: np.ndarray | None = None) -> CardOutline:
    """The card's outline from the capture's mask, or from its normals and albedo; NoOutline says why not."""
    h, w = normals.shape[:2]
    if mask is not None:
        region = _largest(mask)
        if region.sum() >= FULL_FRAME_SHARE * h * w:
            raise NoOutline("The capture's mask covers the whole frame, so it shows no card edge.")
        source = "mask"
    else:
        tilt = np.degrees(np.arccos(np.clip(normals[..., 2], -1.0, 1.0)))
        albedo_edges = cv2.dilate(_albedo_edges(albedo).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        region, source = _enclosed((tilt >= EDGE_TILT_DEG) | ((tilt >= STEP_TILT_DEG) & albedo_edges)), "normals"
        if region is None:
            raise NoOutline("The normals show no closed card edge inside the frame; photograph the card with "
                            "background all around it.")
    off_frame = [side for side, line in zip(EDGES, (region[0], region[:, -1], region[-1], region[:, 0])) if line.any()]
    contours, _ = cv2.findContours(region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    corners = quad_from_polygon(max(contours, key=len)[:, 0, :]).corners
    outline = CardOutline(region, source, corners, np.zeros_like(region), off_frame)
    ideal = np.zeros((h, w), np.uint8)
    polygon = rounded_quad(corners, CORNER_RADIUS * outline.width_px)
    cv2.fillPoly(ideal, [np.round(polygon * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)
    outline.ideal = ideal.astype(bool)
    return outline


# ---- damage at the perimeter --------------------------------------------------------------------------
def _touches_frame(bbox: list[int], shape: tuple[int, int]) -> bool:
    return bbox[0] <= 0 or bbox[1] <= 0 or bbox[2] >= shape[1] - 1 or bbox[3] >= shape[0] - 1


def outline_findings(outline: CardOutline) -> list[PerimeterFinding]:
    """Where the card's edge departs from its ideal shape by at least the stated depth."""
    min_depth = max(DEPART_MIN_PX, DEPART_SHARE * outline.width_px)
    ideal, card = outline.ideal, outline.region
    found = []
    for departure, detail, depth_map in (
            (ideal & ~card, "missing stock", cv2.distanceTransform(ideal.astype(np.uint8), cv2.DIST_L2, 3)),
            (card & ~ideal, "protruding stock", cv2.distanceTransform((~ideal).astype(np.uint8), cv2.DIST_L2, 3))):
        count, labels, stats, centroids = cv2.connectedComponentsWithStats(departure.astype(np.uint8), connectivity=8)
        for label in range(1, count):
            x, y, bw, bh, area = (int(v) for v in stats[label])
            depth = float(depth_map[labels == label].max())
            bbox = [x, y, x + bw - 1, y + bh - 1]
            if depth >= min_depth and not _touches_frame(bbox, card.shape):
                found.append(PerimeterFinding("outline", detail, outline.where(centroids[label]), bbox, area,
                                              round(depth, 1)))
    return found


def card_defects(analysis: Analysis, outline: CardOutline) -> DefectMap:
    """The defect map of the card's face: the analysis's own when the capture's mask marked the card,
    else made again inside the outline (a map of the whole frame would call the cut edge a crease)."""
    if outline.source == "mask":
        return analysis.defects
    return defects_within(analysis, outline.region)


def relief_findings(outline: CardOutline, defects: DefectMap) -> list[PerimeterFinding]:
    """PS defect regions whose centre lies within the perimeter band of the card's edge."""
    band = PERIMETER_BAND * outline.width_px + defects.settings.edge_margin_px
    inside = cv2.distanceTransform(outline.region.astype(np.uint8), cv2.DIST_L2, 3)
    h, w = inside.shape
    found = []
    for r in defects.regions:
        cx, cy = (round(v) for v in r.centroid)
        if 0 <= cx < w and 0 <= cy < h and 0 < inside[cy, cx] <= band and not _touches_frame(r.bbox, (h, w)):
            found.append(PerimeterFinding("relief", r.kind, outline.where(r.centroid), list(r.bbox), r.area_px,
                                          r.depth_px))
    return found


def perimeter_findings(analysis: Analysis, outline: CardOutline) -> list[PerimeterFinding]:
    """Everything the capture shows at the card's perimeter: outline departures, then relief."""
    return outline_findings(outline) + relief_findings(outline, card_defects(analysis, outline))
