"""Writers of real label files in each format the tests read back: images and annotations with known
pixel coordinates, written the way the labelling tools write them."""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np

# An image size that is not square, so normalised and pixel coordinates differ per axis.
W, H = 200, 160
BOX = (12.25, 20.5, 90.75, 130.125)  # x0, y0, x1, y1 in pixels
POLYGON = [[110.5, 30.25], [150.75, 28.5], [180.125, 70.0], [160.5, 120.75], [120.25, 110.5], [105.0, 70.5]]


def rotated_rect(cx=100.0, cy=80.0, w=90.0, h=50.0, degrees=17.0) -> list[list[float]]:
    """Four corners of a rectangle turned by `degrees`, clockwise from its top-left, in pixels."""
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    return [[cx + dx * c - dy * s, cy + dx * s + dy * c] for dx, dy in
            ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2))]


def box_corners(x0, y0, x1, y1):
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def image(path: Path, w: int = W, h: int = H, seed: int = 0, quality: int = 90) -> Path:
    """A real photo-like JPEG (or PNG, by suffix) of w×h pixels."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    pixels = cv2.GaussianBlur(rng.integers(0, 255, (h, w, 3), dtype=np.uint8), (0, 0), 2)
    ok, data = cv2.imencode(path.suffix or ".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    path.write_bytes(data.tobytes())
    return path


def yolo_rows(rows: list[tuple[int, list[float]]], path: Path, crlf: bool = False, bom: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = ("\r\n" if crlf else "\n").join(f"{c} " + " ".join(f"{v:.7f}" for v in coords) for c, coords in rows)
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


def norm(points, w=W, h=H) -> list[float]:
    return [v for x, y in points for v in (x / w, y / h)]


def yolo_box(x0, y0, x1, y1, w=W, h=H) -> list[float]:
    return [(x0 + x1) / 2 / w, (y0 + y1) / 2 / h, (x1 - x0) / w, (y1 - y0) / h]


def coco(path: Path, images: list[dict], categories: list[str], annotations: list[dict]) -> Path:
    """`images`: [{id, file_name, width, height}]; `annotations`: COCO dicts (bbox / segmentation)."""
    data = {"info": {"description": "test"}, "images": images,
            "categories": [{"id": i + 1, "name": n, "supercategory": "card"} for i, n in enumerate(categories)],
            "annotations": annotations}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def voc(path: Path, filename: str, objects: list[dict], w: int = W, h: int = H) -> Path:
    """`objects`: {name, box: (x0, y0, x1, y1)} or {name, robox: (cx, cy, w, h, angle)}, optional difficult/truncated."""
    parts = [f"<annotation>\n\t<folder>images</folder>\n\t<filename>{filename}</filename>",
             f"\t<size>\n\t\t<width>{w}</width>\n\t\t<height>{h}</height>\n\t\t<depth>3</depth>\n\t</size>",
             "\t<segmented>0</segmented>"]
    for obj in objects:
        parts.append(f"\t<object>\n\t\t<name>{obj['name']}</name>\n\t\t<pose>Unspecified</pose>")
        parts.append(f"\t\t<truncated>{int(obj.get('truncated', 0))}</truncated>")
        parts.append(f"\t\t<difficult>{int(obj.get('difficult', 0))}</difficult>")
        if "box" in obj:
            x0, y0, x1, y1 = obj["box"]
            parts.append(f"\t\t<bndbox>\n\t\t\t<xmin>{x0}</xmin>\n\t\t\t<ymin>{y0}</ymin>\n\t\t\t<xmax>{x1}</xmax>"
                         f"\n\t\t\t<ymax>{y1}</ymax>\n\t\t</bndbox>")
        else:
            cx, cy, rw, rh, angle = obj["robox"]
            parts.append(f"\t\t<robndbox>\n\t\t\t<cx>{cx}</cx>\n\t\t\t<cy>{cy}</cy>\n\t\t\t<w>{rw}</w>\n\t\t\t<h>{rh}</h>"
                         f"\n\t\t\t<angle>{angle}</angle>\n\t\t</robndbox>")
        parts.append("\t</object>")
    parts.append("</annotation>\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def labelme(path: Path, image_path: str, shapes: list[dict], w: int = W, h: int = H) -> Path:
    """`shapes`: {label, shape_type, points}; written as LabelMe 5 does (imageData null)."""
    data = {"version": "5.4.1", "flags": {},
            "shapes": [{"label": s["label"], "points": s["points"], "group_id": None, "description": "",
                        "shape_type": s["shape_type"], "flags": {}, "mask": None} for s in shapes],
            "imagePath": image_path, "imageData": None, "imageHeight": h, "imageWidth": w}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def pixels(shape, w=W, h=H) -> np.ndarray:
    return np.asarray(shape.points, np.float64) * [w, h]


def same_points(a, b, tol: float = 0.01) -> bool:
    """Two point lists equal within `tol` pixels, allowing a different starting corner or direction."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return False
    for candidate in (b, b[::-1]):
        for shift in range(len(b)):
            if np.abs(a - np.roll(candidate, shift, axis=0)).max() <= tol:
                return True
    return False
