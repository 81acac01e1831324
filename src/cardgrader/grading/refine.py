"""Sub-pixel refinement of the eight border lines from the photo itself.

A border model's quads are coarse (a few model pixels off, often more, and a detect model's box has no
rotation). Each side of the card is sampled along profiles across it, in the frame of the coarse outer side
(tau along the side, s outward); only the middle of each side, so the rounded corners stay out.

1. Pass 1 (find the border strip): every long straight edge within `SEARCH` of the card beyond the coarse
   outer and inner lines, by RANSAC on the profiles' colour-gradient peaks (a box's rotation comes out here,
   as the lines' slopes). A border is a pair of neighbouring edges bounding a strip of one even colour, with
   background beyond the outer edge and artwork (or a thin frame line) inside the inner one. One print
   colour is chosen for all four sides (alike in log colour, so uneven light does not split it), and on each
   side the strongest pair of that colour, with a mild pull toward the coarse lines. A side where only one
   edge of the strip shows keeps that one.
2. Pass 2 (measure): in a narrow window around each pass-1 line, each profile's distance from its own border
   colour (measured beside the edge, so light falling unevenly does not bias it) rises at the edge; the peak
   of that rise is located to sub-pixel with a 3-point Gaussian fit and the line refitted with Tukey
   weights, so print, glare and chipped edges drop out.

Only the pixels along the profiles are read (OpenCV's remap), so a 2000 x 2800 photo costs about as much
as a 480 x 640 one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from cardgrader.grading.quads import SIDES, Quad

MIDDLE = (0.12, 0.88)  # the part of each side sampled: corner arcs (about 3 mm of a 63 mm card) stay out
MIN_SPAN = 0.5  # a coarse inner side overlapping less of the outer one than this does not narrow the sampling
SEARCH = 0.12  # pass 1 looks this far (of the card's short side) beyond the coarse outer and inner lines
MIN_BORDER, MAX_BORDER = 0.012, 0.3  # a border is this wide, of the short side (a frame line is narrower)
PRIOR = 0.08  # of the short side: how far from its coarse line an edge still counts as near it
EVEN_SPREAD = 14.0  # grey levels: the typical deviation within a border strip of one colour
MAX_JUMPS = 0.1  # share of steps along a border strip where its colour may jump (a logo printed on the border)
WINDOW = 0.006  # pass 2 window either side of the pass 1 line, of the card's short side
MIN_WINDOW_PX = 3.0
MAX_TILT_DEG = 4.0  # a refined line may turn this much from its coarse line
BOX_TILT_DEG = 9.0  # ... and this much from a detect model's (unrotated) box
MIN_CONTRAST = 8.0  # grey levels (0-255 scale) between border and the other side for an edge to count
MIN_SUPPORT = 0.3  # share of a side's profiles that must agree on the line
LIKENESS = 0.4  # colour_likeness falls to 0 at this log-colour distance (about 40 % on one channel)
UNLIKE = 0.25  # weight of a border strip unlike the card's border colour (glare), against 1 for alike


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

    def __call__(self, points: np.ndarray, cubic: bool = False) -> np.ndarray:
        """points (..., 2) → colours (..., channels) float32, 0-255 scale; bicubic where sampling finer than the
        pixels would otherwise show the corners of bilinear interpolation."""
        shape = points.shape[:-1]
        flat = points.reshape(-1, 2)
        count = flat.shape[0]
        if count == 0:
            return np.zeros((*shape, self.channels), np.float32)
        rows = -(-count // 256)  # remap's maps are 2-D and below 32767 a side: 256 wide, padded
        maps = np.zeros((rows * 256, 2), np.float32)
        maps[:count] = flat
        maps = maps.reshape(rows, 256, 2)
        out = cv2.remap(self.image, maps[..., 0], maps[..., 1], cv2.INTER_CUBIC if cubic else cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REPLICATE)
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
    span: tuple[float, float] = (0.0, 1.0)  # the stretch of a→b (0 to 1) that the card surely fills

    @classmethod
    def of(cls, quad: Quad, name: str, within: Quad | None = None) -> Side:
        """Side `name` of `quad`; with `within` (the coarse inner quad), sampled only along the stretch that
        the inner quad's side spans too: the print lies inside the card, so there the side cannot run into
        a rounded corner or off the card, however far a coarse outer box reaches past it along the side."""
        a, b = quad.side(name)
        length = float(np.linalg.norm(b - a))
        u = (b - a) / max(length, 1e-9)
        n = np.array([-u[1], u[0]])
        if np.dot(n, (a + b) / 2 - quad.centre) < 0:
            n = -n
        span = (0.0, 1.0)
        if within is not None and length > 0:
            ends = sorted(float(np.dot(p - a, u)) / length for p in within.side(name))
            lo, hi = max(0.0, ends[0]), min(1.0, ends[1])
            if hi - lo >= MIN_SPAN:
                span = (lo, hi)
        return cls(a, b, u, n, length, span)

    def point(self, t: np.ndarray) -> np.ndarray:
        return self.a + np.asarray(t)[..., None] * (self.b - self.a)

    def middle(self, count: int) -> np.ndarray:
        """`count` positions (0 to 1 along a→b) over the middle of the sampled stretch, corner arcs left out."""
        lo, hi = self.span
        return np.linspace(lo + MIDDLE[0] * (hi - lo), lo + MIDDLE[1] * (hi - lo), count)

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


# ---- pass 1: find the border's two edges on each side --------------------------------------------------
def _profiles(sampler: Sampler, side: Side, t: np.ndarray, centre: np.ndarray, s: np.ndarray,
              tangent: float, cubic: bool = False) -> np.ndarray:
    """Colours (profiles, samples, C) along the normal at offsets `s` from `centre` (profiles, 2), each the mean
    of three parallel profiles `tangent` px apart (less noise)."""
    n, u = side.n.astype(np.float32), side.u.astype(np.float32)
    points = centre.astype(np.float32)[:, None, None, :] + s.astype(np.float32)[None, :, None, None] * n + \
        np.array([-tangent, 0.0, tangent], np.float32)[None, None, :, None] * u
    return sampler(points, cubic).mean(axis=2)


def _weighted_line(tau: np.ndarray, s: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted least squares s = offset + slope·tau."""
    sw, sx, sy = w.sum(), (w * tau).sum(), (w * s).sum()
    sxx, sxy = (w * tau * tau).sum(), (w * tau * s).sum()
    det = sw * sxx - sx * sx
    slope = (sw * sxy - sx * sy) / det if det > 1e-12 else 0.0
    return float((sy - slope * sx) / sw), float(slope)


