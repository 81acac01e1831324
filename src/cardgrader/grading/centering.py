"""Centering from the outer (physical) and inner (printed) border, measured in the card's own frame.

`coarse_quads` turns a border model's detections into two quads; `measure` refines their eight lines in the
photo (`refine`) and measures; `from_lines` measures eight lines a user has dragged. Widths are taken after
mapping the outer quad onto an upright rectangle (so rotation and mild perspective drop out), at `SAMPLES`
points along each side: left and right at the same heights, top and bottom at the same places across.

    lr = 100·max(L, R)/(L + R)   (55 means 55/45), from the mean widths; tb likewise
    lr_worst, tb_worst           the same at the most off-centre pair of sample points (a tilted print)
    angle_deg                    the card's rotation, positive clockwise on screen

A border that is missing, found twice, or that does not make a card with the other is a CenteringError
(one sentence, exit 1); no number is reported for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from cardgrader.grading.quads import SIDES, CenteringError, Quad, coarse_quads, quad_from_detection
from cardgrader.grading.refine import refine as refine_lines

__all__ = ["CenteringError", "Quad", "Centering", "coarse_quads", "quad_from_detection", "measure", "from_lines",
           "LINE_NAMES", "SAMPLES"]

SAMPLES = 7  # widths measured at this many points along each side, corner to corner of the printed frame
LINE_NAMES = tuple(f"{border}_{side}" for border in ("outer", "inner") for side in SIDES)
CARD_SHAPE = (1.15, 1.9)  # long side / short side of the outer border: a standard card is 88/63 = 1.40
MIN_INNER_SHARE = 0.25  # the printed frame encloses at least this share of the card


@dataclass
class Centering:
    lr: float
    tb: float
    lr_worst: float
    tb_worst: float
    angle_deg: float
    borders_px: dict[str, float]  # left, right, top, bottom: mean widths, px (card frame, about photo scale)
    samples_px: dict[str, list[float]]  # the same at SAMPLES points per side; left[k] pairs with right[k]
    refined: bool  # every one of the eight lines was measured in the photo
    outer: Quad
    inner: Quad
    lines: dict[str, tuple[tuple[float, float], tuple[float, float]]]  # outer_left ... inner_bottom: corner to corner
    unrefined: list[str] = field(default_factory=list)  # lines refinement could not find, kept as detected

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "lr": round(self.lr, 2), "tb": round(self.tb, 2),
            "lr_worst": round(self.lr_worst, 2), "tb_worst": round(self.tb_worst, 2),
            "angle_deg": round(self.angle_deg, 2),
            "borders_px": {k: round(v, 2) for k, v in self.borders_px.items()},
            "samples_px": {k: [round(v, 2) for v in vs] for k, vs in self.samples_px.items()},
            "refined": self.refined,
            "lines": {k: [[round(x, 2), round(y, 2)] for x, y in pts] for k, pts in self.lines.items()},
        }
        if self.unrefined:
            out["unrefined"] = list(self.unrefined)
        return out


def share(a: float, b: float) -> float:
    """The larger of two widths as a percentage of both: 55 means 55/45."""
    return 100.0 * max(a, b) / (a + b)


def _homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    rows = []
    for (x, y), (u, v) in zip(src, dst):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y, -u])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y, -v])
    _, _, vt = np.linalg.svd(np.asarray(rows, dtype=np.float64))
    h = vt[-1].reshape(3, 3)
    return h / h[2, 2]


def _apply(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    p = np.c_[points, np.ones(len(points))] @ h.T
    return p[:, :2] / p[:, 2:3]


def _at(p: np.ndarray, q: np.ndarray, value: np.ndarray, axis: int) -> np.ndarray:
    """The other coordinate of the line p→q where coordinate `axis` equals `value`."""
    t = (value - p[axis]) / (q[axis] - p[axis])
    return p[1 - axis] + t * (q[1 - axis] - p[1 - axis])


def _rotation(quad: Quad) -> float:
    c = quad.corners
    angles = [np.arctan2(*(c[1] - c[0])[::-1]), np.arctan2(*(c[2] - c[3])[::-1]),
              np.arctan2(*(c[3] - c[0])[::-1]) - np.pi / 2, np.arctan2(*(c[2] - c[1])[::-1]) - np.pi / 2]
    return float(np.degrees(np.angle(np.mean(np.exp(1j * np.array(angles))))))


def _check(outer: Quad, inner: Quad) -> None:
    for name, quad in (("outer", outer), ("inner", inner)):
        if not np.isfinite(quad.corners).all() or not quad.is_convex() or quad.area() <= 1:
            raise CenteringError(f"The {name} border's four lines do not make a four-sided shape (corners "
                                 f"{quad.to_json()}): move its lines apart or detect the borders again.")
    width, height = outer.size
    ratio = max(width, height) / min(width, height)
    if not CARD_SHAPE[0] <= ratio <= CARD_SHAPE[1]:
        raise CenteringError(f"The outer border is {width:.0f} x {height:.0f} px ({ratio:.2f}:1), not a card's shape "
                             f"(63 x 88 mm is 1.40:1): the border model found something else, or the card is cut off "
                             f"by the edge of the photo.")
    if not outer.contains(inner.corners).all():
        raise CenteringError("The inner (printed) border is not inside the outer border: the model mistook one for "
                             "the other, or the photo does not show the card's whole edge.")


def _measure_quads(outer: Quad, inner: Quad, refined: bool, unrefined: Sequence[str] = ()) -> Centering:
    _check(outer, inner)
    width, height = outer.size
    frame = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float64)
    q = _apply(_homography(outer.corners, frame), inner.corners)  # inner corners in the card's frame
    share_inside = Quad(q).area() / (width * height)
    if share_inside < MIN_INNER_SHARE:
        raise CenteringError(f"The inner border encloses only {100 * share_inside:.0f}% of the card: that is not a "
                             f"printed frame (check the inner-border detection).")
    ys = np.linspace(max(q[0, 1], q[1, 1]), min(q[3, 1], q[2, 1]), SAMPLES)
    xs = np.linspace(max(q[0, 0], q[3, 0]), min(q[1, 0], q[2, 0]), SAMPLES)
    samples = {
        "left": _at(q[0], q[3], ys, 1), "right": width - _at(q[1], q[2], ys, 1),
        "top": _at(q[0], q[1], xs, 0), "bottom": height - _at(q[3], q[2], xs, 0),
    }
    thin = [name for name, values in samples.items() if (values <= 0).any()]
    if thin:
        raise CenteringError(f"The {' and '.join(thin)} border width comes out zero or negative: the inner border "
                             f"crosses the outer one there.")
    means = {name: float(values.mean()) for name, values in samples.items()}
    lr_each = [share(a, b) for a, b in zip(samples["left"], samples["right"])]
    tb_each = [share(a, b) for a, b in zip(samples["top"], samples["bottom"])]
    lines = {f"{border}_{side}": tuple((float(x), float(y)) for x, y in quad.side(side))
             for border, quad in (("outer", outer), ("inner", inner)) for side in SIDES}
    return Centering(
        lr=share(means["left"], means["right"]), tb=share(means["top"], means["bottom"]),
        lr_worst=float(max(lr_each)), tb_worst=float(max(tb_each)), angle_deg=_rotation(outer),
        borders_px=means, samples_px={k: [float(v) for v in vs] for k, vs in samples.items()},
        refined=refined, outer=outer, inner=inner, lines=lines, unrefined=list(unrefined))


def _quads_from_lines(lines: Mapping[str, Sequence[Sequence[float]]]) -> tuple[Quad, Quad]:
    missing = [name for name in LINE_NAMES if name not in lines]
    if missing:
        raise CenteringError(f"Centering needs all eight border lines; {', '.join(missing)} "
                             f"{'is' if len(missing) == 1 else 'are'} missing.")
    quads = []
    for border in ("outer", "inner"):
        four = {side: tuple(np.asarray(p, dtype=np.float64) for p in lines[f"{border}_{side}"]) for side in SIDES}
        try:
            quads.append(Quad.from_lines(four))
        except ValueError:
            raise CenteringError(f"Two of the {border} border's lines are parallel, so they have no corner: "
                                 f"move them so the four lines make a frame.") from None
    return quads[0], quads[1]


def from_lines(lines: Mapping[str, Sequence[Sequence[float]]], refined: bool = False) -> Centering:
    """Centering from eight lines (`outer_left` ... `inner_bottom`, each two image points, e.g. as a user
    dragged them): the quads are where the lines meet."""
    outer, inner = _quads_from_lines(lines)
    return _measure_quads(outer, inner, refined)


def measure(image: np.ndarray, outer: Quad, inner: Quad, refine: bool = True) -> Centering:
    """Centering of the card in `image` (H x W or H x W x 3 BGR, uint8 or uint16) from its coarse quads.

    With `refine`, each of the eight lines is measured in the photo; a line that cannot be found keeps its
    coarse position and is listed in `unrefined` (and `refined` is then False)."""
    image = np.asarray(image)
    if image.ndim not in (2, 3) or image.size == 0:
        raise CenteringError(f"The image to measure has shape {image.shape}; it must be a photo (H x W or H x W x 3).")
    if not refine:
        return _measure_quads(outer, inner, refined=False)
    result = refine_lines(image, outer, inner)
    coarse = {f"{border}_{side}": quad.side(side)
              for border, quad in (("outer", result.outer), ("inner", result.inner)) for side in SIDES}
    lines = {name: result.lines.get(name, coarse[name]) for name in LINE_NAMES}
    try:
        outer_refined, inner_refined = _quads_from_lines(lines)
    except CenteringError:
        raise CenteringError("The border lines found in the photo do not make two frames (two of them are "
                             "parallel); check the photo shows the card's whole edge.") from None
    return _measure_quads(outer_refined, inner_refined, refined=not result.failed, unrefined=result.failed)
