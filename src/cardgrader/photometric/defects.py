"""The defect map: where the surface departs from the card's own smooth shape by more than its noise.

A card is flat stock with a gentle warp; its smooth shape is the normal field blurred over a scale well
above any dent or scratch (a tenth of the card's short side), blurred a second time without the pixels
the first pass found standing out, so that a deep dent leaves no halo. Each pixel's deviation from that
shape is judged against the noise its own normal carries (`defect_noise`): more where the print is dark,
where the solver kept fewer lights, where its residual says Lambert's model did not hold, and where the
neighbourhood's normals scatter; the scale is measured on the card itself. The rule (`defect_evidence`):

- a pixel deviates past `grow_sigmas` times its noise; a defect is a connected group of such pixels that
  holds one past `seed_sigmas` and covers `min_area_px` (and `min_area_fraction` of the card): noise
  alone leaves specks of a few pixels, and on a noiseless capture the floor makes `min_deviation_deg`
  the smallest departure called a defect;
- its walls tilt against each other, as relief that starts and ends at the surface does (its tilts lean
  one way by at most `max_lean` of their sum); a patch leaning as one is a shading error;
- pieces of one scratch that dark ink interrupted are one region.

Each region gets a kind guess from its shape, an area, a bounding box and a depth from the integrated
depth minus its smooth shape. Kind guess: long and thin across much of the card is a crease (length at
least half the short side); long and thin otherwise is a scratch (length at least 3 x width); anything
compact is a dent.

Surface-integrity score, 0-100: 100 minus a penalty per region, never below 0. A region's penalty is its
kind's weight (crease 30, dent 12, scratch 8) times its severity, the region's mean deviation from the
smooth shape over 15 degrees (capped at 1), plus 100 x the share of the card's area it covers. So a
pristine card scores 100, one deep dent about 88, a crease about 70, and a card covered in damage 0.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace

import cv2
import numpy as np

from cardgrader.photometric.defect_evidence import (
    closed_relief,
    components,
    scratch_links,
    seeded_groups,
    significant,
)
from cardgrader.photometric.defect_noise import median, noise_parts, pixel_noise, sample

KIND_WEIGHTS = {"crease": 30.0, "dent": 12.0, "scratch": 8.0}
SEVERE_DEG = 15.0
SCORE_DEFINITION = (
    "100 minus, per defect region, weight(kind) x min(1, mean deviation / 15 deg) + 100 x region area / card "
    "area; weights crease 30, dent 12, scratch 8; clamped to 0-100."
)
DEFECT_DEFINITION = (
    "A pixel deviates where its normal departs from the card's smooth shape (the normals blurred over a "
    "tenth of the short side) by more than {grow:g} times the noise its own normal carries: the noise "
    "measured on the card (or in the pixel's neighbourhood, where larger) divided by the pixel's albedo "
    "and by the square root of the share of lights the solver used, and widened where the photometric "
    "residual shows shading that Lambert's model does not explain. A defect is a connected group of such "
    "pixels, at least one past {seed:g} times its noise, covering at least {area} px, whose walls tilt "
    "against each other as a dent's, scratch's or crease's do (a patch whose tilts lean one way by more "
    "than {lean:.0%} of their sum is shading, not relief); the pieces of one scratch that dark ink "
    "interrupts count once. On a noiseless capture nothing under {floor:g} deg counts."
)
WORKING_DEFINITION = (
    " The map is made on the means of {f} x {f} pixels (normals, albedo, residual), since the capture's short "
    "side is at least {f} x {side} px: its smallest defect covers {working} such means. Each region's "
    "deviation and depth are measured on the capture's own pixels."
)


@dataclass
class DefectSettings:
    smooth_fraction: float = 0.1  # blur scale of the card's smooth shape, as a share of its short side
    min_deviation_deg: float = 3.0  # never call less than this a defect, however clean the capture
    seed_sigmas: float = 5.0  # a defect holds a pixel this many noise deviations off the smooth shape ...
    grow_sigmas: float = 3.0  # ... and is the group of pixels past this many around it
    min_area_px: int = 24  # noise past grow_sigmas lies in specks of a few pixels ...
    min_area_fraction: float = 2e-4  # ... and a defect is never smaller than this share of the card
    max_lean: float = 0.6  # relief's walls tilt against each other; a patch leaning as one is shading
    edge_margin_px: int = 3  # the card's cut edge is not its surface
    work_side: int = 1000  # a capture whose short side is k times this (k >= 2) is mapped on k x k pixel means

    def factor(self, height: int, width: int) -> int:
        """How many pixels a side of one working pixel spans: 1 up to twice `work_side` on the short side."""
        return max(1, min(height, width) // self.work_side) if self.work_side > 0 else 1

    def min_area(self, card_area_px: int) -> int:
        return max(self.min_area_px, round(self.min_area_fraction * card_area_px))

    def definition(self, card_area_px: int, factor: int = 1) -> str:
        """The rule in words; `card_area_px` is the card's area in the capture's pixels."""
        working = self.min_area(card_area_px // (factor * factor))
        text = DEFECT_DEFINITION.format(grow=self.grow_sigmas, seed=self.seed_sigmas, area=working * factor * factor,
                                        lean=self.max_lean, floor=self.min_deviation_deg)
        if factor > 1:
            text += WORKING_DEFINITION.format(f=factor, side=self.work_side, working=working)
        return text


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
    noise_multiple: float | None = None  # median deviation over the pixel's own noise (1 is noise)

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class DefectMap:
    mask: np.ndarray  # (H, W) bool, defective pixels
    deviation: np.ndarray  # (H, W) float32 degrees from the smooth shape
    regions: list[DefectRegion]
    integrity: float
    threshold_deg: float  # the seed threshold (seed_sigmas x noise) at the card's median pixel
    card_area_px: int
    settings: DefectSettings = field(default_factory=DefectSettings)
    noise_deg: np.ndarray | None = None  # (H, W) float32, each pixel's noise (sd per axis), degrees
    median_noise_deg: float = 0.0  # the noise of the card's median pixel
    factor: int = 1  # `deviation` and `noise_deg` are at the working resolution: H / factor x W / factor

    @property
    def working_size(self) -> list[int]:
        """Width and height of the working resolution."""
        return [int(self.deviation.shape[1]), int(self.deviation.shape[0])]

    def summary(self) -> dict:
        counts = {kind: sum(r.kind == kind for r in self.regions) for kind in KIND_WEIGHTS}
        return {
            "integrity": round(self.integrity, 1),
            "integrity_definition": SCORE_DEFINITION,
            "defect_definition": self.settings.definition(self.card_area_px, self.factor),
            "working_size": self.working_size,
            "threshold_deg": round(self.threshold_deg, 2),
            "noise_deg": round(self.median_noise_deg, 3),
            "defect_area_fraction": round(float(self.mask.sum()) / max(self.card_area_px, 1), 5),
            "counts": counts,
            "regions": [r.to_json() for r in self.regions],
        }


Box = tuple[int, str, list[int]]  # a region's id, kind and bbox (x0, y0, x1, y1, inclusive)


@dataclass
class DefectOutline:
    """Where a map's regions lie before each is measured, in the capture's pixels: what a picture of
    them needs (`ps solve` starts writing defects.png with it while the regions are measured)."""
    mask: np.ndarray  # (H, W) bool, defective pixels
    boxes: list[Box]

    @classmethod
    def of(cls, found: DefectMap) -> DefectOutline:
        return cls(found.mask, [(r.id, r.kind, r.bbox) for r in found.regions])


Outlined = Callable[[DefectOutline], None]


_SUM3 = np.ones((1, 3), np.float32)


def _masked_blur(values: np.ndarray, mask: np.ndarray | None, sigma: float, unit: bool = False) -> np.ndarray:
    """Gaussian blur that only averages pixels inside the mask (normalised convolution); `mask` None is
    the whole image. `unit`: (H, W, 3) vectors come back of unit length.

    A wide blur is done on a reduced image (about 4 px of sigma there) and enlarged again: the smooth
    shape has no detail to lose, and a 200-px kernel on a full card scan would take minutes."""
    h, w = values.shape[:2]
    factor = max(1, int(sigma // 4))
    small = (max(1, round(w / factor)), max(1, round(h / factor))) if factor > 1 else (w, h)
    weight = None  # with `unit`, not needed: the weight scales a vector's length only
    if mask is None:
        num = values
        if not unit:
            weight = np.ones(small[::-1], np.float32)
    elif mask.dtype == bool:  # a 0/1 weight: the pixels of the mask, zeros elsewhere
        num = cv2.copyTo(values, np.ascontiguousarray(mask).view(np.uint8))
        if not unit:
            weight = mask.astype(np.float32)
    else:
        weight = mask.astype(np.float32)
        num = values * (weight[..., None] if values.ndim == 3 else weight)
    if factor > 1:
        num = cv2.resize(num, small, interpolation=cv2.INTER_AREA)
        if mask is not None and weight is not None:
            weight = cv2.resize(weight, small, interpolation=cv2.INTER_AREA)
    num = cv2.GaussianBlur(num, (0, 0), sigma / factor)
    if unit:
        out = cv2.resize(num, (w, h), interpolation=cv2.INTER_LINEAR) if factor > 1 else num
        return _unit(out)  # after the enlargement: a deviation of a fraction of a degree needs exact lengths
    den = np.maximum(cv2.GaussianBlur(weight, (0, 0), sigma / factor), 1e-6)
    out = num / (den[..., None] if values.ndim == 3 else den)
    if factor > 1:
        out = cv2.resize(out, (w, h), interpolation=cv2.INTER_LINEAR)
    return out


def _unit(vectors: np.ndarray) -> np.ndarray:
    """`vectors` (H, W, 3) float32 made unit length, in place (a zero vector stays zero)."""
    # Each step into an array already made: a fresh card-size array costs more than the arithmetic.
    work = cv2.multiply(vectors, vectors)
    inverse = cv2.transform(work, _SUM3)  # the squared length
    cv2.max(inverse, 1e-12, dst=inverse)
    cv2.pow(inverse, -0.5, dst=inverse)  # 1 / max(length, 1e-6)
    return cv2.multiply(vectors, cv2.merge((inverse, inverse, inverse), dst=work), dst=vectors)


def smooth_shape(normals: np.ndarray, mask: np.ndarray, sigma: float) -> np.ndarray:
    return _masked_blur(normals.astype(np.float32), mask, sigma, unit=True)


def _blur_without(values: np.ndarray, keep: np.ndarray, supported: np.ndarray, sigma: float,
                  whole, unit: bool = False) -> np.ndarray:
    """The masked blur of `values` over `keep`, and `whole()` (the blur over the whole card) where `keep`
    leaves too little to go on (not `supported`)."""
    out = _masked_blur(values, keep, sigma, unit)
    if not supported.all():
        lacking = ~supported
        np.copyto(out, whole(), where=lacking[..., None] if values.ndim == 3 else lacking)
    return out


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


def _deviation(normals: np.ndarray, smooth: np.ndarray, card: np.ndarray | None, degrees: bool = True) -> np.ndarray:
    """Degrees (or radians) between each unit normal and the unit smooth shape (0 off the card): twice the
    angle whose sine is half their chord |n - s|. Exact at small angles too, where the arccosine of a
    float32 cosine near 1 keeps few digits (a 0.2 degree deviation came out up to 30 % off), and in
    OpenCV's loops, which run on every core, where numpy's arccosine runs on one."""
    chord = cv2.subtract(normals, smooth)
    half = cv2.transform(cv2.multiply(chord, chord, dst=chord), _SUM3)  # |n - s|^2 = (2 sin(t / 2))^2
    cv2.sqrt(half, dst=half)
    cv2.multiply(half, 0.5, dst=half)  # sin(t / 2)
    other = cv2.multiply(half, half)
    cv2.subtract(1.0, other, dst=other)
    cv2.sqrt(cv2.max(other, 0.0, dst=other), dst=other)  # cos(t / 2)
    angle = cv2.phase(other, half, angle=other, angleInDegrees=degrees)  # to 2e-4 of itself
    cv2.multiply(angle, 2.0, dst=angle)
    if card is not None:
        angle[~card] = 0.0
    return angle


Depth = np.ndarray | Callable[[], np.ndarray] | None  # an array, or a call that gives it when a region needs it


def find_defects(normals: np.ndarray, mask: np.ndarray | None = None, depth: Depth = None,
                 settings: DefectSettings | None = None, residual: np.ndarray | None = None,
                 albedo: np.ndarray | None = None, used_fraction: np.ndarray | None = None,
                 outlined: Outlined | None = None) -> DefectMap:
    """Defect mask, regions and integrity score of a card's normal map. `albedo` (and the robust solver's
    `used_fraction`, the share of lights each pixel kept) tell where its normals are noisy; the solver's
    `residual` where Lambert's model failed; with `depth` each region gets a depth (`depth` may be a call
    that gives the depth map: it is made only if there is a region, so depth can be integrated meanwhile).

    A capture whose short side is at least twice `settings.work_side` is mapped on the means of k x k
    pixels (`DefectSettings.factor`); the mask and the regions are given in the capture's pixels.
    `outlined(outline)`, where given, is called once the regions' pixels and kinds are known, before
    they are measured (not at all on a map without regions)."""
    s = settings or DefectSettings()
    h, w = normals.shape[:2]
    f = s.factor(h, w)
    if f == 1:
        own = None if outlined is None else (lambda found, boxes: outlined(DefectOutline(found, boxes)))
        return _find_defects(normals, mask, depth, s, residual, albedo, used_fraction, outlined=own)
    card = None if mask is None else np.asarray(mask, bool)
    binned_mask = None if card is None else _bin(card.astype(np.float32), f) >= 0.5
    enlarged: list[np.ndarray] = []  # the mask in the capture's pixels, once the outline has made it

    def outline(found: np.ndarray, boxes: list[Box]) -> None:
        enlarged.append(_enlarged_mask(found, f, (h, w)))
        outlined(DefectOutline(enlarged[0], [(i, kind, _enlarged_box(box, f)) for i, kind, box in boxes]))

    found = _find_defects(_unit(_bin(normals, f)), binned_mask, depth, s,
                          *(None if a is None else _bin(a, f) for a in (residual, albedo, used_fraction)), factor=f,
                          capture_normals=np.asarray(normals, np.float32),
                          outlined=None if outlined is None else outline)
    return _enlarge(found, f, (h, w), h * w if card is None else int(np.count_nonzero(card)),
                    enlarged[0] if enlarged else None)


def _depth_map(depth: Depth) -> np.ndarray:
    return np.ascontiguousarray(depth() if callable(depth) else depth, np.float32)


class _OnCapture:
    """A region measured on the capture's own pixels (the f x f each working pixel stands for): its
    deviation from the smooth shape and its depth. On their means a crease's sharp fold would lose a
    fifth of its height and tilt, and so would the score. `smooth` (unit length or not) and
    `smooth_depth` are the card's smooth shape at the working resolution, enlarged (interpolated)."""

    def __init__(self, f: int, normals: np.ndarray, smooth: np.ndarray, depth: np.ndarray | None,
                 smooth_depth: np.ndarray | None):
        self.f, self.normals, self.smooth, self.depth, self.smooth_depth = f, normals, smooth, depth, smooth_depth

    def _enlarged(self, values: np.ndarray, x: int, y: int, bw: int, bh: int) -> np.ndarray:
        """`values` in the working window (x, y, bw, bh), enlarged to the capture's pixels; taken with a
        pixel of margin so that the interpolation at the window's edge sees the pixels beyond it."""
        h, w = values.shape[:2]
        x0, y0, x1, y1 = max(0, x - 1), max(0, y - 1), min(w, x + bw + 1), min(h, y + bh + 1)
        f = self.f
        big = cv2.resize(np.ascontiguousarray(values[y0:y1, x0:x1]), ((x1 - x0) * f, (y1 - y0) * f),
                         interpolation=cv2.INTER_LINEAR)
        return big[(y - y0) * f:(y - y0 + bh) * f, (x - x0) * f:(x - x0 + bw) * f]

    def measure(self, pixels: np.ndarray, x: int, y: int) -> tuple[np.ndarray, float | None]:
        """Deviation (degrees) of the capture's pixels under a region's working `pixels` (a window whose
        top left corner is the working pixel (x, y)), and the region's depth (None without depth)."""
        f, (bh, bw) = self.f, pixels.shape
        member = cv2.resize(pixels.astype(np.uint8), (bw * f, bh * f), interpolation=cv2.INTER_NEAREST) > 0
        window = (slice(y * f, (y + bh) * f), slice(x * f, (x + bw) * f))
        smooth = _unit(np.ascontiguousarray(self._enlarged(self.smooth, x, y, bw, bh)))
        deviation = _deviation(np.ascontiguousarray(self.normals[window]), smooth, None)[member]
        if self.depth is None:
            return deviation, None
        relief = self.depth[window] - self._enlarged(self.smooth_depth, x, y, bw, bh)
        return deviation, _extreme(relief[member])


