"""Writing what `ps solve` produces, and the pictures that show it.

Into the output folder: `normals.npy` (H, W, 3 float32, x right, y up, z to the camera), `albedo.npy`,
`depth.npy` (pixels toward the camera), `residual.npy`, `normal_map.png` (the usual RGB encoding, 128 =
0), `shaded.png` (raking-light rendering), `defects.png` (defect regions over the shaded rendering, drawn
at least 480 px on its short side so its labels stay readable) and `report.json` (the numbers, the
integrity score and its definition, the file list).
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from cardgrader import __version__
from cardgrader.photometric.defects import DefectOutline
from cardgrader.photometric.outfile import rewritten
from cardgrader.photometric.pipeline import Analysis
from cardgrader.photometric.png import PngPicture, write_png, write_png_bands
from cardgrader.photometric.solvers import PhotometricResult

KIND_COLOURS = {"dent": (60, 60, 255), "scratch": (0, 200, 255), "crease": (255, 80, 200)}  # BGR
MIN_CANVAS = 480  # pictures with boxes and labels are drawn at least this big


def normal_map_image(normals: np.ndarray) -> np.ndarray:
    """BGR uint8: red = x, green = y, blue = z, each mapped from -1..1 to 0..255 (128 = 0)."""
    rgb = cv2.convertScaleAbs(np.asarray(normals, np.float32), alpha=127.5, beta=127.5)  # |.|: all >= 0 already
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def write_normal_map(path: str | Path, normals: np.ndarray) -> None:
    """`normal_map_image` as a PNG file, made a band of rows at a time: x, y and z are red, green and blue."""
    normals = np.asarray(normals, np.float32)

    def fill(top: int, pixels: np.ndarray) -> None:
        cv2.convertScaleAbs(normals[top:top + len(pixels)], dst=pixels, alpha=127.5, beta=127.5)

    write_png_bands(path, normals.shape[0], normals.shape[1], 3, fill)


def to_bgr(image: np.ndarray) -> np.ndarray:
    """Any gray or colour image (uint8, or float 0-1) as an 8-bit BGR canvas to draw on."""
    array = np.asarray(image)
    if array.dtype != np.uint8:
        array = np.clip(array.astype(np.float32) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return cv2.cvtColor(array, cv2.COLOR_GRAY2BGR) if array.ndim == 2 else array.copy()


def canvas_for(image: np.ndarray, min_side: int = MIN_CANVAS) -> tuple[np.ndarray, int]:
    """A BGR canvas of the image, enlarged by a whole factor when small so labels stay readable."""
    return enlarged(to_bgr(image), min_side)


def label_scale(shape: Sequence[int], min_side: int = MIN_CANVAS) -> int:
    """The whole factor a picture of `shape` is enlarged by so that its labels stay readable (1: none)."""
    return max(1, int(np.ceil(min_side / max(1, min(shape[:2])))))


def enlarged(canvas: np.ndarray, min_side: int = MIN_CANVAS) -> tuple[np.ndarray, int]:
    """`canvas` enlarged by a whole factor when small so labels stay readable (itself when big enough)."""
    scale = label_scale(canvas.shape, min_side)
    if scale > 1:
        canvas = cv2.resize(canvas, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    return canvas, scale


def draw_box(canvas: np.ndarray, box: Sequence[float], colour: tuple[int, int, int], label: str = "",
             dashed: bool = False, scale: int = 1) -> None:
    """A box given in image pixels, on a canvas `scale` times the image's size."""
    x0, y0, x1, y1 = (round(v * scale + (scale - 1) * (i >= 2)) for i, v in enumerate(box))
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


@functools.lru_cache(maxsize=8)
def _tints(colour: tuple[int, int, int]) -> np.ndarray:
    """(256, 1, 3) uint8, a table for cv2.LUT: each gray level tinted 55 % toward `colour`."""
    ramp = cv2.cvtColor(np.arange(256, dtype=np.uint8).reshape(256, 1), cv2.COLOR_GRAY2BGR)
    return cv2.addWeighted(ramp, 0.45, np.full_like(ramp, colour), 0.55, 0.0)