@dataclass
class Edge:
    """A straight edge across one side's profiles: s = offset + slope·tau (px along the outward normal)."""

    offset: float
    slope: float
    strength: float  # summed colour change of the profiles that agree, per profile sampled
    outside: np.ndarray = field(default_factory=lambda: np.zeros((1, 3)))  # median colours 1, 2 ... px outside (+n)
    inside: np.ndarray = field(default_factory=lambda: np.zeros((1, 3)))  # ... and inside

    def at(self, tau: np.ndarray) -> np.ndarray:
        return self.offset + self.slope * tau


def _edges(tau: np.ndarray, s: np.ndarray, w: np.ndarray, profile: np.ndarray, count: int, tol: float,
           max_slope: float, most: int = 10) -> list[Edge]:
    """Straight lines through edge points, strongest first (RANSAC, then the next on what is left)."""
    rng = np.random.default_rng(0)
    found: list[Edge] = []
    left = np.ones(len(s), dtype=bool)
    for _ in range(most):
        index = np.flatnonzero(left)
        if len(index) < 2:
            break
        i, j = index[rng.integers(0, len(index), 200)], index[rng.integers(0, len(index), 200)]
        keep = profile[i] != profile[j]
        i, j = i[keep], j[keep]
        if len(i) == 0:
            break
        slope = (s[j] - s[i]) / (tau[j] - tau[i])
        offset = s[i] - slope * tau[i]
        ok = np.abs(slope) <= max_slope
        slope, offset = slope[ok], offset[ok]
        if len(slope) == 0:
            break
        inlier = (np.abs(s[index][None] - (offset[:, None] + slope[:, None] * tau[index][None])) <= tol)
        best = int(np.argmax((inlier * w[index][None]).sum(1)))
        mask = np.zeros(len(s), dtype=bool)
        mask[index[inlier[best]]] = True
        off, sl = float(offset[best]), float(slope[best])
        for _ in range(2):  # least squares on the inliers, then the inliers of that line
            if mask.sum() < 2:
                break
            off, sl = _weighted_line(tau[mask], s[mask], w[mask])
            mask = left & (np.abs(s - (off + sl * tau)) <= tol)
        if len(np.unique(profile[mask])) >= max(5, MIN_SUPPORT * count):
            found.append(Edge(off, sl, float(w[mask].sum()) / count))
        left &= ~mask & (np.abs(s - (off + sl * tau)) > 1.5 * tol)  # a short strong run (artwork) is set aside too
    return found


