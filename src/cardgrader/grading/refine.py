"""Sub-pixel refinement of the eight border lines from the photo itself.

A border model's quads are coarse (a few model pixels, and a detect model's box has no rotation). For each
side of the card this module samples the photo across the coarse outer and inner line, finds the edge in
every profile, and fits a straight line robustly:

1. A box gets its rotation first: the rectangle of that rotation that just fits the box whose sides lie on
   the strongest edges (outer and inner border together).
2. Pass 1 (locate): the border's colour is the most common colour between the two coarse lines. Along each
   profile, the distance from that colour rises where the border ends, outward at the card's edge and inward
   at the printed frame; opposite rises (the frame seen from the outside) and edges with no border colour on
   their border side (background texture, artwork) are not candidates. A line through the candidates is
   found by RANSAC, scored by edge strength with a mild pull toward the coarse line.
3. Pass 2 (measure): in a narrow window around that line, each profile's colour change is projected on its
   own step direction (border colour → far side, measured there, so uneven light does not bias it), the
   gradient's peak is located to sub-pixel with a 3-point Gaussian fit, and the line is refitted with Tukey
   weights: print, glare, chipped edges and corner arcs (only the middle of each side is sampled) drop out.

Only the pixels along the profiles are read (small regions converted to float), so a 2000×2800 photo costs
about as much as a 480×640 one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from cardgrader.grading.quads import SIDE_CORNERS, SIDES, Quad

MIDDLE = (0.12, 0.88)  # the part of each side sampled: corner arcs (about 3 mm of a 63 mm card) stay out
BAND = 0.03  # pass 1 search, either side of the coarse line, of the card's short side
MIN_BAND_PX = 6.0
WINDOW = 0.006  # pass 2 window either side of the pass 1 line, of the card's short side
MIN_WINDOW_PX = 3.0
MAX_TILT_DEG = 6.0  # a refined line may turn this much from its coarse line
BOX_ANGLES_DEG = 8.0  # a box's rotation is searched within ±this
MIN_CONTRAST = 8.0  # grey levels (0-255 scale) between border and the other side for an edge to count
MIN_SUPPORT = 0.3  # share of a side's profiles that must agree on the line
COLOUR_RADIUS = 30.0  # grey levels: samples this close count as the same border colour


class Sampler:
    """Bilinear samples of a photo at float positions (OpenCV's remap: only the sampled pixels are read)."""

    def __init__(self, image: np.ndarray):
        image = np.asarray(image)
        if image.ndim == 3 and image.shape[2] == 4:
            image = image[:, :, :3]
        if image.dtype not in (np.uint8, np.uint16, np.float32):
            image = image.astype(np.float32)
        self.image = np.ascontiguousarray(image)
        self.scale = 255.0 / 65535.0 if image.dtype == np.uint16 else \
            (255.0 if image.dtype == np.float32 and image.max(initial=0) <= 1.0 else 1.0)
        self.channels = 1 if image.ndim == 2 else image.shape[2]

    def __call__(self, points: np.ndarray) -> np.ndarray:
        """points (..., 2) → colours (..., channels) float32, 0-255 scale."""
        shape = points.shape[:-1]
        flat = points.reshape(-1, 2)
        count = flat.shape[0]
        rows = -(-count // 256)  # remap's maps are 2-D and below 32767 a side: 256 wide, padded
        maps = np.zeros((rows * 256, 2), np.float32)
        maps[:count] = flat
        maps = maps.reshape(rows, 256, 2)
        out = cv2.remap(self.image, maps[..., 0], maps[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        out = out.reshape(-1, self.channels)[:count].astype(np.float32)
        if self.scale != 1.0:
            out *= np.float32(self.scale)
        return out.reshape(*shape, self.channels)


@dataclass
class Side:
    """One side of a coarse quad as the frame profiles are taken in: corners a→b, unit direction, outward normal."""

    a: np.ndarray
    b: np.ndarray
    u: np.ndarray
    n: np.ndarray
    length: float

    @classmethod
    def of(cls, quad: Quad, name: str) -> Side:
        a, b = quad.side(name)
        length = float(np.linalg.norm(b - a))
        u = (b - a) / max(length, 1e-9)
        n = np.array([-u[1], u[0]])
        if np.dot(n, (a + b) / 2 - quad.centre) < 0:
            n = -n
        return cls(a, b, u, n, length)

    def point(self, t: np.ndarray) -> np.ndarray:
        return self.a + np.asarray(t)[..., None] * (self.b - self.a)

    def line(self, offset: float, slope: float) -> tuple[np.ndarray, np.ndarray]:
        """The line at `offset + slope·tau` px along the normal (tau from the side's middle) as two points at the
        coarse side's ends."""
        ends = []
        for t in (0.0, 1.0):
            tau = (t - 0.5) * self.length
            ends.append(self.point(t) + (offset + slope * tau) * self.n)
        return ends[0], ends[1]


@dataclass
class Refinement:
    """The eight lines found (name → two points), the ones not found, and the coarse quads they started from."""

    lines: dict[str, tuple[np.ndarray, np.ndarray]]
    failed: list[str] = field(default_factory=list)
    outer: Quad | None = None
    inner: Quad | None = None


# ---- a box's rotation ----------------------------------------------------------------------------------
def _inscribed(box: Quad, degrees: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Corners (angles, 4, 2) of the rectangles turned by `degrees` (clockwise on screen) whose bounding box is
    `box`, and whether each exists."""
    width, height = box.size
    a = np.radians(np.asarray(degrees, dtype=np.float64))
    c, s = np.cos(np.abs(a)), np.sin(np.abs(a))
    det = c * c - s * s
    w, h = (width * c - height * s) / det, (height * c - width * s) / det
    rot = np.stack([np.stack([np.cos(a), -np.sin(a)], -1), np.stack([np.sin(a), np.cos(a)], -1)], -2)  # (A, 2, 2)
    half = np.stack([np.stack([-w, -h], -1), np.stack([w, -h], -1), np.stack([w, h], -1),
                     np.stack([-w, h], -1)], 1) / 2  # (A, 4, 2)
    return box.centre + np.einsum("aij,akj->aki", rot, half), (w > 1) & (h > 1)


OUTWARD = {"left": (-1.0, 0.0), "right": (1.0, 0.0), "top": (0.0, -1.0), "bottom": (0.0, 1.0)}


def _edge_scores(sampler: Sampler, boxes: tuple[Quad, Quad], degrees: np.ndarray, step: float) -> np.ndarray:
    """For each rotation, the mean colour change across the middle of the eight sides of the inscribed rectangles."""
    t = np.linspace(MIDDLE[0], MIDDLE[1], 24)
    a = np.radians(degrees)
    rot = np.stack([np.stack([np.cos(a), -np.sin(a)], -1), np.stack([np.sin(a), np.cos(a)], -1)], -2)
    points, valid = [], np.ones(len(degrees), dtype=bool)
    for box in boxes:
        corners, ok = _inscribed(box, degrees)
        valid &= ok
        for name in SIDES:
            i, j = SIDE_CORNERS[name]
            base = corners[:, i, None] + t[None, :, None] * (corners[:, j] - corners[:, i])[:, None]  # (A, 24, 2)
            normal = rot @ np.array(OUTWARD[name])  # (A, 2)
            points.append(np.stack([base + step * normal[:, None], base - step * normal[:, None]], 1))
    colours = sampler(np.stack(points, 1))  # (A, 8, 2, 24, C)
    score = np.linalg.norm(colours[:, :, 0] - colours[:, :, 1], axis=-1).mean(axis=(1, 2))
    return np.where(valid, score, -1.0)


def rotate_boxes(sampler: Sampler, outer: Quad, inner: Quad) -> tuple[Quad, Quad, float]:
    """A detect model's boxes → the rectangles of the card's rotation inscribed in them, and that rotation."""
    step = max(1.5, 0.004 * min(outer.size))
    coarse = np.arange(-BOX_ANGLES_DEG, BOX_ANGLES_DEG + 1e-9, 0.5)
    best = float(coarse[int(np.argmax(_edge_scores(sampler, (outer, inner), coarse, step)))])
    fine = best + np.arange(-0.5, 0.5 + 1e-9, 0.1)
    best = float(fine[int(np.argmax(_edge_scores(sampler, (outer, inner), fine, step)))])
    (o, ok_o), (i, ok_i) = _inscribed(outer, np.array([best])), _inscribed(inner, np.array([best]))
    if not (ok_o[0] and ok_i[0]):
        return outer, inner, 0.0
    return Quad(o[0]), Quad(i[0]), best


# ---- the border's colour -------------------------------------------------------------------------------
def border_colours(sampler: Sampler, outer: Quad, inner: Quad) -> dict[str, np.ndarray]:
    """The printed border's colour per side: the most common colour between the coarse outer and inner line
    (all sides together, so a side whose coarse lines miss its thin border still gets it), then each side's
    own median of the samples near it (light falls unevenly across a card)."""
    t = np.linspace(MIDDLE[0], MIDDLE[1], 24)
    fractions = np.array([0.3, 0.5, 0.7])
    per_side = []
    for name in SIDES:
        po, pi = Side.of(outer, name).point(t), Side.of(inner, name).point(t)
        per_side.append(po[None] + fractions[:, None, None] * (pi - po)[None])
    samples = sampler(np.stack(per_side)).reshape(len(SIDES), -1, sampler.channels)
    flat = samples.reshape(-1, sampler.channels)
    distance = np.linalg.norm(flat[:, None] - flat[None], axis=-1)
    near = distance < COLOUR_RADIUS
    mode = flat[near[int(np.argmax(near.sum(1)))]].mean(0)
    out = {}
    for k, name in enumerate(SIDES):
        close = samples[k][np.linalg.norm(samples[k] - mode, axis=-1) < 2 * COLOUR_RADIUS]
        out[name] = np.median(close, axis=0) if len(close) >= 5 else mode
    return out


# ---- pass 1: locate ------------------------------------------------------------------------------------
def _profiles(sampler: Sampler, side: Side, t: np.ndarray, centre: np.ndarray, s: np.ndarray,
              tangent: float) -> np.ndarray:
    """Colours (profiles, samples, C) along the normal at offsets `s` from `centre` (profiles, 2), each the mean
    of three parallel profiles `tangent` px apart (less noise)."""
    points = centre[:, None, None, :] + s[None, :, None, None] * side.n + \
        np.array([-tangent, 0.0, tangent])[None, None, :, None] * side.u
    return sampler(points).mean(axis=2)


def _weighted_line(tau: np.ndarray, s: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted least squares s = offset + slope·tau."""
    sw, sx, sy = w.sum(), (w * tau).sum(), (w * s).sum()
    sxx, sxy = (w * tau * tau).sum(), (w * tau * s).sum()
    det = sw * sxx - sx * sx
    slope = (sw * sxy - sx * sy) / det if det > 1e-12 else 0.0
    return float((sy - slope * sx) / sw), float(slope)


def _ransac(tau: np.ndarray, s: np.ndarray, w: np.ndarray, profile: np.ndarray, band: float, tol: float,
            profiles: int) -> tuple[float, float, np.ndarray] | None:
    """The line s = offset + slope·tau with the strongest support; None if too few profiles agree."""
    if len(s) < 2:
        return None
    rng = np.random.default_rng(0)
    count = min(400, len(s) * (len(s) - 1) // 2)
    i, j = rng.integers(0, len(s), count), rng.integers(0, len(s), count)
    keep = (profile[i] != profile[j]) & (np.abs(tau[i] - tau[j]) > 1e-6)
    i, j = i[keep], j[keep]
    if len(i) == 0:
        return None
    slope = (s[j] - s[i]) / (tau[j] - tau[i])
    offset = s[i] - slope * tau[i]
    ok = np.abs(slope) <= np.tan(np.radians(MAX_TILT_DEG))
    slope, offset = slope[ok], offset[ok]
    if len(slope) == 0:
        return None
    residual = np.abs(s[None] - (offset[:, None] + slope[:, None] * tau[None]))
    inlier = residual <= tol
    score = (inlier * w[None]).sum(1) / (1 + (offset / band) ** 2)
    best = int(np.argmax(score))
    mask = inlier[best]
    for _ in range(2):  # least squares on the inliers, then the inliers of that line
        if mask.sum() < 2:
            return None
        offset_b, slope_b = _weighted_line(tau[mask], s[mask], w[mask])
        mask = np.abs(s - (offset_b + slope_b * tau)) <= tol
    if len(np.unique(profile[mask])) < max(5, MIN_SUPPORT * profiles):
        return None
    return float(offset_b), float(slope_b), mask


def locate(sampler: Sampler, side: Side, colour: np.ndarray, away: int, band: float, tol: float,
           count: int) -> tuple[float, float] | None:
    """Pass 1 for one line: offset and slope (px, along `side.n`) of the edge where the border colour ends.

    `away` is +1 when moving along +n leaves the border (the outer line), -1 for the inner line.
    """
    t = np.linspace(MIDDLE[0], MIDDLE[1], count)
    tau = (t - 0.5) * side.length
    step = max(1.0, band / 10)  # locating needs no finer steps on a large photo; pass 2 measures at 1 px
    n = int(np.ceil(band / step))
    s = np.arange(-n, n + 1) * step
    colours = _profiles(sampler, side, t, side.point(t), s, step)
    d = np.linalg.norm(colours - colour, axis=-1)  # (profiles, samples): distance from the border colour
    g = np.zeros_like(d)
    g[:, 1:-1] = away * (d[:, 2:] - d[:, :-2]) / 2
    peak = np.zeros_like(g, dtype=bool)
    peak[:, 1:-1] = (g[:, 1:-1] > g[:, :-2]) & (g[:, 1:-1] >= g[:, 2:]) & (g[:, 1:-1] > 0)
    reach = max(1, int(round(max(2.0, 0.004 * side.length) / step)))
    index = np.arange(d.shape[1])
    d_border = d[:, np.clip(index - away * reach, 0, d.shape[1] - 1)]
    # the far side's most different colour within reach: a thin printed line between border-coloured areas counts
    d_far = np.max([d[:, np.clip(index + away * k, 0, d.shape[1] - 1)] for k in range(1, reach + 1)], axis=0)
    peak &= (d_border < 0.6 * d_far) & (d_far - d_border > MIN_CONTRAST)
    strength = np.where(peak, g, 0.0)
    top = np.argsort(-strength, axis=1)[:, :3]
    rows = np.repeat(np.arange(count), 3)
    cols = top.ravel()
    good = strength[rows, cols] > 0
    rows, cols = rows[good], cols[good]
    if len(rows) == 0:
        return None
    # parabola through the peak and its neighbours: enough for locating
    g0, g1, g2 = g[rows, cols - 1], g[rows, cols], g[rows, np.minimum(cols + 1, g.shape[1] - 1)]
    denom = g0 - 2 * g1 + g2
    shift = np.where(np.abs(denom) > 1e-9, 0.5 * (g0 - g2) / np.where(denom == 0, 1, denom), 0.0)
    found = _ransac(tau[rows], s[cols] + np.clip(shift, -0.5, 0.5) * step, g1, rows, band, tol, count)
    return None if found is None else found[:2]


# ---- pass 2: measure -----------------------------------------------------------------------------------
def _gaussian_peak(g0: np.ndarray, g1: np.ndarray, g2: np.ndarray) -> np.ndarray:
    """Sub-sample offset of a peak from three samples: a Gaussian fit (exact for a blurred step), a parabola
    where a sample is not positive."""
    positive = (g0 > 0) & (g1 > 0) & (g2 > 0)
    l0, l1, l2 = (np.log(np.where(positive, v, 1.0)) for v in (g0, g1, g2))
    denom_log = l0 - 2 * l1 + l2
    denom_par = g0 - 2 * g1 + g2
    gauss = 0.5 * (l0 - l2) / np.where(np.abs(denom_log) > 1e-12, denom_log, -1e-12)
    parab = 0.5 * (g0 - g2) / np.where(np.abs(denom_par) > 1e-12, denom_par, -1e-12)
    return np.clip(np.where(positive, gauss, parab), -0.5, 0.5)


def _tukey_line(tau: np.ndarray, s: np.ndarray, w: np.ndarray, offset: float, slope: float,
                floor: float) -> tuple[float, float, np.ndarray]:
    """Iteratively reweighted least squares with Tukey's biweight, from a starting line."""
    weights = w
    offset += float(np.median(s - (offset + slope * tau)))  # start on the bulk of the points, not beside them
    for _ in range(5):
        residual = s - (offset + slope * tau)
        scale = max(floor, 1.4826 * float(np.median(np.abs(residual - np.median(residual)))))
        r = residual / (4.685 * scale)
        weights = w * np.where(np.abs(r) < 1, (1 - r * r) ** 2, 0.0)
        if (weights > 0).sum() < 3:
            break
        offset, slope = _weighted_line(tau, s, weights)
    return offset, slope, weights > 0


def measure_line(sampler: Sampler, side: Side, away: int, offset: float, slope: float, window: float,
                 count: int) -> tuple[float, float] | None:
    """Pass 2 for one line: the sub-pixel offset and slope, from the pass 1 line."""
    t = np.linspace(MIDDLE[0], MIDDLE[1], count)
    tau = (t - 0.5) * side.length
    start = offset + slope * tau
    reach = max(2.5, 0.6 * window)
    span = np.ceil(window + reach) + 1
    s = np.arange(-span, span + 1.0)
    colours = _profiles(sampler, side, t, side.point(t) + start[:, None] * side.n, s, 1.0)
    centre = int(span)
    k = int(np.ceil(reach))
    border = colours[:, [centre - away * k, centre - away * (k + 1)]].mean(axis=1)  # this profile's own border colour
    d = np.linalg.norm(colours - border[:, None], axis=-1)
    contrast = d[:, [centre + away * j for j in range(1, k + 1)]].max(axis=1)
    g = np.zeros_like(d)
    g[:, 1:-1] = away * (d[:, 2:] - d[:, :-2]) / 2
    inside = np.abs(s) <= window
    masked = np.where(inside[None], g, -np.inf)
    peak = np.argmax(masked, axis=1)
    rows = np.arange(count)
    g0, g1, g2 = g[rows, peak - 1], g[rows, peak], g[rows, peak + 1]
    ok = (contrast > MIN_CONTRAST) & (g1 > 0) & (g1 >= g0) & (g1 >= g2)
    if ok.sum() < max(5, MIN_SUPPORT * count):
        return None
    found = s[peak] + _gaussian_peak(g0, g1, g2) + start
    offset, slope, kept = _tukey_line(tau[ok], found[ok], g1[ok], offset, slope, floor=0.05)
    if kept.sum() < max(5, MIN_SUPPORT * count):
        return None
    return offset, slope


# ---- all eight -----------------------------------------------------------------------------------------
def refine(image: np.ndarray, outer: Quad, inner: Quad) -> Refinement:
    """The eight lines measured in the photo, starting from the coarse quads; lines not found are listed in
    `failed` and left out of `lines` (the caller keeps their coarse line)."""
    sampler = Sampler(image)
    if outer.is_axis_aligned() and inner.is_axis_aligned():
        outer, inner, _ = rotate_boxes(sampler, outer, inner)
    short = min(outer.size)
    band = max(MIN_BAND_PX, BAND * short)
    window = max(MIN_WINDOW_PX, WINDOW * short)
    tol = max(1.0, 0.004 * short)
    colours = border_colours(sampler, outer, inner)
    lines: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    failed: list[str] = []
    for name in SIDES:
        for border, quad, away in (("outer", outer, 1), ("inner", inner, -1)):
            side = Side.of(quad, name)
            count = int(np.clip(side.length / 3, 24, 120))
            key = f"{border}_{name}"
            located = locate(sampler, side, colours[name], away, band, tol, max(24, count // 2))
            measured = None if located is None else measure_line(sampler, side, away, *located, window, count)
            if measured is None or abs(measured[0]) > band + window or \
                    abs(measured[1]) > np.tan(np.radians(MAX_TILT_DEG)):
                failed.append(key)
                continue
            lines[key] = side.line(*measured)
    return Refinement(lines, failed, outer, inner)
