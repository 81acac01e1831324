"""The defect map: where the surface departs from the card's own smooth shape.

A card is flat stock with a gentle warp; its smooth shape is the normal field blurred over a scale well
above any dent or scratch (a tenth of the card's short side). A pixel is defective where its normal
turns away from that smooth shape by more than the capture's own noise allows (a robust threshold: the
median deviation plus six median absolute deviations, and never below `min_deviation_deg`). Neighbouring
defective pixels form regions; each region gets a kind guess from its shape, an area, a bounding box and
a depth estimate from the integrated depth minus its smooth shape.

Kind guess: long and thin across much of the card is a crease (length at least half the short side);
long and thin otherwise is a scratch (length at least 3 x width); anything compact is a dent.

Surface-integrity score, 0-100: 100 minus a penalty per region, never below 0. A region's penalty is its
kind's weight (crease 30, dent 12, scratch 8) times its severity, the region's mean deviation from the
smooth shape over 15 degrees (capped at 1), plus 100 x the share of the card's area it covers. So a
pristine card scores 100, one deep dent about 88, a crease about 70, and a card covered in damage 0.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import cv2
import numpy as np

KIND_WEIGHTS = {"crease": 30.0, "dent": 12.0, "scratch": 8.0}
SEVERE_DEG = 15.0
SCORE_DEFINITION = (
    "100 minus, per defect region, weight(kind) x min(1, mean deviation / 15 deg) + 100 x region area / card "
    "area; weights crease 30, dent 12, scratch 8; clamped to 0-100."
)


@dataclass
class DefectSettings:
    smooth_fraction: float = 0.1  # blur scale of the card's smooth shape, as a share of its short side
    min_deviation_deg: float = 3.0  # never call less than this a defect, however clean the capture
    noise_mads: float = 6.0
    min_area_fraction: float = 2e-4  # smaller regions are noise (about 4 px on a 160 x 120 card)
    edge_margin_px: int = 3  # the card's cut edge is not its surface


@dataclass
class DefectRegion:
    id: int
    kind: str
    bbox: list[int]  # x0, y0, x1, y1 in pixels, inclusive
    area_px: int
    centroid: list[float]  # x, y
    length_px: float
    width_px: float
    depth_px: float  # how far below (positive) or above (negative) the smooth surface it goes
    mean_deviation_deg: float
    peak_deviation_deg: float
    misfit: float | None = None  # mean photometric residual / albedo: how badly Lambert explains it

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class DefectMap:
    mask: np.ndarray  # (H, W) bool, defective pixels
    deviation: np.ndarray  # (H, W) float32 degrees from the smooth shape
    regions: list[DefectRegion]
    integrity: float
    threshold_deg: float
    card_area_px: int
    settings: DefectSettings = field(default_factory=DefectSettings)

    def summary(self) -> dict:
        counts = {kind: sum(r.kind == kind for r in self.regions) for kind in KIND_WEIGHTS}
        return {
            "integrity": round(self.integrity, 1),
            "integrity_definition": SCORE_DEFINITION,
            "threshold_deg": round(self.threshold_deg, 2),
            "defect_area_fraction": round(float(self.mask.sum()) / max(self.card_area_px, 1), 5),
            "counts": counts,
            "regions": [r.to_json() for r in self.regions],
        }


def _masked_blur(values: np.ndarray, mask: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur that only averages pixels inside the mask (normalised convolution).

    A wide blur is done on a reduced image (about 4 px of sigma there) and enlarged again: the smooth
    shape has no detail to lose, and a 200-px kernel on a full card scan would take minutes."""
    h, w = mask.shape
    weight = mask.astype(np.float32)
    num = values * (weight[..., None] if values.ndim == 3 else weight)
    factor = max(1, int(sigma // 4))
    if factor > 1:
        small = (max(1, round(w / factor)), max(1, round(h / factor)))
        num = cv2.resize(num, small, interpolation=cv2.INTER_AREA)
        weight = cv2.resize(weight, small, interpolation=cv2.INTER_AREA)
    num = cv2.GaussianBlur(num, (0, 0), sigma / factor)
    den = np.maximum(cv2.GaussianBlur(weight, (0, 0), sigma / factor), 1e-6)
    out = num / (den[..., None] if values.ndim == 3 else den)
    if factor > 1:
        out = cv2.resize(out, (w, h), interpolation=cv2.INTER_LINEAR)
    return out


def smooth_shape(normals: np.ndarray, mask: np.ndarray, sigma: float) -> np.ndarray:
    smooth = _masked_blur(normals.astype(np.float32), mask, sigma)
    return smooth / np.maximum(np.linalg.norm(smooth, axis=2, keepdims=True), 1e-6)


def _fill_holes(binary: np.ndarray) -> np.ndarray:
    """Close the ring a round dent leaves (its flat bottom deviates less than its walls)."""
    h, w = binary.shape
    flood = np.zeros((h + 2, w + 2), np.uint8)
    flood[1:-1, 1:-1] = binary
    cv2.floodFill(flood, None, (0, 0), 2)
    return (flood[1:-1, 1:-1] != 2)


def _kind(length: float, width: float, short_side: int) -> str:
    elongated = length >= 3.0 * max(width, 1.0)
    if elongated and length >= 0.5 * short_side:
        return "crease"
    if elongated:
        return "scratch"
    return "dent"


def find_defects(normals: np.ndarray, mask: np.ndarray | None = None, depth: np.ndarray | None = None,
                 settings: DefectSettings | None = None, residual: np.ndarray | None = None,
                 albedo: np.ndarray | None = None) -> DefectMap:
    """Defect mask, regions and integrity score of a card's normal map. With `depth` each region gets a
    depth; with the solver's `residual` and `albedo`, how far its shading is from Lambertian."""
    s = settings or DefectSettings()
    h, w = normals.shape[:2]
    card = np.ones((h, w), bool) if mask is None else np.asarray(mask, bool)
    short_side = int(min(h, w))
    sigma = max(2.0, s.smooth_fraction * short_side)
    smooth = smooth_shape(normals, card, sigma)
    cos = np.clip(np.einsum("ijk,ijk->ij", normals.astype(np.float32), smooth), -1.0, 1.0)
    deviation = np.degrees(np.arccos(cos)).astype(np.float32)
    deviation[~card] = 0.0
    inner = cv2.erode(card.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=s.edge_margin_px).astype(bool)
    values = deviation[inner] if inner.any() else deviation[card]
    median = float(np.median(values)) if values.size else 0.0
    mad = float(np.median(np.abs(values - median))) if values.size else 0.0
    threshold = max(s.min_deviation_deg, median + s.noise_mads * 1.4826 * mad)
    binary = ((deviation > threshold) & inner).astype(np.uint8)
    binary = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    binary = (_fill_holes(binary) & inner).astype(np.uint8)
    misfit = None
    if residual is not None and albedo is not None:
        misfit = residual / np.maximum(albedo, 1e-6)
    relief = None
    if depth is not None:
        relief = depth - _masked_blur(depth.astype(np.float32), card, sigma)
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(binary, connectivity=8)
    min_area = max(4, int(round(s.min_area_fraction * card.sum())))
    regions: list[DefectRegion] = []
    keep = np.zeros(count, bool)
    for label in range(1, count):
        x, y, bw, bh, area = (int(v) for v in stats[label])
        if area < min_area:
            continue
        keep[label] = True
        pixels = labels[y:y + bh, x:x + bw] == label
        ys, xs = np.nonzero(pixels)
        (_, _), (side_a, side_b), _ = cv2.minAreaRect(np.stack([xs + x, ys + y], axis=1).astype(np.float32))
        length, width = max(side_a, side_b) + 1.0, min(side_a, side_b) + 1.0
        dev = deviation[y:y + bh, x:x + bw][pixels]
        depth_px = 0.0
        if relief is not None:
            rel = relief[y:y + bh, x:x + bw][pixels]
            low, high = float(rel.min()), float(rel.max())
            depth_px = -low if -low >= high else -high
        regions.append(DefectRegion(
            id=len(regions) + 1, kind=_kind(length, width, short_side), bbox=[x, y, x + bw - 1, y + bh - 1],
            area_px=area, centroid=[round(float(centroids[label][0]), 1), round(float(centroids[label][1]), 1)],
            length_px=round(float(length), 1), width_px=round(float(width), 1), depth_px=round(depth_px, 3),
            mean_deviation_deg=round(float(dev.mean()), 2), peak_deviation_deg=round(float(dev.max()), 2),
            misfit=None if misfit is None else round(float(misfit[y:y + bh, x:x + bw][pixels].mean()), 4),
        ))
    card_area = int(card.sum())
    return DefectMap(keep[labels], deviation, regions, integrity_score(regions, card_area), threshold, card_area, s)


def integrity_score(regions: list[DefectRegion], card_area_px: int) -> float:
    """The documented 0-100 surface-integrity score (see the module docstring)."""
    penalty = 0.0
    for r in regions:
        severity = min(1.0, r.mean_deviation_deg / SEVERE_DEG)
        penalty += KIND_WEIGHTS[r.kind] * severity + 100.0 * r.area_px / max(card_area_px, 1)
    return float(np.clip(100.0 - penalty, 0.0, 100.0))
