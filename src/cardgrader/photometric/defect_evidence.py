"""What makes a group of deviating pixels a defect rather than noise or a shading error.

- Significance: noise deviates past z of its sigmas (`defect_noise`) with a chance below exp(-z^2 / 2)
  (Rayleigh), and what passes z = 3 lies in specks of a few pixels. A defect is a group of pixels past
  `grow_sigmas` that holds one past `seed_sigmas` and covers a minimum area: a chance speck that size
  would need dozens of independent rare pixels side by side.
- Closed relief: a dent, scratch or crease starts and ends at the card's surface, so its walls tilt
  against each other and its tilts sum to about nothing; a patch whose normals lean as one is a shading
  error (a highlight the solver took for light, a shadow's edge), not relief.
- One scratch, one region: the pieces of a scratch that dark ink interrupts are joined.
"""

from __future__ import annotations

import cv2
import numpy as np


FEW_GROUPS = 512  # up to this many groups, their boxes are taken from their outlines


def components(binary: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """`cv2.connectedComponentsWithStats(binary, connectivity=8)` less its areas and centroids: the count,
    the labels and each label's box (x, y, width, height; row 0, the background's, is left 0). OpenCV's
    statistics pass takes several times as long as the labelling (a 1000 x 830 window: 2.9 ms against
    0.5); with a few groups their boxes are those of their outer borders (a group's extreme pixels lie on
    it), traced in a fraction of that time."""
    binary = np.ascontiguousarray(binary, np.uint8)
    count, labels = cv2.connectedComponents(binary, connectivity=8)
    if count - 1 > FEW_GROUPS:
        count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
        return count, labels, np.ascontiguousarray(stats[:, :4])
    boxes = np.zeros((count, 4), np.int32)
    borders, hierarchy = cv2.findContours(binary, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    for border, parent in zip(borders, hierarchy[0, :, 3] if borders else ()):
        if parent < 0:  # a group's outer border; the others go round its holes
            x, y = border[0, 0]
            boxes[labels[y, x]] = cv2.boundingRect(border)
    return count, labels, boxes


def lean(tilt: np.ndarray) -> float:
    """How much of a set of tilts (n, 2) from the smooth shape leans one way: |sum| / sum of lengths.

    Relief that starts and ends at the card's surface (a pit, a groove, a fold) tilts its walls against
    each other, so its tilts sum to about nothing (0); a patch whose normals all lean together (1) is
    a shading error (a highlight the solver took for light, a shadow's edge), not relief."""
    total = float(np.sum(np.hypot(tilt[:, 0], tilt[:, 1])))
    return float(np.hypot(*tilt.sum(axis=0))) / total if total > 0 else 1.0


def region_lean(points: np.ndarray, tilt: np.ndarray, stretch: float = 3.0) -> float:
    """The median `lean` of a region's stretches: cut along its long axis into pieces `stretch` times
    as long as it is wide (a compact region is one piece), so that a groove must close everywhere
    along itself, not only on the whole (two bands of error leaning opposite ways would)."""
    _centre, _long, along, across = _axis(points)
    width = float(np.ptp(across)) + 1.0
    piece = np.floor((along - along.min()) / (stretch * width)).astype(np.intp)
    tilt = np.asarray(tilt, np.float64)
    count = np.bincount(piece)
    sums = np.bincount(piece, tilt[:, 0]), np.bincount(piece, tilt[:, 1])
    lengths = np.bincount(piece, np.hypot(tilt[:, 0], tilt[:, 1]))
    whole = count >= 0.5 * stretch * width  # pieces long enough to judge (an empty one never is)
    leans = np.divide(np.hypot(*sums), lengths, out=np.ones_like(lengths), where=lengths > 0)[whole]
    return float(np.median(leans)) if leans.size else lean(tilt)


def _points(labels: np.ndarray, boxes: np.ndarray, label: int,
            within: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    x, y, bw, bh = (int(v) for v in boxes[label])
    pixels = labels[y:y + bh, x:x + bw] == label
    if within is not None:
        pixels &= within[y:y + bh, x:x + bw]
    ys, xs = np.nonzero(pixels)
    return ys + y, xs + x


def closed_relief(groups: np.ndarray, tilt, max_lean: float, thin_px: int = 3,
                  offset: tuple[int, int] = (0, 0)) -> np.ndarray:
    """`groups` less what leans (`region_lean` above `max_lean`): the thick body of each group (what an
    opening `2 thin_px + 1` wide leaves; a group with none, all of it) is judged whole, and each long
    thin arm (a line at least three openings long) alone, so that a band of bad normals reaching into a
    dent neither passes with it nor takes it down. Short thin bits (a rim, a bridge) go with their body.
    `tilt` is the (H, W, 2) tilt from the smooth shape, or a function of (ys, xs) giving it there;
    `groups` may be a window of the card whose top left corner is `offset` (x, y), and then the
    points given to `tilt` are the card's."""
    ox, oy = offset
    tilt_at = tilt if callable(tilt) else (lambda ys, xs: tilt[ys, xs])
    groups = groups.astype(np.uint8)
    keep = groups.astype(bool)
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * thin_px + 1, 2 * thin_px + 1))
    thick = cv2.morphologyEx(groups, cv2.MORPH_OPEN, disk)
    count, labels, boxes = components(groups)
    body = thick > 0
    for label in range(1, count):
        ys, xs = _points(labels, boxes, label, body)
        if not ys.size:  # all of it thin: judged whole
            ys, xs = _points(labels, boxes, label)
        ys, xs = ys + oy, xs + ox
        if region_lean(np.stack([xs, ys], axis=1).astype(np.float64), tilt_at(ys, xs)) > max_lean:
            keep[ys - oy, xs - ox] = False
    count, labels, boxes = components(cv2.subtract(groups, thick))
    for label in range(1, count):
        if max(boxes[label, 2], boxes[label, 3]) < 3 * (2 * thin_px + 1):
            continue
        ys, xs = _points(labels, boxes, label)
        ys, xs = ys + oy, xs + ox
        if region_lean(np.stack([xs, ys], axis=1).astype(np.float64), tilt_at(ys, xs)) > max_lean:
            keep[ys - oy, xs - ox] = False
    return keep


def _axis(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(centre, long axis, along-axis and across-axis coordinates) of a set of (x, y) points."""
    centre = points.mean(axis=0)
    offsets = points - centre
    _values, vectors = np.linalg.eigh(offsets.T @ offsets)
    return centre, vectors[:, 1], offsets @ vectors[:, 1], offsets @ vectors[:, 0]


def _cross(a: np.ndarray, b: np.ndarray) -> float:
    return float(a[0] * b[1] - a[1] * b[0])


def scratch_links(regions: np.ndarray, max_turn_deg: float = 10.0, offset: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Lines that join the pieces of one scratch, where dark ink hid a stretch of it: two line-like
    pieces (each at least twice as long as wide) that run the same way (within `max_turn_deg`), each
    centre within a width of the other's axis, their facing ends no further apart than twice their
    lengths together. The lines only join regions; they are not defective pixels themselves. `regions`
    may be a window of the card whose top left corner is `offset` (x, y)."""
    shift = np.array(offset, np.float64)
    count, labels, boxes = components(regions)
    pieces = []
    for label in range(1, count):
        ys, xs = _points(labels, boxes, label)
        points = np.stack([xs, ys], axis=1).astype(np.float64) + shift
        centre, axis, along, across = _axis(points)
        length, width = float(np.ptp(along)) + 1.0, float(np.ptp(across)) + 1.0
        if length >= 2.0 * width:
            ends = (points[np.argmin(along)], points[np.argmax(along)])  # pixels of the piece: links touch it
            pieces.append((centre, axis, length, width, ends))
    links = np.zeros(regions.shape, np.uint8)
    for i, (c1, a1, l1, w1, ends1) in enumerate(pieces):
        for c2, a2, l2, w2, ends2 in pieces[i + 1:]:
            if abs(float(a1 @ a2)) < np.cos(np.radians(max_turn_deg)):
                continue
            if max(abs(_cross(a1, c2 - c1)), abs(_cross(a2, c1 - c2))) > max(w1, w2):
                continue
            gap, p, q = min(((float(np.hypot(*(p - q))), p, q) for p in ends1 for q in ends2), key=lambda t: t[0])
            if gap <= 2.0 * (l1 + l2):
                cv2.line(links, tuple(round(float(v)) for v in p - shift), tuple(round(float(v)) for v in q - shift), 1, 1)
    return links.astype(bool)


def seeded_groups(candidates: np.ndarray, seeds: np.ndarray, min_area: int) -> np.ndarray:
    """The connected groups of `candidates` that hold a pixel of `seeds` and cover `min_area` pixels."""
    count, labels, boxes = components(candidates)
    seeded = np.unique(labels[seeds])
    seeded = seeded[seeded > 0]
    if seeded.size > FEW_GROUPS:
        keep = np.zeros(count, bool)
        keep[seeded] = True
        keep &= np.bincount(labels.ravel(), minlength=count) >= min_area
        keep[0] = False
        return keep[labels]
    out = np.zeros(candidates.shape, bool)
    for label in seeded:  # each group in its own box: a few defects, not a pass over the card each
        x, y, bw, bh = (int(v) for v in boxes[label])
        group = labels[y:y + bh, x:x + bw] == label
        if np.count_nonzero(group) >= min_area:
            out[y:y + bh, x:x + bw] |= group
    return out


def significant(z: np.ndarray, inner: np.ndarray, seed_sigmas: float, grow_sigmas: float, min_area: int,
                seeds: np.ndarray | None = None) -> np.ndarray:
    """Pixels of the groups past `grow_sigmas` that hold a pixel past `seed_sigmas` and cover `min_area`
    (`seeds`, where given, are the pixels of `inner` past `seed_sigmas`)."""
    return seeded_groups((z > grow_sigmas) & inner, (z > seed_sigmas) & inner if seeds is None else seeds, min_area)
