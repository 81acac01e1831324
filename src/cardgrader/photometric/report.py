"""Writing what `ps solve` produces, and the pictures that show it.

Into the output folder: `normals.npy` (H, W, 3 float32, x right, y up, z to the camera), `albedo.npy`,
`depth.npy` (pixels toward the camera), `residual.npy`, `normal_map.png` (the usual RGB encoding, 128 =
0), `shaded.png` (raking-light rendering), `defects.png` (defect regions over the shaded rendering, drawn
at least 480 px on its short side so its labels stay readable) and `report.json` (the numbers, the
integrity score and its definition, the file list).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np

from cardgrader import __version__
from cardgrader.photometric.pipeline import Analysis

KIND_COLOURS = {"dent": (60, 60, 255), "scratch": (0, 200, 255), "crease": (255, 80, 200)}  # BGR
MIN_CANVAS = 480  # pictures with boxes and labels are drawn at least this big


def normal_map_image(normals: np.ndarray) -> np.ndarray:
    """BGR uint8: red = x, green = y, blue = z, each mapped from -1..1 to 0..255."""
    rgb = np.clip((normals.astype(np.float32) + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(rgb[:, :, ::-1])


def to_bgr(image: np.ndarray) -> np.ndarray:
    """Any gray or colour image (uint8, or float 0-1) as an 8-bit BGR canvas to draw on."""
    array = np.asarray(image)
    if array.dtype != np.uint8:
        array = np.clip(array.astype(np.float32) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return cv2.cvtColor(array, cv2.COLOR_GRAY2BGR) if array.ndim == 2 else array.copy()


def canvas_for(image: np.ndarray, min_side: int = MIN_CANVAS) -> tuple[np.ndarray, int]:
    """A BGR canvas of the image, enlarged by a whole factor when small so labels stay readable."""
    canvas = to_bgr(image)
    scale = max(1, int(np.ceil(min_side / max(1, min(canvas.shape[:2])))))
    if scale > 1:
        canvas = cv2.resize(canvas, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    return canvas, scale


def draw_box(canvas: np.ndarray, box: Sequence[float], colour: tuple[int, int, int], label: str = "",
             dashed: bool = False, scale: int = 1) -> None:
    """A box given in image pixels, on a canvas `scale` times the image's size."""
    x0, y0, x1, y1 = (int(round(v * scale + (scale - 1) * (i >= 2))) for i, v in enumerate(box))
    thickness = max(1, min(canvas.shape[:2]) // 300)
    if dashed:
        for a, b in (((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)), ((x1, y1), (x0, y1)), ((x0, y1), (x0, y0))):
            length = int(np.hypot(b[0] - a[0], b[1] - a[1]))
            for t in range(0, length, 8):
                p = (int(a[0] + (b[0] - a[0]) * t / max(length, 1)), int(a[1] + (b[1] - a[1]) * t / max(length, 1)))
                q = (int(a[0] + (b[0] - a[0]) * min(t + 4, length) / max(length, 1)),
                     int(a[1] + (b[1] - a[1]) * min(t + 4, length) / max(length, 1)))
                cv2.line(canvas, p, q, colour, thickness)
    else:
        cv2.rectangle(canvas, (x0, y0), (x1, y1), colour, thickness)
    if label:
        scale = max(0.3, min(canvas.shape[:2]) / 900)
        cv2.putText(canvas, label, (x0, max(10, y0 - 3)), cv2.FONT_HERSHEY_SIMPLEX, scale, colour,
                    max(1, thickness), cv2.LINE_AA)


def defects_image(analysis: Analysis) -> np.ndarray:
    """The shaded rendering with defective pixels tinted by kind and each region boxed and numbered."""
    canvas = to_bgr(analysis.shaded)
    regions = analysis.defects.regions
    tint = np.zeros_like(canvas)
    for r in regions:
        x0, y0, x1, y1 = r.bbox
        sub = analysis.defects.mask[y0:y1 + 1, x0:x1 + 1]
        tint[y0:y1 + 1, x0:x1 + 1][sub] = KIND_COLOURS[r.kind]
    hit = analysis.defects.mask
    canvas[hit] = (0.45 * canvas[hit] + 0.55 * tint[hit]).astype(np.uint8)
    canvas, scale = canvas_for(canvas)
    for r in regions:
        draw_box(canvas, r.bbox, KIND_COLOURS[r.kind], f"{r.id} {r.kind}", scale=scale)
    return canvas


def summary(analysis: Analysis, capture_info: dict[str, Any] | None = None) -> dict[str, Any]:
    result = analysis.result
    inside = result.mask
    normals_info: dict[str, Any] = {
        "method": result.method,
        "pixels": int(inside.sum()),
        "mean_albedo": round(float(result.albedo[inside].mean()), 5) if inside.any() else None,
        "mean_residual": round(float(result.residual[inside].mean()), 6)
        if inside.any() and result.residual is not None else None,
    }
    if result.used_fraction is not None and inside.any():
        normals_info["mean_lights_used"] = round(float(result.used_fraction[inside].mean()), 4)
    depth = analysis.depth[inside] if inside.any() else analysis.depth.ravel()
    return {
        "cardgrader": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **(capture_info or {}),
        "size": [int(result.normals.shape[1]), int(result.normals.shape[0])],
        "frame": "x right, y up, z toward the camera; depth in pixels toward the camera",
        "normals": normals_info,
        "depth": {"min_px": round(float(depth.min()), 3), "max_px": round(float(depth.max()), 3)},
        "surface": analysis.defects.summary(),
        "seconds": analysis.seconds,
    }


def write_outputs(analysis: Analysis, out: str | Path, capture_info: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write every output into `out` (created if needed); returns the report with the file paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result = analysis.result
    arrays = {"normals.npy": result.normals, "albedo.npy": result.albedo, "depth.npy": analysis.depth,
              "residual.npy": result.residual}
    pictures = {"normal_map.png": normal_map_image(result.normals), "shaded.png": analysis.shaded,
                "defects.png": defects_image(analysis)}
    written = []
    for name, array in arrays.items():
        if array is not None:
            np.save(out / name, array)
            written.append(name)
    for name, picture in pictures.items():
        cv2.imwrite(str(out / name), picture)
        written.append(name)
    report = summary(analysis, capture_info)
    report["outputs"] = {name: str(out / name) for name in [*written, "report.json"]}
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return report