def find_edges(sampler: Sampler, side: Side, lo: float, hi: float, short: float, max_slope: float,
               count: int) -> list[Edge]:
    """Every long straight edge parallel(ish) to `side` between offsets lo and hi, with the colours beside it."""
    t = side.middle(count)
    tau = (t - 0.5) * side.length
    step = max(1.0, short / 300)  # about 300 steps across the card: no finer is needed to find an edge
    s = np.arange(np.floor(lo / step), np.ceil(hi / step) + 1) * step
    colours = _profiles(sampler, side, t, side.point(t), s, step)
    g = np.zeros(colours.shape[:2])
    g[:, 1:-1] = np.linalg.norm(colours[:, 2:] - colours[:, :-2], axis=-1) / 2
    peak = np.zeros_like(g, dtype=bool)
    peak[:, 1:-1] = (g[:, 1:-1] > g[:, :-2]) & (g[:, 1:-1] >= g[:, 2:]) & (g[:, 1:-1] > MIN_CONTRAST / 2)
    strength = np.where(peak, g, 0.0)
    top = np.argsort(-strength, axis=1)[:, :8]  # a grid or frame line is two edges: room for several
    rows, cols = np.repeat(np.arange(count), top.shape[1]), top.ravel()
    good = strength[rows, cols] > 0
    rows, cols = rows[good], cols[good]
    if len(rows) < 2:
        return []
    g0, g1, g2 = g[rows, cols - 1], g[rows, cols], g[rows, cols + 1]
    denom = g0 - 2 * g1 + g2
    shift = np.clip(0.5 * (g0 - g2) / np.where(np.abs(denom) > 1e-9, denom, -1e-9), -0.5, 0.5)
    tol = max(1.0, 0.004 * short, 0.75 * step)
    edges = _edges(tau[rows], s[cols] + shift * step, g1, rows, count, tol, max_slope)
    if edges:  # the colours beside each edge, at 8 distances from 1 px to 4 x near_px out and in, median along it
        reach = np.linspace(1.0, 4 * near_px(short), 8)
        base = side.point(t)
        at = np.stack([e.at(tau) for e in edges])  # (edges, profiles)
        offsets = np.concatenate([reach, -reach])
        points = base[None, :, None] + (at[:, :, None] + offsets[None, None])[..., None] * side.n
        beside = np.median(sampler(points), axis=1)  # (edges, 2 * reach, C)
        for e, colours in zip(edges, beside):
            e.outside, e.inside = colours[:len(reach)], colours[len(reach):]
    return edges


@dataclass
class Border:
    """The border strip on one side: its outer and inner edge and the strip's colour."""

    outer: Edge
    inner: Edge
    colour: np.ndarray
    score: float
    background: np.ndarray | None = None  # the colour further out beyond the outer edge (the table, if it is the card's edge)


def near_px(short: float) -> float:
    """Beside an edge, this far is still near it (the blur of an edge, a thin frame line)."""
    return max(2.0, 0.006 * short)