def _extreme(relief: np.ndarray) -> float:
    """How far below (positive) or above (negative) the smooth surface a region's relief goes."""
    low, high = float(relief.min()), float(relief.max())
    return -low if -low >= high else -high


def _bin(values: np.ndarray, f: int) -> np.ndarray:
    """The means of `f` x `f` pixel blocks (float32; a last partial row or column of blocks is dropped)."""
    h, w = values.shape[:2]
    hb, wb = h // f, w // f
    return cv2.resize(np.asarray(values, np.float32)[:hb * f, :wb * f], (wb, hb), interpolation=cv2.INTER_AREA)


def _enlarged_mask(found: np.ndarray, f: int, shape: tuple[int, int]) -> np.ndarray:
    """A working-resolution mask in the capture's pixels (`shape`)."""
    h, w = shape
    hb, wb = found.shape
    mask = np.zeros((h, w), bool)
    if found.any():
        mask[:hb * f, :wb * f] = cv2.resize(found.view(np.uint8), (wb * f, hb * f),
                                            interpolation=cv2.INTER_NEAREST).view(bool)
    return mask


def _enlarged_box(box: list[int], f: int) -> list[int]:
    x0, y0, x1, y1 = box
    return [x0 * f, y0 * f, (x1 + 1) * f - 1, (y1 + 1) * f - 1]


