"""Wear on a flat card: whitened, frayed corners; chipped edges; scratches, dents and creases.

Each function paints onto a `card_spec.FlatCard` (which `cards.draw_card` draws, then hands here) and appends
its labels as polygons in card pixels.
"""

from __future__ import annotations

import cv2
import numpy as np

from cardgrader.data.card_spec import CORNER_BOX, CORNERS, EDGES, FlatCard

WHITE = np.array([238, 242, 244], np.float32)


def _noise(rng: np.random.Generator, shape: tuple[int, int], scale: float) -> np.ndarray:
    """Smooth noise in 0..1, blobs about `scale` pixels across."""
    field = cv2.GaussianBlur(rng.random(shape).astype(np.float32), (0, 0), max(0.8, scale))
    lo, hi = float(field.min()), float(field.max())
    return (field - lo) / max(hi - lo, 1e-6)


def _whiten(card: FlatCard, region: np.ndarray, depth: float, rng: np.random.Generator) -> None:
    """Turn the stock white within `depth` pixels of the edge, irregularly, inside `region`; fray the edge."""
    inside = cv2.distanceTransform((card.alpha > 127).astype(np.uint8), cv2.DIST_L2, 3)
    ragged = depth * (0.35 + 0.9 * _noise(rng, inside.shape, depth / 3))
    chipped = region & (inside > 0) & (inside < ragged)
    card.image[chipped] = WHITE + rng.normal(0, 4, (int(chipped.sum()), 3)).astype(np.float32)
    frayed = region & (inside < ragged * 0.25)
    card.alpha[frayed] = (card.alpha[frayed] * 0.3).astype(np.uint8)


def _corner_box(card: FlatCard, corner: str) -> list[list[float]]:
    h, w = card.alpha.shape
    s = CORNER_BOX * w
    x0, x1 = (0.0, s) if "left" in corner else (w - s, float(w))
    y0, y1 = (0.0, s) if "top" in corner else (h - s, float(h))
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def corners(rng: np.random.Generator, card: FlatCard, worn: bool) -> None:
    """Label all four corners; with `worn`, wear each down with even odds."""
    h, w = card.alpha.shape
    for corner in CORNERS:
        box = _corner_box(card, corner)
        state = "worn" if worn and rng.random() < 0.5 else "sharp"
        if state == "worn":
            region = np.zeros((h, w), bool)
            (x0, y0), (x1, y1) = box[0], box[2]
            region[int(y0):int(np.ceil(y1)), int(x0):int(np.ceil(x1))] = True
            _whiten(card, region, w * rng.uniform(0.025, 0.05), rng)
        card.corners[corner] = state
        card.parts.append((f"corner_{state}", box))


def edges(rng: np.random.Generator, card: FlatCard) -> None:
    """One or two chipped stretches of edge, away from the corners."""
    h, w = card.alpha.shape
    thick = 0.035 * w
    for edge in rng.choice(EDGES, size=int(rng.integers(1, 3)), replace=False):
        length = w if edge in ("top", "bottom") else h
        a, b = sorted(rng.uniform(0.2, 0.8, 2) * length)
        b = max(b, a + 0.12 * length)
        poly = {"top": [[a, 0], [b, 0], [b, thick], [a, thick]],
                "bottom": [[a, h - thick], [b, h - thick], [b, h], [a, h]],
                "left": [[0, a], [thick, a], [thick, b], [0, b]],
                "right": [[w - thick, a], [w, a], [w, b], [w - thick, b]]}[edge]
        region = np.zeros((h, w), np.uint8)
        cv2.fillPoly(region, [np.round(np.array(poly)).astype(np.int32)], 1)
        _whiten(card, region.astype(bool), w * rng.uniform(0.012, 0.022), rng)
        card.parts.append(("edge_wear", [[float(x), float(y)] for x, y in poly]))


def _band(points: np.ndarray, half: float) -> list[list[float]]:
    """A polygon `half` pixels either side of a polyline."""
    d = np.gradient(points, axis=0)
    n = np.stack([-d[:, 1], d[:, 0]], 1) / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-6)
    return (np.concatenate([points + n * half, (points - n * half)[::-1]])).tolist()


def surface(rng: np.random.Generator, card: FlatCard) -> None:
    """One or two of: a scratch, a dent, a crease."""
    for kind in rng.choice(("scratch", "dent", "crease"), size=int(rng.integers(1, 3)), replace=False):
        {"scratch": _scratch, "dent": _dent, "crease": _crease}[kind](rng, card)


def _scratch(rng: np.random.Generator, card: FlatCard) -> None:
    h, w = card.alpha.shape
    start = np.array([rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h])
    angle = rng.uniform(0, np.pi)
    length = rng.uniform(0.15, 0.4) * w
    t = np.linspace(0, 1, 9)[:, None]
    direction = np.array([np.cos(angle), np.sin(angle)])
    bow = np.array([-direction[1], direction[0]]) * rng.uniform(-0.08, 0.08) * length
    points = start + t * direction * length + (4 * t * (1 - t)) * bow
    points = np.clip(points, [0.06 * w, 0.06 * h], [0.94 * w, 0.94 * h])
    line = np.round(points * 16).astype(np.int32)
    layer = np.zeros_like(card.image)
    cv2.polylines(layer, [line], False, (70, 70, 70), max(1, w // 300), cv2.LINE_AA, shift=4)
    card.image += layer
    card.parts.append(("scratch", _band(points, 0.012 * w)))


def _dent(rng: np.random.Generator, card: FlatCard) -> None:
    h, w = card.alpha.shape
    r = rng.uniform(0.025, 0.05) * w
    cx, cy = rng.uniform(0.15, 0.85) * w, rng.uniform(0.15, 0.85) * h
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dx, dy = (xx - cx) / r, (yy - cy) / r
    d2 = dx * dx + dy * dy
    light = np.array([np.cos(a := rng.uniform(0, 2 * np.pi)), np.sin(a)], np.float32)
    shade = np.where(d2 < 1, (dx * light[0] + dy * light[1]) * (1 - d2) * 90, 0).astype(np.float32)
    card.image += shade[..., None]
    ring = [[cx + 1.1 * r * np.cos(t), cy + 1.1 * r * np.sin(t)] for t in np.linspace(0, 2 * np.pi, 12, endpoint=False)]
    card.parts.append(("dent", [[float(x), float(y)] for x, y in ring]))


def _crease(rng: np.random.Generator, card: FlatCard) -> None:
    h, w = card.alpha.shape
    if rng.random() < 0.5:  # across the card, left edge to right edge
        a, b = np.array([0.0, rng.uniform(0.15, 0.85) * h]), np.array([float(w), rng.uniform(0.15, 0.85) * h])
    else:  # cutting off a corner region
        a, b = np.array([rng.uniform(0.1, 0.6) * w, 0.0]), np.array([0.0, rng.uniform(0.1, 0.6) * h])
    points = np.linspace(a, b, 6)
    offset = max(1.0, w / 250)
    normal = np.array([-(b - a)[1], (b - a)[0]]) / np.linalg.norm(b - a)
    layer = np.zeros_like(card.image)
    for shift, value in ((offset, 55.0), (-offset, -65.0)):
        line = np.round((points + normal * shift) * 16).astype(np.int32)
        cv2.polylines(layer, [line], False, (value,) * 3, max(1, w // 250), cv2.LINE_AA, shift=4)
    card.image += cv2.GaussianBlur(layer, (0, 0), 0.8)
    band = np.clip(np.array(_band(points, 0.015 * w)), [0, 0], [w, h])
    card.parts.append(("crease", band.tolist()))