def _even_colour(strip: np.ndarray) -> tuple[np.ndarray, float, float]:
    """A strip's colour (median), how much it varies around its own running median along the side, and the
    share of steps along it that jump: uneven light and glare shade a border smoothly; print, a frame line or
    the patches of an artwork change it abruptly."""
    colour = np.median(strip.reshape(-1, strip.shape[-1]), axis=0)
    along = np.median(strip, axis=0)  # (profiles, C)
    padded = np.pad(along, ((3, 3), (0, 0)), mode="edge")
    smooth = np.median(np.lib.stride_tricks.sliding_window_view(padded, 7, axis=0), axis=-1)
    jumps = float((np.linalg.norm(np.diff(along, axis=0), axis=-1) > 3 * EVEN_SPREAD).mean())
    return colour, float(np.median(np.linalg.norm(strip - smooth[None], axis=-1))), jumps


def border_pairs(sampler: Sampler, side: Side, edges: list[Edge], short: float, prior: tuple[float, float],
                 count: int) -> list[Border]:
    """Pairs of neighbouring edges that bound a strip of one even colour, with something else beyond each."""
    t = side.middle(count)
    tau = (t - 0.5) * side.length

    def between(a: Edge, b: Edge) -> bool:  # another clear edge lies between a and b
        weaker = min(a.strength, b.strength)
        return any(b.offset + 0.5 < e.offset < a.offset - 0.5 and e.strength >= 0.3 * weaker for e in edges)

    pairs = [(a, b) for a in edges for b in edges
             if MIN_BORDER * short <= a.offset - b.offset <= MAX_BORDER * short and (a.at(tau) > b.at(tau)).all()
             and not between(a, b)]
    if not pairs:
        return []
    fractions = np.array([0.35, 0.5, 0.65])
    base = side.point(t)
    points = []
    for a, b in pairs:
        at = b.at(tau)[None] + fractions[:, None] * (a.at(tau) - b.at(tau))[None]  # (3, profiles)
        points.append(base[None] + at[..., None] * side.n)
    strips = sampler(np.stack(points))  # (pairs, 3, profiles, C)
    scale = PRIOR * short
    out = []
    for (a, b), strip in zip(pairs, strips):
        colour, spread, jumps = _even_colour(strip)
        if spread > EVEN_SPREAD or jumps > MAX_JUMPS:
            continue
        near = len(b.inside) // 4
        # inside the inner edge, the most different colour near it (a thin frame line counts); outside the outer
        # edge, the colour further out (background, not a thin line in it such as a cutting mat's grid)
        artwork = np.linalg.norm(b.inside[:near] - colour, axis=-1).max()
        beyond = np.median(a.outside[2 * near:], axis=0)
        background = np.linalg.norm(beyond - colour)
        if min(artwork, background) < 2 * MIN_CONTRAST:
            continue
        near = 1 / (1 + ((a.offset - prior[0]) / scale) ** 2) + 1 / (1 + ((b.offset - prior[1]) / scale) ** 2)
        out.append(Border(a, b, colour, (a.strength + b.strength) * (1 + near), beyond))
    return out


def colour_likeness(a: np.ndarray, b: np.ndarray) -> float:
    """1 for the same colour, falling to 0: in log space, so the same print under brighter or dimmer light (a
    factor on every channel) stays nearly alike while another hue does not."""
    delta = np.log(np.asarray(a) + 16.0) - np.log(np.asarray(b) + 16.0)
    shift = float(delta.mean())
    hue = float(np.linalg.norm(delta - shift))
    return max(0.0, 1.0 - (hue + 0.5 * abs(shift)) / LIKENESS)


