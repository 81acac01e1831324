"""Photometric-stereo captures of sample cards lying on a table, with damage at their perimeter.

A sample card photo (`data.sample.render`: a printed card on a desk, wood, felt or a cutting mat, the kind
of picture the app's card models train on) gives the albedo; the height field is the card's stock, a step
`thickness` pixels above the table with a gentle bow. A chipped corner cuts the stock away in a disc
around the corner, and the table shows through there; a dinged edge is a round pit in the face just inside
it. `stock_shift` moves the stock (its relief) against the print: the picture a model sees then shows the
card a few pixels from where photometric stereo finds its edge, as a model that misplaces the card would.
The capture is rendered under a ring of lights, as the app's own sample capture is, and written as a
folder a grader would have.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from cardgrader.data.cards import CORNERS, EDGES
from cardgrader.data.sample import CardTruth, render
from cardgrader.photometric import synthetic


@dataclass
class PerimeterCard:
    folder: Path
    truth: CardTruth
    stock: np.ndarray  # (H, W) bool: where the card is, after the chips
    chipped: list[str]  # the corners cut away
    card_box: list[int]  # x0, y0, x1, y1 of the stock, inclusive


def closeup(photo: np.ndarray, truth: CardTruth, size: tuple[int, int],
            margin: float = 0.1) -> tuple[np.ndarray, CardTruth, tuple[float, float, float, float]]:
    """The photo cropped to the card with `margin` of its width of table around it and resized to `size`
    (w, h), the truth's outline, corners and parts moved with it, and the crop (x0, y0, sx, sy): a point
    (x, y) of the photo lands at ((x - x0) * sx, (y - y0) * sy)."""
    xs, ys = np.array(truth.outline)[:, 0], np.array(truth.outline)[:, 1]
    pad = margin * (xs.max() - xs.min())
    h, w = photo.shape[:2]
    x0, y0 = max(0.0, xs.min() - pad), max(0.0, ys.min() - pad)
    x1, y1 = min(float(w), xs.max() + pad), min(float(h), ys.max() + pad)
    sx, sy = size[0] / (x1 - x0), size[1] / (y1 - y0)
    crop = photo[int(y0):int(np.ceil(y1)), int(x0):int(np.ceil(x1))]
    image = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)

    def move(points):
        return [[(x - x0) * sx, (y - y0) * sy] for x, y in points]

    moved = CardTruth(**{**truth.__dict__, "width": size[0], "height": size[1], "outer": move(truth.outer),
                         "inner": move(truth.inner), "outline": move(truth.outline),
                         "defects": [{**d, "polygon": move(d["polygon"])} for d in truth.defects]})
    return image, moved, (x0, y0, sx, sy)


def card_seed(size: tuple[int, int], start: int = 0, defect_rate: float = 0.0, worn: int | None = None,
              room: float = 0.0, side: str = "front") -> int:
    """The first seed from `start` whose sample card (drawn as `perimeter_capture` draws it) has `worn` worn
    corners (any number when None) and table around it at least `room` of its width on every side."""
    for seed in range(start, start + 500):
        _photo, truth, _labels = render(np.random.default_rng([seed]), side, size, defect_rate)
        xs, ys = np.array(truth.outline)[:, 0], np.array(truth.outline)[:, 1]
        pad = room * (xs.max() - xs.min())
        fits = xs.min() >= pad and ys.min() >= pad and xs.max() <= size[0] - pad and ys.max() <= size[1] - pad
        if fits and (worn is None or sum(state == "worn" for state in truth.corners.values()) == worn):
            return seed
    raise AssertionError(f"no sample card with {worn} worn corners and {room} of its width around it")


def perimeter_capture(folder: Path, seed: int = 0, side: str = "front", size: tuple[int, int] = (72, 96),
                      defect_rate: float = 0.0, chip: tuple[str, ...] | str = (), chip_share: float = 0.12,
                      thickness: float = 2.5, mask: bool = False, stock_shift: tuple[int, int] = (0, 0),
                      ding: str | None = None, lights: int = 8, noise: float = 0.003,
                      zoom: tuple[int, int] | None = None, zoom_margin: float = 0.15) -> PerimeterCard:
    """Render and write a capture of sample card `seed`; `chip` names corners to cut (or "worn": the ones
    the sample card's print shows worn), `chip_share` the cut's radius as a share of the card's width;
    `ding` a side (top, right, bottom, left) with a pit in the face at its middle, just inside the edge;
    `mask` writes mask.png (the stock); `stock_shift` (x, y) moves the stock against the print; `zoom`
    (w, h) frames the card close up at that size with `zoom_margin` of table (`closeup`), as the close-up
    training photos are."""
    photo, truth, _labels = render(np.random.default_rng([seed]), side, size, defect_rate)
    if zoom is not None:
        photo, truth, _crop = closeup(photo, truth, zoom, zoom_margin)
    h, w = photo.shape[:2]
    stock8 = np.zeros((h, w), np.uint8)
    cv2.fillPoly(stock8, [np.round(np.array(truth.outline) * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)
    plate = cv2.inpaint(photo, cv2.dilate(stock8, np.ones((3, 3), np.uint8), iterations=2), 3, cv2.INPAINT_TELEA)
    stock = stock8.astype(bool)
    chipped = [c for c, state in truth.corners.items() if state == "worn"] if chip == "worn" else list(chip)
    card_w = float(np.linalg.norm(np.subtract(truth.outer[1], truth.outer[0])))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    for corner in chipped:
        cx, cy = truth.outer[CORNERS.index(corner)]
        stock &= np.hypot(xx - cx, yy - cy) > chip_share * card_w
    colour = np.where(stock[..., None], photo, plate).astype(np.float32) / 255.0
    albedo = np.clip(colour[..., 2] * 0.299 + colour[..., 1] * 0.587 + colour[..., 0] * 0.114, 0.02, 1.0)
    stock = np.roll(stock, (stock_shift[1], stock_shift[0]), axis=(0, 1))
    u = (xx - w / 2) / w
    height = stock * (thickness + 0.02 * w * (0.25 - u * u))
    if ding is not None:
        (x0, y0), (x1, y1) = truth.outer[EDGES.index(ding)], truth.outer[(EDGES.index(ding) + 1) % 4]
        inward = np.array([y0 - y1, x1 - x0]) / np.hypot(x1 - x0, y1 - y0)  # the corners run clockwise on screen
        cx, cy = np.array([(x0 + x1) / 2, (y0 + y1) / 2]) + inward * 0.05 * card_w
        radius = 0.05 * card_w
        height -= stock * 0.6 * radius * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * radius ** 2))
    capture = synthetic.render(height, synthetic.normals_from_height(height), np.ones((h, w), bool),
                               synthetic.ring_lights(lights, 40.0, 10.0), albedo=albedo, noise=noise, bits=16,
                               seed=seed)
    synthetic.write_capture(folder, capture)
    if mask:
        cv2.imwrite(str(Path(folder) / "mask.png"), stock.astype(np.uint8) * 255)
    ys, xs = np.nonzero(stock)
    return PerimeterCard(Path(folder), truth, stock, chipped, [int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())])