def defects_image(analysis: Analysis, canvas: np.ndarray | None = None, rgb: bool = False) -> np.ndarray:
    """The shaded rendering with defective pixels tinted by kind and each region boxed and numbered;
    `canvas`, when given, is the shaded rendering already in BGR (or, `rgb`, in RGB: a `PngPicture`'s
    pixels), and it is drawn on."""
    return draw_defects(analysis.shaded, DefectOutline.of(analysis.defects), canvas, rgb)


def draw_defects(shaded: np.ndarray, outline: DefectOutline, canvas: np.ndarray | None = None,
                 rgb: bool = False) -> np.ndarray:
    """`defects_image` of the shaded rendering and where the regions lie (all it needs of them)."""
    canvas = to_bgr(shaded) if canvas is None else canvas
    colours = {kind: colour[::-1] if rgb else colour for kind, colour in KIND_COLOURS.items()}
    for _id, kind, (x0, y0, x1, y1) in outline.boxes:  # each region's box alone: a few boxes, not the card
        box = (slice(y0, y1 + 1), slice(x0, x1 + 1))
        picture = to_bgr(shaded[box])  # from the rendering itself, where boxes overlap too
        cv2.copyTo(cv2.LUT(picture, _tints(colours[kind]), dst=picture), outline.mask[box].view(np.uint8), canvas[box])
    canvas, scale = enlarged(canvas)
    for number, kind, bbox in outline.boxes:
        draw_box(canvas, bbox, colours[kind], f"{number} {kind}", scale=scale)
    return canvas


def summary(analysis: Analysis, capture_info: dict[str, Any] | None = None,
            normals: dict[str, Any] | None = None, depth: dict[str, Any] | None = None) -> dict[str, Any]:
    """What report.json says about an analysis; `normals` and `depth`, when given, are
    `normals_summary` and `depth_summary` of it, worked out beforehand."""
    result = analysis.result
    return {
        "cardgrader": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **(capture_info or {}),
        "size": [int(result.normals.shape[1]), int(result.normals.shape[0])],
        "frame": "x right, y up, z toward the camera; depth in pixels toward the camera",
        "normals": normals_summary(result) if normals is None else normals,
        "depth": depth_summary(analysis.depth, result.mask) if depth is None else depth,
        "surface": analysis.defects.summary(),
        "seconds": analysis.seconds,
    }


def _on_card(values: np.ndarray, card: np.ndarray) -> np.ndarray:
    """The card's values; no copy of a whole scan when the card fills the frame."""
    return values if card.all() else values[card]


def normals_summary(result: PhotometricResult) -> dict[str, Any]:
    inside = result.mask
    pixels = int(np.count_nonzero(inside))
    info: dict[str, Any] = {
        "method": result.method,
        "pixels": pixels,
        "mean_albedo": round(float(_on_card(result.albedo, inside).mean()), 5) if pixels else None,
        "mean_residual": round(float(_on_card(result.residual, inside).mean()), 6)
        if pixels and result.residual is not None else None,
    }
    if result.used_fraction is not None and pixels:
        info["mean_lights_used"] = round(float(_on_card(result.used_fraction, inside).mean()), 4)
    return info


def depth_summary(depth: np.ndarray, card: np.ndarray) -> dict[str, float]:
    values = _on_card(depth, card) if card.any() else depth
    return {"min_px": round(float(values.min()), 3), "max_px": round(float(values.max()), 3)}


# What `ps solve` writes, in the order report.json lists it.
OUTPUT_ORDER = ("normals.npy", "albedo.npy", "depth.npy", "residual.npy", "normal_map.png", "shaded.png", "defects.png")
WRITE_THREADS = 2  # encoding a PNG and writing an array both release the GIL
# Pictures are stored without compression (`png.write_png`): a scan's normal map and defect map are mostly
# noise, which zlib shrinks only about 6:1 at many times the time (2000 x 2800 BGR: 12 ms stored, 250 ms
# at level 1), and the arrays beside them are larger still.