def choose_borders(found: dict[str, list[Border]]) -> dict[str, Border]:
    """One border per side, of one print colour: the colour whose strips weigh most over the four sides. On
    each side, of the strips in that colour nearly as strong as the strongest, the outermost (a name bar or
    panel just inside the frame line can be as even and as pale as the border, but the border is what meets
    the card's edge); where no strip is in that colour (glare whitens a stretch of border), the strongest,
    at a quarter of the weight."""
    options = [b.colour for borders in found.values() for b in borders]
    best: tuple[int, float, dict[str, Border]] = (0, 0.0, {})
    for colour in options:
        chosen: dict[str, Border] = {}
        weights_of: dict[str, float] = {}
        for name, borders in found.items():
            if not borders:
                continue
            likeness = [colour_likeness(b.colour, colour) for b in borders]
            weights = [b.score * max(like, UNLIKE) for b, like in zip(borders, likeness)]
            alike = [(w, b) for w, b, like in zip(weights, borders, likeness) if like >= 0.5]
            if alike:
                strongest = max(w for w, _ in alike)
                w, chosen[name] = max(((w, b) for w, b in alike if w >= 0.5 * strongest),
                                      key=lambda wb: wb[1].outer.offset)
            else:
                w, chosen[name] = max(zip(weights, borders), key=lambda wb: wb[0])
            weights_of[name] = w
        # The card lies on one table: a choice whose strip on some side has something else beyond it (the
        # border itself, when a name bar inside it was taken for the border) weighs less there.
        backgrounds = [b.background for b in chosen.values() if b.background is not None]
        table = np.median(np.stack(backgrounds), axis=0) if backgrounds else None
        total = sum(w * (1.0 if table is None or chosen[name].background is None else
                         max(colour_likeness(chosen[name].background, table), UNLIKE))
                    for name, w in weights_of.items())
        if (len(chosen), total) > best[:2]:
            best = (len(chosen), total, chosen)
    return best[2]


def between_colour(sampler: Sampler, outer: Quad, inner: Quad) -> np.ndarray:
    """The most common colour between the coarse outer and inner lines: the border's, when no side shows both
    of its edges."""
    t = np.linspace(MIDDLE[0], MIDDLE[1], 16)
    samples = []
    for name in SIDES:
        po, pi = Side.of(outer, name).point(t), Side.of(inner, name).point(t)
        samples += [po + f * (pi - po) for f in (0.3, 0.5, 0.7)]
    flat = sampler(np.stack(samples)).reshape(-1, sampler.channels)
    near = np.linalg.norm(flat[:, None] - flat[None], axis=-1) < 30.0
    return flat[near[int(np.argmax(near.sum(1)))]].mean(0)


def lone_edges(edges: list[Edge], colour: np.ndarray, short: float, prior: tuple[float, float]) -> dict[str, Edge]:
    """On a side where no strip shows both edges (the card as light as the table, artwork like the border): an
    inner edge with the border's colour outside it, and an outer edge beyond it with that colour inside,
    whichever can be seen."""
    scale = PRIOR * short
    out: dict[str, Edge] = {}
    for border, target in (("inner", prior[1]), ("outer", prior[0])):
        fits = []
        for e in edges:
            near, beyond = (e.inside, e.outside) if border == "outer" else (e.outside, e.inside)
            half = len(near) // 4
            if border == "outer" and "inner" in out and e.offset < out["inner"].offset + MIN_BORDER * short:
                continue
            if colour_likeness(np.median(near[:half], axis=0), colour) > 0.7 and \
                    np.linalg.norm(beyond[:half] - colour, axis=-1).max() >= 2 * MIN_CONTRAST:
                fits.append((e.strength / (1 + ((e.offset - target) / scale) ** 2), e))
        if fits:
            out[border] = max(fits, key=lambda fe: fe[0])[1]
    return out


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
    """Pass 2 for one line: the sub-pixel offset and slope, from the pass 1 line. Profiles are sampled every
    half pixel, so the derivative spans one pixel and a frame line's far side a few pixels on does not pull
    the peak."""
    t = side.middle(count)
    tau = (t - 0.5) * side.length
    start = offset + slope * tau
    step = float(np.clip(window / 6, 0.5, 1.0))  # half a pixel on a small photo; edges are wider on a large one
    reach = max(2.5, 0.6 * window)
    k = int(np.ceil(reach / step))  # samples from the line to where this profile's border colour is read
    n = int(np.ceil(window / step)) + k + 2
    s = np.arange(-n, n + 1) * step
    colours = _profiles(sampler, side, t, side.point(t) + start[:, None] * side.n, s, 1.0, cubic=True)
    border = colours[:, [n - away * k, n - away * (k + 1)]].mean(axis=1)  # this profile's own border colour
    d = np.linalg.norm(colours - border[:, None], axis=-1)
    contrast = d[:, [n + away * j for j in range(1, k + 1)]].max(axis=1)
    g = np.zeros_like(d)
    g[:, 1:-1] = away * (d[:, 2:] - d[:, :-2]) / (2 * step)
    masked = np.where((np.abs(s) <= window)[None], g, -np.inf)
    # the first clear rise leaving the border colour: a blurred frame line may be followed by a steeper edge
    # where the line meets the artwork, which is not the border's end
    local = np.zeros_like(g, dtype=bool)
    local[:, 1:-1] = (masked[:, 1:-1] >= masked[:, :-2]) & (masked[:, 1:-1] >= masked[:, 2:])
    clear = local & (masked >= 0.5 * masked.max(axis=1, keepdims=True)) & (masked > 0)
    order = away * s  # smaller: nearer the border
    peak = np.argmin(np.where(clear, order[None], np.inf), axis=1)
    rows = np.arange(count)
    g0, g1, g2 = g[rows, peak - 1], g[rows, peak], g[rows, peak + 1]
    ok = (contrast > MIN_CONTRAST) & (g1 > 0) & (g1 >= g0) & (g1 >= g2)
    if ok.sum() < max(5, MIN_SUPPORT * count):
        return None
    found = s[peak] + _gaussian_peak(g0, g1, g2) * step + start
    offset, slope, kept = _tukey_line(tau[ok], found[ok], g1[ok], offset, slope, floor=0.05)
    if kept.sum() < max(5, MIN_SUPPORT * count):
        return None
    return offset, slope


