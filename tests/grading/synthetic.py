"""Cards drawn with exact geometry for the centering tests: every pixel is the area-weighted mix of what
covers it (16 sub-samples), so the true edges are known to a small fraction of a pixel.

Coordinates are OpenCV's: pixel (i, j) is centred at x = j, y = i. The card is a (rounded) rectangle
`card_w` x `card_h` rotated by `angle_deg` (clockwise on screen) about `centre`; the printed frame sits at
the given border widths, optionally turned by `tilt_deg` inside the card (a diamond cut).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass
class DrawnCard:
    image: np.ndarray  # BGR uint8
    outer: np.ndarray  # (4, 2) TL, TR, BR, BL of the card's (square-cornered) outline, photo px
    inner: np.ndarray  # (4, 2) the printed frame's corners, photo px
    borders: dict  # left, right, top, bottom in card px (at the frame's middle when tilted)
    lr: float
    tb: float


def _rotation(degrees: float) -> np.ndarray:
    a = np.radians(degrees)
    return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])


def draw_card(size=(480, 640), card_w=300.0, card_h=None, borders=(14.0, 14.0, 18.0, 18.0), angle_deg=0.0,
              centre=None, tilt_deg=0.0, border_colour=(235, 238, 240), background=(70, 110, 60),
              radius=0.05, blur=0.8, noise=2.0, seed=0, art=True, frame_line=None, grid=None) -> DrawnCard:
    """`frame_line`: (width in card px, BGR) of a printed line just inside the frame, part of the artwork;
    `grid`: (spacing px, BGR) of one-pixel lines on the background, like a cutting mat's."""
    w, h = size
    card_h = card_w * 88 / 63 if card_h is None else card_h
    centre = np.array([w / 2, h / 2]) if centre is None else np.asarray(centre, float)
    left, right, top, bottom = borders
    rng = np.random.default_rng(seed)
    rot = _rotation(angle_deg)
    sub = (np.arange(4) + 0.5) / 4 - 0.5
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    colour = np.zeros((h, w, 3), np.float32)
    # frame centre and tilt in card coordinates (u right, v down, origin at the card's top-left)
    fc = np.array([(left + card_w - right) / 2, (top + card_h - bottom) / 2])
    fw, fh = card_w - left - right, card_h - top - bottom
    tilt = _rotation(tilt_deg)
    cells = rng.uniform(20, 235, (12, 9, 3)).astype(np.float32)  # the artwork: blocks of colour
    bg = np.array(background, np.float32)
    border = np.array(border_colour, np.float32)
    for dy in sub:
        for dx in sub:
            px, py = xs + np.float32(dx) - centre[0], ys + np.float32(dy) - centre[1]
            u = rot[0, 0] * px + rot[1, 0] * py + card_w / 2  # card frame: inverse rotation
            v = rot[0, 1] * px + rot[1, 1] * py + card_h / 2
            r = radius * card_w
            cu, cv = np.clip(u, r, card_w - r), np.clip(v, r, card_h - r)
            on_card = (u >= 0) & (u <= card_w) & (v >= 0) & (v <= card_h) & ((u - cu) ** 2 + (v - cv) ** 2 <= r * r)
            fu = tilt[0, 0] * (u - fc[0]) + tilt[1, 0] * (v - fc[1])
            fv = tilt[0, 1] * (u - fc[0]) + tilt[1, 1] * (v - fc[1])
            in_frame = (np.abs(fu) <= fw / 2) & (np.abs(fv) <= fh / 2)
            if art:
                iy = np.clip(((fv + fh / 2) / fh * 12).astype(int), 0, 11)
                ix = np.clip(((fu + fw / 2) / fw * 9).astype(int), 0, 8)
                inside = cells[iy, ix]
            else:
                inside = np.broadcast_to(np.float32([40, 60, 150]), (h, w, 3))
            if frame_line is not None:
                near_edge = np.minimum(fw / 2 - np.abs(fu), fh / 2 - np.abs(fv)) < frame_line[0]
                inside = np.where(near_edge[..., None], np.float32(frame_line[1]), inside)
            sample = np.where(on_card[..., None], np.where(in_frame[..., None], inside, border), bg)
            colour += sample
    colour /= 16
    background_only = np.abs(colour - bg).sum(-1) < 1
    if grid is not None:
        lines = (xs % grid[0] < 1) | (ys % grid[0] < 1)
        colour[background_only & lines] = np.float32(grid[1])
    texture = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 2.0) * 12
    colour += texture[..., None] * background_only[..., None]  # texture on the background only
    if blur > 0:
        colour = cv2.GaussianBlur(colour, (0, 0), blur)
    colour += rng.standard_normal(colour.shape).astype(np.float32) * noise
    image = np.clip(colour + 0.5, 0, 255).astype(np.uint8)
    corners = np.array([[0, 0], [card_w, 0], [card_w, card_h], [0, card_h]], float)
    frame = np.array([[-fw / 2, -fh / 2], [fw / 2, -fh / 2], [fw / 2, fh / 2], [-fw / 2, fh / 2]]) @ tilt.T + fc
    to_photo = lambda p: (p - [card_w / 2, card_h / 2]) @ rot.T + centre  # noqa: E731
    lr = 100 * max(left, right) / (left + right)
    tb = 100 * max(top, bottom) / (top + bottom)
    return DrawnCard(image, to_photo(corners), to_photo(frame),
                     {"left": left, "right": right, "top": top, "bottom": bottom}, lr, tb)
