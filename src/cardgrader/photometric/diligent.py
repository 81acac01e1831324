"""Scoring the solvers on the DiLiGenT benchmark (Shi et al., CVPR 2016 / TPAMI 2019).

A DiLiGenT object folder (`pmsData/ballPNG`, ...) holds 96 16-bit RGB images named in `filenames.txt`,
`light_directions.txt`, `light_intensities.txt`, `mask.png`, and the true normals as `Normal_gt.mat`
and `normal.txt` (one "x y z" line per pixel). `load_capture` reads such a folder as it is (images divided
by the RGB intensities, then gray); here the true normals are read and the mean angular error over the
mask is computed, the benchmark's measure.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from cardgrader.errors import DataError
from cardgrader.photometric.capture import load_capture
from cardgrader.photometric.lights import is_diligent
from cardgrader.photometric.solvers import solve
from cardgrader.photometric.synthetic import angular_error

OBJECTS = ("ball", "cat", "pot1", "bear", "pot2", "buddha", "goblet", "reading", "cow", "harvest")
# Mean angular error in degrees of the least-squares baseline, as published with the benchmark.
PUBLISHED_BASELINE = {"ball": 4.10, "cat": 8.41, "pot1": 8.89, "bear": 8.39, "pot2": 14.65, "buddha": 14.92,
                      "goblet": 18.50, "reading": 19.80, "cow": 25.60, "harvest": 30.62}
# The best classical (non-learning) method in the same table, ST14 (Shi et al. 2014, bi-polynomial
# reflectance), on the objects the robust solver is scored on.
PUBLISHED_ST14 = {"ball": 1.74, "cat": 6.12, "bear": 6.12, "reading": 13.63}


def object_name(folder: Path) -> str:
    name = folder.name
    return name.removesuffix("PNG")


def find_objects(root: str | Path) -> list[Path]:
    """The object folders under `root` (or `root` itself), in the benchmark's order."""
    root = Path(root)
    if is_diligent(root):
        return [root]
    found = [p for p in sorted(root.iterdir()) if p.is_dir() and is_diligent(p)] if root.is_dir() else []
    if not found:
        raise DataError(f"{root} is not a DiLiGenT object folder (filenames.txt, light_directions.txt) "
                        "or a folder of them, such as DiLiGenT/pmsData.")
    order = {name: i for i, name in enumerate(OBJECTS)}
    return sorted(found, key=lambda p: (order.get(object_name(p), len(order)), p.name))


def read_ground_truth(folder: str | Path, shape: tuple[int, int], mask: np.ndarray | None = None) -> np.ndarray:
    """True normals (H, W, 3): Normal_gt.mat when SciPy is installed, else normal.txt."""
    folder = Path(folder)
    mat = folder / "Normal_gt.mat"
    if mat.is_file():
        try:
            from scipy.io import loadmat
        except ImportError:
            loadmat = None
        if loadmat is not None:
            return np.asarray(loadmat(str(mat))["Normal_gt"], np.float64)
    text = folder / "normal.txt"
    if not text.is_file():
        raise DataError(f"{folder} has no normal.txt (and Normal_gt.mat needs SciPy, which is not installed).")
    rows = np.loadtxt(text, dtype=np.float64, ndmin=2)
    h, w = shape
    if rows.shape != (h * w, 3):
        raise DataError(f"{text} has {rows.shape[0]} rows of {rows.shape[1]}; expected {h * w} rows of 3 for {w}x{h} images.")
    normals = rows.reshape(h, w, 3)
    if mask is not None:
        # The file is one line per pixel; if its order is column-major, the non-zero normals miss the mask.
        by_column = rows.reshape(w, h, 3).transpose(1, 0, 2)
        hits = lambda n: np.count_nonzero(np.any(n != 0, axis=2) == mask)
        if hits(by_column) > hits(normals):
            normals = by_column
    return normals


def evaluate(folder: str | Path, methods: tuple[str, ...] = ("l2", "robust")) -> dict:
    """Mean angular error (degrees) of each method on one object, with the time each took."""
    folder = Path(folder)
    capture = load_capture(folder)
    mask = capture.mask if capture.mask is not None else np.ones(capture.images.shape[1:], bool)
    truth = read_ground_truth(folder, capture.images.shape[1:], mask)
    out = {"object": object_name(folder), "pixels": int(mask.sum()), "images": len(capture.names)}
    for method in methods:
        start = time.perf_counter()
        result = solve(capture.images, capture.directions, method=method, mask=mask)
        seconds = time.perf_counter() - start
        errors = angular_error(result.normals, truth, mask)
        out[method] = {"mean": float(errors.mean()), "median": float(np.median(errors)), "seconds": seconds}
    return out
