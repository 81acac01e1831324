"""Drawing what a model found over the photo: boxes (detect), outlines (segment) or rotated boxes (obb),
in one colour per class, each labelled with its class and confidence.

`draw_overlay` takes and returns RGB arrays (what the GUI shows); the CLI converts to BGR only to write
the file. It never changes the image it is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

import cv2
import numpy as np

from cardgrader.models.predict import Detection, read_image

# RGB, distinct on light and dark card borders; class k gets colour k (cycling past the end).
CLASS_COLOURS: tuple[tuple[int, int, int], ...] = (
    (255, 64, 64), (40, 200, 255), (255, 200, 0), (190, 90, 255), (40, 220, 110), (255, 120, 200),
    (255, 140, 30), (120, 160, 255), (170, 255, 60), (0, 170, 170),
)
MIN_OVERLAY_SIDE = 480  # the CLI draws small images enlarged so their labels stay readable
FILL_ALPHA = 0.3  # how strongly a segment's inside is tinted


def class_colour(class_id: int) -> tuple[int, int, int]:
    """The RGB colour of a class, the same in every overlay and in the GUI's legend."""
    return CLASS_COLOURS[int(class_id) % len(CLASS_COLOURS)]


def _rgb(image: np.ndarray | str | Path) -> np.ndarray:
    if isinstance(image, (str, Path)):
        return cv2.cvtColor(read_image(image), cv2.COLOR_BGR2RGB)
    array = np.asarray(image)
    if array.dtype != np.uint8:
        top = 65535.0 if array.dtype == np.uint16 else (255.0 if array.max(initial=0) > 1.0 else 1.0)
        array = np.clip(array.astype(np.float32) / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
    if array.ndim == 2:
        return cv2.cvtColor(array, cv2.COLOR_GRAY2RGB)
    if array.shape[2] == 4:
        return cv2.cvtColor(array, cv2.COLOR_RGBA2RGB)
    return array.copy()


def _points(points: Sequence[Sequence[float]], scale: float) -> np.ndarray:
    return np.round(np.asarray(points, dtype=np.float64).reshape(-1, 2) * scale).astype(np.int32)


def _label(canvas: np.ndarray, text: str, anchor: tuple[int, int], colour: tuple[int, int, int],
           font_scale: float, thickness: int) -> None:
    """White-on-colour text in a filled tab above `anchor` (inside the image when there is no room above)."""
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)
    h, w = canvas.shape[:2]
    x = int(min(max(anchor[0], 0), max(0, w - tw - 4)))
    y = int(anchor[1])
    top = y - th - base - 4
    if top < 0:
        top = max(0, y)
    cv2.rectangle(canvas, (x, top), (x + tw + 4, top + th + base + 4), colour, -1)
    luminance = 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]
    ink = (20, 20, 20) if luminance > 150 else (255, 255, 255)
    cv2.putText(canvas, text, (x + 2, top + th + 2), cv2.FONT_HERSHEY_SIMPLEX, font_scale, ink, thickness, cv2.LINE_AA)


def draw_overlay(image: np.ndarray | str | Path, detections: Iterable[Detection], min_side: int = 0,
                 conf: float | None = None) -> np.ndarray:
    """The image (RGB array, gray array or a file) with `detections` drawn on it; returns RGB uint8.

    `conf` leaves out detections below it (the GUI's slider); `min_side` enlarges a small image by a whole
    factor until its short side reaches it (coordinates are scaled with it).
    """
    canvas = _rgb(image)
    h, w = canvas.shape[:2]
    scale = max(1, int(np.ceil(min_side / max(1, min(h, w))))) if min_side else 1
    if scale > 1:
        canvas = cv2.resize(canvas, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    short = min(canvas.shape[:2])
    thickness = max(1, round(short / 400))
    font_scale = max(0.4, short / 1400)
    shown = [d for d in detections if conf is None or d.confidence >= conf]
    shown.sort(key=lambda d: d.confidence)  # the strongest drawn last, on top

    tint = None
    for d in shown:
        if d.polygon is not None and len(d.polygon) >= 3:
            if tint is None:
                tint = canvas.copy()
            cv2.fillPoly(tint, [_points(d.polygon, scale)], class_colour(d.class_id), cv2.LINE_AA)
    if tint is not None:
        canvas = cv2.addWeighted(tint, FILL_ALPHA, canvas, 1.0 - FILL_ALPHA, 0.0)

    for d in shown:
        colour = class_colour(d.class_id)
        if d.corners is not None:
            outline = _points(d.corners, scale)
            cv2.polylines(canvas, [outline], True, colour, thickness + 1, cv2.LINE_AA)
            anchor = tuple(outline[np.argmin(outline[:, 1])])  # the topmost corner
        elif d.polygon is not None and len(d.polygon) >= 3:
            outline = _points(d.polygon, scale)
            cv2.polylines(canvas, [outline], True, colour, thickness + 1, cv2.LINE_AA)
            anchor = (int(outline[:, 0].min()), int(outline[:, 1].min()))
        else:
            x0, y0, x1, y1 = (int(round(v * scale)) for v in d.box)
            cv2.rectangle(canvas, (x0, y0), (x1, y1), colour, thickness + 1, cv2.LINE_AA)
            anchor = (x0, y0)
        _label(canvas, f"{d.class_name} {d.confidence:.2f}", anchor, colour, font_scale, thickness)
    return canvas
