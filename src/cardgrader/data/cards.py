"""A flat trading card, drawn in its own frame: rounded stock, a printed border around an inner design at a
known offset, fronts and backs, and optional wear (worn corners, chipped edges, scratches, dents,
creases). Every labelled part comes back as a polygon in card pixels, to be warped into a photo by
`scene`.
"""

from __future__ import annotations

import cv2
import numpy as np

from cardgrader.data import wear
from cardgrader.data.card_spec import (CARD_ASPECT, CARD_WIDTH_MM, CORNER_BOX, CORNER_RADIUS, CORNERS, EDGES,
                                       FlatCard)

# The measurements and `FlatCard` live in `card_spec` (which `wear` imports too); they are importable from
# here as before.
__all__ = ["BACK_BORDERS", "CARD_ASPECT", "CARD_WIDTH_MM", "CORNERS", "CORNER_BOX", "CORNER_RADIUS", "EDGES",
           "FRONT_BORDERS", "FlatCard", "draw_card", "rounded_outline"]

FRONT_BORDERS = [((236, 240, 242), 0.35), ((40, 200, 240), 0.2), ((185, 185, 180), 0.15), ((25, 25, 28), 0.1),
                 ((150, 70, 30), 0.1), ((40, 40, 170), 0.1)]  # BGR: white, yellow, silver, black, blue, red
BACK_BORDERS = [((120, 45, 20), 0.5), ((150, 170, 180), 0.3), ((60, 60, 60), 0.2)]


def _pick(rng: np.random.Generator, options: list[tuple[tuple, float]]) -> np.ndarray:
    weights = np.array([w for _c, w in options])
    color = options[rng.choice(len(options), p=weights / weights.sum())][0]
    return np.array(color, np.float32) + rng.normal(0, 6, 3).astype(np.float32)


def rounded_outline(w: float, h: float, radius: float, per_corner: int = 5) -> list[list[float]]:
    """The rounded rectangle (0, 0)–(w, h) as a polygon, clockwise from the top-left arc."""
    out = []
    centers = ((radius, radius, 180), (w - radius, radius, 270), (w - radius, h - radius, 0), (radius, h - radius, 90))
    for cx, cy, start in centers:
        for k in range(per_corner):
            a = np.radians(start + 90 * k / (per_corner - 1))
            out.append([float(cx + radius * np.cos(a)), float(cy + radius * np.sin(a))])
    return out