class OutputWriter:
    """Writes the outputs into `out` (created if needed) on background threads, each as soon as what it
    shows is known: `solved(result)` right after the solve, so that the normals are saved while depth
    and defects are still being worked out, `integrated(depth, shaded)` when those are (from any
    thread), `outlined(outline)` when the defect regions' places are (defects.png is drawn while they
    are measured); `finish(analysis)` the rest, then report.json."""

    def __init__(self, out: str | Path):
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        # The outputs are written over where an earlier run left them (`outfile`); its report goes first,
        # so a run that fails part way leaves no report describing files it changed.
        (self.out / "report.json").unlink(missing_ok=True)
        self._pool = ThreadPoolExecutor(WRITE_THREADS)
        self._jobs: dict[str, Future] = {}
        self._canvas: Future | None = None
        self._shaded: np.ndarray | None = None
        self._mask: np.ndarray | None = None
        self._told: dict[str, Future] = {}  # the report's parts worked out early: "normals", "depth"

    def close(self) -> None:
        """Wait for the files already started (also after a failure) and stop the threads."""
        self._pool.shutdown()

    def _submit(self, name: str, write: Callable[[Path], Any]) -> None:
        self._jobs[name] = self._pool.submit(write, self.out / name)

    def _array(self, name: str, array: np.ndarray | None) -> None:
        if array is not None:
            self._submit(name, lambda path: _save(path, array))

    def solved(self, result: PhotometricResult) -> None:
        self._array("normals.npy", result.normals)
        self._array("albedo.npy", result.albedo)
        self._array("residual.npy", result.residual)
        self._submit("normal_map.png", lambda path: write_normal_map(path, result.normals))
        self._mask = result.mask
        self._told["normals"] = self._pool.submit(normals_summary, result)

    def integrated(self, depth: np.ndarray, picture: np.ndarray) -> None:
        self._array("depth.npy", depth)
        self._submit("shaded.png", lambda path: write_png(path, picture))
        self._canvas = self._pool.submit(_defects_canvas, picture)  # what defects.png is drawn on, made meanwhile
        self._shaded = picture
        if self._mask is not None:
            self._told["depth"] = self._pool.submit(depth_summary, depth, self._mask)

    def outlined(self, outline: DefectOutline) -> None:
        """Draw and write defects.png now, if the shaded rendering is known (else `finish` does)."""
        canvas, shaded = self._canvas, self._shaded
        if canvas is not None and shaded is not None:
            self._submit("defects.png", lambda path: _write_defects(path, shaded, outline, canvas.result()))

    def finish(self, analysis: Analysis, capture_info: dict[str, Any] | None = None) -> dict[str, Any]:
        """Write what is left, wait for every file, then write report.json; returns the report."""
        start = time.perf_counter()
        try:
            if "normals.npy" not in self._jobs:
                self.solved(analysis.result)
            if "depth.npy" not in self._jobs:
                self.integrated(analysis.depth, analysis.shaded)
            if "defects.png" not in self._jobs:
                canvas, outline = self._canvas, DefectOutline.of(analysis.defects)
                self._submit("defects.png",
                             lambda path: _write_defects(path, analysis.shaded, outline, canvas.result()))
            report = summary(analysis, capture_info, **{part: job.result() for part, job in self._told.items()})
            for job in self._jobs.values():
                job.result()
        finally:
            self.close()
        report["seconds"] = {**report["seconds"], "write": round(time.perf_counter() - start, 3)}
        written = [name for name in OUTPUT_ORDER if name in self._jobs]
        report["outputs"] = {name: str(self.out / name) for name in [*written, "report.json"]}
        (self.out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
        return report


def _save(path: Path, array: np.ndarray) -> None:
    with rewritten(path) as f:
        np.save(f, array)


def _defects_canvas(shaded: np.ndarray) -> PngPicture | np.ndarray:
    """What defects.png is drawn on: the shaded rendering laid out as the file's rows, or in BGR when it
    is to be enlarged for its labels."""
    return PngPicture.gray_in_colour(shaded) if label_scale(shaded.shape) == 1 else to_bgr(shaded)


def _write_defects(path: Path, shaded: np.ndarray, outline: DefectOutline, canvas: PngPicture | np.ndarray) -> None:
    if isinstance(canvas, PngPicture):
        draw_defects(shaded, outline, canvas.pixels, rgb=True)  # drawn where the file's rows lie
        canvas.write(path)
    else:
        write_png(path, draw_defects(shaded, outline, canvas))


def write_outputs(analysis: Analysis, out: str | Path, capture_info: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write every output into `out` (created if needed); returns the report with the file paths."""
    return OutputWriter(out).finish(analysis, capture_info)
