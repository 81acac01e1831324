"""A photo of a flat card: a varied background (desk, wood, felt, cutting mat), the card turned a few
degrees with mild perspective and a soft shadow, uneven light and sometimes sleeve glare, then blur and
sensor noise. Returns the photo and a function that maps card-frame points into it.
"""

from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

from cardgrader.data.cards import CARD_ASPECT, FlatCard, draw_card

Mapper = Callable[[list[list[float]]], list[list[float]]]


def background(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    kind = rng.choice(["desk", "wood", "felt", "mat"])
    yy, xx = np.arange(h, dtype=np.float32)[:, None], np.arange(w, dtype=np.float32)[None, :]
    if kind == "wood":
        base = np.array([rng.uniform(40, 90), rng.uniform(80, 130), rng.uniform(120, 190)], np.float32)
        angle = rng.uniform(-0.3, 0.3)
        u = xx * np.sin(angle) + yy * np.cos(angle)
        warp = cv2.GaussianBlur(rng.standard_normal((h, w), dtype=np.float32), (0, 0), 12) * 40
        grain = 0.5 + 0.5 * np.sin((u + warp) / np.float32(rng.uniform(3, 9)))
        img = base * (0.75 + 0.3 * grain[..., None])
    elif kind == "felt":
        base = np.array(rng.choice([[25, 25, 25], [30, 70, 30], [80, 40, 20], [35, 35, 90]]), np.float32)
        img = base + rng.standard_normal((h, w, 1), dtype=np.float32) * 7
    elif kind == "mat":
        img = np.ones((h, w, 3), np.float32) * np.array([70, 120, 60], np.float32)
        step = int(rng.integers(18, 40))
        img[(np.arange(h)[:, None] % step == 0) | (np.arange(w)[None, :] % step == 0)] = (150, 190, 140)
    else:
        c0, c1 = rng.uniform(90, 235, 3).astype(np.float32), rng.uniform(90, 235, 3).astype(np.float32)
        t = (xx / w if rng.random() < 0.5 else yy / h)[..., None]
        img = np.broadcast_to(c0 * (1 - t) + c1 * t, (h, w, 3))
    texture = cv2.GaussianBlur(rng.standard_normal((h, w), dtype=np.float32) * 10, (0, 0), rng.uniform(0.8, 3))
    return (img + texture[..., None]).astype(np.float32)


def lighting(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A multiplicative light field: a linear gradient and a soft spotlight."""
    yy, xx = np.arange(h, dtype=np.float32)[:, None], np.arange(w, dtype=np.float32)[None, :]
    gx, gy = rng.uniform(-0.25, 0.25, 2).astype(np.float32)
    field = 1 + gx * (xx / w - 0.5) + gy * (yy / h - 0.5)
    cx, cy = np.float32(rng.uniform(0, w)), np.float32(rng.uniform(0, h))
    spread = np.float32(rng.uniform(0.4, 1.0) * max(w, h))
    spot = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * spread ** 2))
    return (field * (np.float32(0.85) + np.float32(rng.uniform(0.1, 0.3)) * spot))[..., None]


def place(rng: np.random.Generator, card: FlatCard, w: int, h: int) -> tuple[np.ndarray, float]:
    """The perspective transform that puts the card into the photo, fully inside it, and its rotation in degrees."""
    ch, cw = card.alpha.shape
    src = np.float32([[0, 0], [cw, 0], [cw, ch], [0, ch]])
    degrees = rng.uniform(-4, 4)
    angle = np.radians(degrees)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    scale = 1.0
    for _ in range(20):
        centred = (src - [cw / 2, ch / 2]) @ rot.T * scale
        jitter = rng.uniform(-0.015, 0.015, (4, 2)) * [cw, ch] * scale  # mild perspective
        quad = centred + jitter
        span = quad.max(0) - quad.min(0)
        room = np.array([w, h]) - span
        if (room > 4).all():
            offset = np.array([rng.uniform(2, room[0] - 2), rng.uniform(2, room[1] - 2)]) - quad.min(0)
            return cv2.getPerspectiveTransform(src, np.float32(quad + offset)), float(degrees)
        scale *= 0.9
    raise ValueError(f"a card does not fit in a {w}×{h} photo")


def photograph(rng: np.random.Generator, side: str, size: tuple[int, int],
               defect_rate: float = 0.0) -> tuple[np.ndarray, FlatCard, Mapper, float]:
    """One photo (BGR uint8), the card drawn in it, the card-to-photo point mapper and the rotation in degrees."""
    w, h = size
    card_h_px = min(h * rng.uniform(0.62, 0.86), w * rng.uniform(0.62, 0.86) * CARD_ASPECT)
    card = draw_card(rng, side, max(40, int(card_h_px / CARD_ASPECT)), defect_rate)
    warp, angle = place(rng, card, w, h)
    image = background(rng, w, h)
    card_img = cv2.warpPerspective(card.image, warp, (w, h), flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(card.alpha, warp, (w, h), flags=cv2.INTER_LINEAR).astype(np.float32) / 255
    shift = np.float32([[1, 0, rng.uniform(2, 6)], [0, 1, rng.uniform(2, 8)]])
    shadow = cv2.GaussianBlur(cv2.warpAffine(mask, shift, (w, h)), (0, 0), rng.uniform(2, 6))
    image *= (1 - np.float32(0.4) * shadow)[..., None]
    image = image * (1 - mask[..., None]) + card_img * mask[..., None]
    image *= lighting(rng, w, h)
    if rng.random() < 0.3:  # glare from a sleeve or top-loader
        glare = np.zeros((h, w), np.float32)
        center = (int(rng.uniform(0.2, 0.8) * w), int(rng.uniform(0.2, 0.8) * h))
        cv2.ellipse(glare, center, (int(w * rng.uniform(0.05, 0.15)), int(h * rng.uniform(0.1, 0.3))),
                    float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
        glare = cv2.GaussianBlur(glare, (0, 0), w * 0.03) * mask * np.float32(rng.uniform(40, 110))
        image += glare[..., None]
    sigma = rng.uniform(0.0, 1.2)
    if sigma > 0.3:
        image = cv2.GaussianBlur(image, (0, 0), sigma)
    image += rng.standard_normal(image.shape, dtype=np.float32) * np.float32(rng.uniform(1, 5))
    photo = np.clip(image, 0, 255).astype(np.uint8)

    def to_photo(points: list[list[float]]) -> list[list[float]]:
        mapped = cv2.perspectiveTransform(np.float64(points)[None], warp)[0]
        return mapped.round(3).tolist()

    return photo, card, to_photo, angle