def _enlarge(found: DefectMap, f: int, shape: tuple[int, int], card_area: int,
             mask: np.ndarray | None = None) -> DefectMap:
    """A defect map made on `f` x `f` pixel means, in the capture's pixels (`shape`, the card `card_area`);
    `mask`: its mask there, where already made."""
    mask = _enlarged_mask(found.mask, f, shape) if mask is None else mask
    regions = [replace(r, bbox=_enlarged_box(r.bbox, f), area_px=r.area_px * f * f,
                       centroid=[round((c + 0.5) * f - 0.5, 1) for c in r.centroid],
                       length_px=round(r.length_px * f, 1), width_px=round(r.width_px * f, 1))
               for r in found.regions]
    return replace(found, mask=mask, regions=regions, integrity=integrity_score(regions, card_area),
                   card_area_px=card_area, factor=f)


def _find_defects(normals: np.ndarray, mask: np.ndarray | None, depth: Depth, s: DefectSettings,
                  residual: np.ndarray | None, albedo: np.ndarray | None,
                  used_fraction: np.ndarray | None, factor: int = 1,
                  capture_normals: np.ndarray | None = None,
                  outlined: Callable[[np.ndarray, list[Box]], None] | None = None) -> DefectMap:
    """The defect map of `normals` and the maps beside them, all at the working resolution, except
    `depth`: the capture's own, `factor` times as large a side, as `capture_normals` are. `outlined` is
    given the working mask and the regions' boxes there, before they are measured."""
    normals = np.ascontiguousarray(normals, np.float32)
    h, w = normals.shape[:2]
    card = np.ones((h, w), bool) if mask is None else np.asarray(mask, bool)
    whole_card = card if mask is not None and not card.all() else None  # None: every pixel is the card
    card_area = int(card.sum())
    sigma = max(2.0, s.smooth_fraction * min(h, w))
    inner = cv2.erode(card.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=s.edge_margin_px).astype(bool)
    if not inner.any():
        inner = card
    floor = np.radians(s.min_deviation_deg / s.seed_sigmas)
    # What the noise takes besides the deviation does not depend on it: it is worked out on a second thread,
    # as later the card's typical noise and the depth's smooth shape are, beside what needs them only at the end.
    with ThreadPoolExecutor(1) as helper:
        parts = helper.submit(noise_parts, normals, inner, albedo, used_fraction, residual)
        blurred = _masked_blur(normals, whole_card, sigma, unit=True)
        first = _deviation(normals, blurred, whole_card, degrees=False)
        noise = pixel_noise(first, parts.result(), inner, floor)
        # The smooth shape again without what stood out: a deep dent or a patch of bad normals would pull
        # the blur and leave a halo of false deviation around itself.
        outliers = cv2.dilate((first > s.grow_sigmas * noise).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        shape_from = card & ~outliers
        noise *= np.float32(180.0 / np.pi)  # degrees from here on
        typical = helper.submit(lambda: median(sample(noise[inner])))
        supported = _masked_blur(shape_from.astype(np.float32), whole_card, sigma) > 0.2
        smooth = _blur_without(normals, shape_from, supported, sigma, lambda: blurred, unit=True)
        deviation = _deviation(normals, smooth, whole_card)

        def tilt(ys: np.ndarray, xs: np.ndarray) -> np.ndarray:  # from the (unit) smooth shape, where asked
            return normals[ys, xs, :2] - smooth[ys, xs, :2]

        def depth_and_shape() -> tuple[np.ndarray, np.ndarray]:
            """The capture's depth (waited for) and its smooth shape at the working resolution."""
            full = _depth_map(depth)
            working = full if factor == 1 else _bin(full, factor)
            return full, _blur_without(working, shape_from, supported, sigma,
                                       lambda: _masked_blur(working, whole_card, sigma))

        z = deviation / noise
        seeds = (z > s.seed_sigmas) & inner
        binary = significant(z, inner, s.seed_sigmas, s.grow_sigmas, s.min_area(card_area), seeds).astype(np.uint8)
        # From here on only the groups' box matters (with a margin for the closing, the opening and the
        # flood fill, which then see the same zeros around the groups as on the whole card).
        x, y, bw, bh = cv2.boundingRect(binary)
        x0, y0 = max(0, x - 8), max(0, y - 8)
        box = (slice(y0, min(h, y + bh + 8)), slice(x0, min(w, x + bw + 8)))
        found = np.zeros((h, w), bool)
        regions: list[DefectRegion] = []
        if bw and bh:
            shaped = None if depth is None else helper.submit(depth_and_shape)
            binary = cv2.morphologyEx(binary[box], cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
            binary = closed_relief(binary, tilt, s.max_lean,
                                   offset=(x0, y0))
            binary = seeded_groups(binary, seeds[box], s.min_area(card_area)).astype(np.uint8)
            binary = (_fill_holes(binary) & inner[box]).astype(np.uint8)
            depth, smooth_depth = (None, None) if shaped is None else shaped.result()
            on_capture = None if factor == 1 else _OnCapture(factor, capture_normals, smooth, depth, smooth_depth)
            misfit = None if residual is None or albedo is None else (residual[box], albedo[box])
            found[box] = binary > 0
            regions = _regions(binary, deviation[box], z[box], misfit, min(h, w), (x0, y0),
                               relief=None if depth is None or factor > 1 else depth - smooth_depth,
                               on_capture=on_capture,
                               outlined=None if outlined is None else (lambda boxes: outlined(found, boxes)))
        typical = typical.result()
    return DefectMap(found, deviation, regions, integrity_score(regions, card_area),
                     s.seed_sigmas * typical, card_area, s, noise, typical)


def _regions(binary: np.ndarray, deviation: np.ndarray, z: np.ndarray,
             misfit: tuple[np.ndarray, np.ndarray] | None, short_side: int,
             offset: tuple[int, int] = (0, 0), relief: np.ndarray | None = None,
             on_capture: _OnCapture | None = None,
             outlined: Callable[[list[Box]], None] | None = None) -> list[DefectRegion]:
    """One region per connected group of defective pixels (pieces of one scratch count as one).
    `misfit` is (residual, albedo): the region's misfit is its mean residual / albedo; `relief` the
    card's depth less its smooth shape, or `on_capture` measures deviation and depth on the capture's
    own pixels. The arrays but `relief` may be a window of the card whose top left corner is `offset`
    (x, y); regions are placed on the card. `outlined(boxes)` is called once every region's place and
    kind are known, before any is measured."""
    links = scratch_links(binary, offset=offset).astype(np.uint8)
    count, labels, boxes = components(binary | links)
    ox, oy = offset
    shapes = []
    for label in range(1, count):
        x, y, bw, bh = (int(v) for v in boxes[label])
        window = (slice(y, y + bh), slice(x, x + bw))
        pixels = (labels[window] == label) & (binary[window] > 0)  # the links join pieces, they are not defects
        ys, xs = np.nonzero(pixels)
        if not ys.size:
            continue
        # The rectangle of the pixels' outlines: the same hull as all the pixels, at a fraction of the points.
        outlines, _ = cv2.findContours(pixels.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE,
                                       offset=(x + ox, y + oy))
        (_, _), (side_a, side_b), _ = cv2.minAreaRect(np.concatenate(outlines).reshape(-1, 2).astype(np.float32))
        length, width = max(side_a, side_b) + 1.0, min(side_a, side_b) + 1.0
        bbox = [x + ox + int(xs.min()), y + oy + int(ys.min()), x + ox + int(xs.max()), y + oy + int(ys.max())]
        shapes.append((x, y, window, pixels, ys, xs, length, width, _kind(length, width, short_side), bbox))
    if outlined is not None:
        outlined([(i + 1, kind, bbox) for i, (*_, kind, bbox) in enumerate(shapes)])
    regions: list[DefectRegion] = []
    for x, y, window, pixels, ys, xs, length, width, kind, bbox in shapes:
        dev, depth_px = deviation[window][pixels], 0.0
        if on_capture is not None:
            dev, depth = on_capture.measure(pixels, x + ox, y + oy)
            depth_px = depth or 0.0
        elif relief is not None:
            depth_px = _extreme(relief[ys + y + oy, xs + x + ox])
        regions.append(DefectRegion(
            id=len(regions) + 1, kind=kind, bbox=bbox, area_px=int(ys.size),
            centroid=[round(float(xs.mean()) + x + ox, 1), round(float(ys.mean()) + y + oy, 1)],
            length_px=round(float(length), 1), width_px=round(float(width), 1), depth_px=round(depth_px, 3),
            mean_deviation_deg=round(float(dev.mean()), 2), peak_deviation_deg=round(float(dev.max()), 2),
            misfit=None if misfit is None else round(float(
                (misfit[0][window][pixels] / np.maximum(misfit[1][window][pixels], 1e-6)).mean()), 4),
            noise_multiple=round(median(z[window][pixels]), 2),
        ))
    return regions


def integrity_score(regions: list[DefectRegion], card_area_px: int) -> float:
    """The documented 0-100 surface-integrity score (see the module docstring)."""
    penalty = 0.0
    for r in regions:
        severity = min(1.0, r.mean_deviation_deg / SEVERE_DEG)
        penalty += KIND_WEIGHTS[r.kind] * severity + 100.0 * r.area_px / max(card_area_px, 1)
    return float(np.clip(100.0 - penalty, 0.0, 100.0))