# ---- all eight -----------------------------------------------------------------------------------------
def refine(image: np.ndarray, outer: Quad, inner: Quad) -> Refinement:
    """The eight lines measured in the photo, starting from the coarse quads; lines not found are listed in
    `failed` and left out of `lines` (the caller keeps their coarse line)."""
    sampler = Sampler(image)
    short = min(outer.size)
    window = max(MIN_WINDOW_PX, WINDOW * short)
    boxes = outer.is_axis_aligned() and inner.is_axis_aligned()
    max_slope = np.tan(np.radians(BOX_TILT_DEG if boxes else MAX_TILT_DEG))
    frames, found, edges_of, priors = {}, {}, {}, {}
    for name in SIDES:  # each side is searched in the frame of the coarse outer side: tau along it, s outward
        side = Side.of(outer, name, within=inner)
        inner_side = Side.of(inner, name)
        gap = float(np.dot(side.point(0.5) - inner_side.point(0.5), side.n))  # coarse border width
        count = int(np.clip(side.length / 6, 24, 60))
        deepest = -min(max(gap, 0.0) + SEARCH * short, MAX_BORDER * short)  # a detection may put inner outside outer
        edges = find_edges(sampler, side, deepest, SEARCH * short, short, max_slope, count)
        frames[name], edges_of[name], priors[name] = side, edges, (0.0, -gap)
        found[name] = border_pairs(sampler, side, edges, short, (0.0, -gap), count)
    chosen = choose_borders(found)
    colour = next(iter(chosen.values())).colour if chosen else between_colour(sampler, outer, inner)
    lines: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    failed: list[str] = []
    for name in SIDES:
        side = frames[name]
        count = int(np.clip(side.length / 3, 24, 120))
        lone = {} if name in chosen else lone_edges(edges_of[name], colour, short, priors[name])
        for border, away in (("outer", 1), ("inner", -1)):
            key = f"{border}_{name}"
            edge = getattr(chosen[name], border) if name in chosen else lone.get(border)
            measured = None if edge is None else measure_line(sampler, side, away, edge.offset, edge.slope, window,
                                                             count)
            if measured is None or abs(measured[1]) > max_slope:
                failed.append(key)
                continue
            lines[key] = side.line(*measured)
    return Refinement(lines, failed, outer, inner)