def _art(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A front's picture box: sky, ground, a 'character', a name bar and a text box."""
    img = np.empty((h, w, 3), np.float32)
    sky, ground = rng.uniform(60, 240, 3), rng.uniform(30, 200, 3)
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    img[:] = sky * (1 - t) + ground * t
    horizon = int(h * rng.uniform(0.45, 0.65))
    pts = np.array([[0, horizon]] + [[int(x), int(horizon - rng.uniform(0, h * 0.25))] for x in np.linspace(0, w, 6)]
                   + [[w, h], [0, h]], np.int32)
    cv2.fillPoly(img, [pts], tuple(float(v) for v in ground * 0.7), cv2.LINE_AA)
    for _ in range(int(rng.integers(2, 5))):
        color = tuple(float(v) for v in rng.uniform(0, 255, 3))
        center = (int(rng.uniform(0.2, 0.8) * w), int(rng.uniform(0.25, 0.7) * h))
        axes = (int(rng.uniform(0.06, 0.22) * w), int(rng.uniform(0.06, 0.2) * h))
        cv2.ellipse(img, center, axes, float(rng.uniform(0, 180)), 0, 360, color, -1, cv2.LINE_AA)
    bar = max(3, int(h * 0.09))
    cv2.rectangle(img, (0, 0), (w, bar), (230, 235, 240), -1)
    for x in range(int(w * 0.05), int(w * rng.uniform(0.4, 0.7)), max(3, w // 18)):
        cv2.rectangle(img, (x, bar // 3), (x + max(1, w // 30), bar - bar // 3), (30, 30, 30), -1)
    box = int(h * 0.72)
    cv2.rectangle(img, (int(w * 0.04), box), (int(w * 0.96), int(h * 0.96)), (215, 225, 232), -1)
    for y in range(box + max(2, h // 40), int(h * 0.94), max(3, h // 28)):
        cv2.line(img, (int(w * 0.08), y), (int(w * rng.uniform(0.5, 0.9)), y), (90, 90, 90), 1, cv2.LINE_AA)
    return img


def _back(rng: np.random.Generator, w: int, h: int, border: np.ndarray) -> np.ndarray:
    """A back: a swirl and logo on a dark field, or a stats panel on card stock."""
    if rng.random() < 0.5:
        img = np.ones((h, w, 3), np.float32) * (border * 1.25)
        center = (w // 2, h // 2)
        for r in range(max(w, h), 0, -max(3, w // 12)):
            shade = tuple(float(v) for v in border * (1.0 + 0.35 * ((r // max(3, w // 12)) % 2)))
            cv2.circle(img, center, r, shade, -1, cv2.LINE_AA)
        cv2.ellipse(img, center, (int(w * 0.32), int(h * 0.14)), -15, 0, 360, (40, 200, 235), -1, cv2.LINE_AA)
        cv2.ellipse(img, center, (int(w * 0.32), int(h * 0.14)), -15, 0, 360, (20, 20, 160), max(1, w // 60),
                    cv2.LINE_AA)
        return img
    img = np.ones((h, w, 3), np.float32) * np.array([200, 210, 215], np.float32)
    cv2.rectangle(img, (0, 0), (w, int(h * 0.12)), tuple(float(v) for v in border), -1)
    for k, y in enumerate(range(int(h * 0.18), int(h * 0.95), max(4, h // 16))):
        cv2.line(img, (int(w * 0.06), y), (int(w * 0.94), y), (120, 120, 120), 1)
        glyph = max(2, h // 60)
        for x in np.linspace(w * 0.1, w * 0.85, 6):  # columns of figures, drawn as short dark marks
            width = int(glyph * rng.integers(1, 4))
            cv2.rectangle(img, (int(x), y - glyph - 1), (int(x) + width, y - 2), (45, 45, 45), -1)
    return img


def _centering(rng: np.random.Generator, total: float) -> tuple[float, float]:
    """Two border widths summing to `total`, from perfectly centred to about 80/20."""
    share = rng.uniform(50, 80) / 100 if rng.random() < 0.7 else rng.uniform(50, 56) / 100
    big = total * share
    return (big, total - big) if rng.random() < 0.5 else (total - big, big)


def draw_card(rng: np.random.Generator, side: str, card_w: int, defect_rate: float = 0.0) -> FlatCard:
    """A flat card `card_w` pixels wide, its labelled parts and its true border widths."""
    card_h = int(round(card_w * CARD_ASPECT))
    border = _pick(rng, FRONT_BORDERS if side == "front" else BACK_BORDERS)
    image = np.ones((card_h, card_w, 3), np.float32) * border
    left, right = _centering(rng, card_w * rng.uniform(0.09, 0.16))
    top, bottom = _centering(rng, card_h * rng.uniform(0.07, 0.13))
    x0, y0, x1, y1 = left, top, card_w - right, card_h - bottom
    ix0, iy0, ix1, iy1 = (int(round(v)) for v in (x0, y0, x1, y1))
    design = _art(rng, ix1 - ix0, iy1 - iy0) if side == "front" else _back(rng, ix1 - ix0, iy1 - iy0, border)
    image[iy0:iy1, ix0:ix1] = design
    frame = (20, 20, 20) if border.mean() > 90 else (200, 200, 200)
    cv2.rectangle(image, (ix0, iy0), (ix1 - 1, iy1 - 1), frame, max(1, card_w // 250), cv2.LINE_AA)
    borders = {"left": float(ix0), "right": float(card_w - ix1), "top": float(iy0), "bottom": float(card_h - iy1)}

    radius = CORNER_RADIUS * card_w
    outline = rounded_outline(card_w, card_h, radius)
    alpha = np.zeros((card_h, card_w), np.uint8)
    cv2.fillPoly(alpha, [np.round(np.array(rounded_outline(card_w, card_h, radius, 12)) * 16).astype(np.int32)], 255,
                 cv2.LINE_AA, shift=4)
    card = FlatCard(image, alpha, borders, [[0, 0], [card_w, 0], [card_w, card_h], [0, card_h]], outline,
                    [[ix0, iy0], [ix1, iy0], [ix1, iy1], [ix0, iy1]])
    worn = rng.random() < defect_rate
    wear.corners(rng, card, worn)
    if worn:
        wear.edges(rng, card)
        wear.surface(rng, card)
    return card
