"""Normals and albedo from N images under known distant lights.

`l2` is Woodham's least squares: per pixel, b = argmin |L b - I|, albedo |b|, normal b/|b|, over every
light (no shadow handling; this is the DiLiGenT "baseline"). It runs in blocks of pixels so that the
temporaries stay in cache and memory stays bounded: one pass reads the images, one writes the results.

`robust` (in `robust.py`) treats shadows and highlights as outliers of a Lambertian fit: an M-estimate
per pixel, by reweighted least squares, over the lights in front of the surface.
"""

from __future__ import annotations

import threading

import numpy as np

from cardgrader.errors import ConfigError, DataError
from cardgrader.photometric.blocks import (
    BLAS_PIECE,
    PhotometricResult,
    Progress,
    light_dot,
    plane_block,
    run_blocks,
    store_fits,
    worker_threads,
)
from cardgrader.photometric.robust import solve_robust

METHODS = ("l2", "robust")
# The result record and the block machinery both solvers use live in `blocks`; they are importable from here
# as before (bench/ps_speed.py takes `worker_threads` from here).
__all__ = ["BLAS_PIECE", "L2_BLOCK", "METHODS", "PhotometricResult", "Progress", "check_directions", "light_dot",
           "run_blocks", "solve", "store_fits", "worker_threads"]

# Pixels per block: large enough that the per-call cost of the dozen numpy/OpenCV calls per block does
# not serialise the threads on the GIL. Measured on 2 cores, medians of 9: 4 x 2000 x 2800 float32,
# 16384 px/block 65-80 ms, 65536 31-34 ms, 262144 24-25 ms; a card's 8 16-bit planes of 2000 x 2800
# with the residual, 65536 64-77 ms, 131072 54-58, 262144 50-59, 524288 64-65. Past 262144 the block
# (8 MB of floats at 8 lights) no longer stays in the caches.
L2_BLOCK = 262144
# The residual of a block by projecting on the left null space of the lights (N - 3 rows) up to this
# many rows, else from |I|^2 - |fit|^2: measured per 65536-px block, 8 lights 263 us against 431 us,
# 16 lights 771 against 779, 24 lights 1489 against 1124.
NULL_SPACE_MOST = 13


def check_directions(directions: np.ndarray, count: int) -> np.ndarray:
    """(N, 3) float64 unit directions spanning 3-D space, or a DataError saying what is wrong."""
    d = np.asarray(directions, dtype=np.float64)
    if d.ndim != 2 or d.shape[1] != 3:
        raise DataError(f"Light directions must be a list of [x, y, z] triples; got an array of shape {d.shape}.")
    if len(d) != count:
        raise DataError(f"There are {count} images but {len(d)} light directions; give one direction per image.")
    if not np.all(np.isfinite(d)):
        raise DataError("A light direction contains a missing or non-numeric value; give three numbers per light.")
    norms = np.linalg.norm(d, axis=1)
    bad = np.flatnonzero(np.abs(norms - 1.0) > 0.02)
    if bad.size:
        i = int(bad[0])
        raise DataError(f"Light direction {i + 1} {d[i].round(4).tolist()} has length {norms[i]:.3f}; "
                        "directions must be unit vectors (length 1).")
    s = np.linalg.svd(d, compute_uv=False)
    if s[-1] < 1e-3 * s[0]:
        raise DataError("The light directions all lie in one plane (rank < 3), so normals cannot be recovered; "
                        "add lights from other directions (different heights or sides).")
    return d / norms[:, None]


def solve(images: np.ndarray, directions: np.ndarray, method: str = "l2", mask: np.ndarray | None = None,
          intensities: np.ndarray | None = None, progress: Progress | None = None,
          residual: bool = False) -> PhotometricResult:
    """Solve photometric stereo on `images` (N, H, W) float32 lit from `directions` (N, 3).

    `intensities` (N,) divides each image by its light's brightness; `mask` (H, W) limits the solve;
    `progress(fraction, message)` is called as blocks finish; `residual` asks l2 for the misfit too.
    `images` may also be a list of N (H, W) arrays of any numeric type (a capture's decoded pixels, with
    `intensities` their full scale times the light's): both solvers read them a block at a time, as they are.
    """
    if method not in METHODS:
        raise ConfigError(f"Unknown method {method!r}; use one of {', '.join(METHODS)}.", field="method")
    if isinstance(images, (list, tuple)):
        planes = [np.asarray(plane) for plane in images]
        if any(plane.ndim != 2 or plane.shape != planes[0].shape for plane in planes):
            raise DataError("The images must be (H, W) arrays of one size; got "
                            f"{', '.join(str(plane.shape) for plane in planes)}.")
        images = planes
    else:
        images = np.asarray(images)
        if images.ndim != 3:
            raise DataError(f"Images must be an (N, H, W) stack; got an array of shape {images.shape}.")
    n = len(images)
    if n < 3:
        raise DataError(f"Photometric stereo needs at least 3 images under different lights; got {n}.")
    d = check_directions(directions, n)
    scale = np.ones(n) if intensities is None else np.asarray(intensities, np.float64).reshape(n)
    if np.any(~np.isfinite(scale)) or np.any(scale <= 0):
        raise DataError("Every light intensity must be a positive number.")
    if isinstance(images, np.ndarray) and images.dtype != np.float32:
        images = images.astype(np.float32)
    shape = images[0].shape
    if mask is not None:
        mask = np.asarray(mask, bool)
        if mask.shape != shape:
            raise DataError(f"The mask is {mask.shape[1]}x{mask.shape[0]} pixels but the images are "
                            f"{shape[1]}x{shape[0]}; they must match.")
    report = progress or (lambda _f, _m: None)
    if method == "l2":
        result = _solve_l2(images, d, 1.0 / scale, mask, report, residual)
    else:
        result = solve_robust(images, d, 1.0 / scale, mask, report)
    report(1.0, "normals solved")
    return result


def _solve_l2(images: np.ndarray | list[np.ndarray], d: np.ndarray, gain: np.ndarray, mask: np.ndarray | None,
              report: Progress, with_residual: bool) -> PhotometricResult:
    """`images`: an (N, H, W) float32 stack, or a list of (H, W) planes read (converted) a block at a time."""
    n = len(images)
    h, w = images[0].shape
    pixels = h * w
    stacked = isinstance(images, np.ndarray)
    flat = images.reshape(n, pixels) if stacked else [plane.reshape(pixels) for plane in images]
    # One product per block gives b = pinv(L) I' and what the residual needs, with the light gains
    # folded into the matrix instead of dividing the images. The misfit I' - L b lies in the left null
    # space of L: with up to 16 lights project on a basis U of it, |r| = |U^T I'|; with more,
    # |r|^2 = |I'|^2 - |Q^T I'|^2 (Q an orthonormal basis of L's columns) is cheaper. The 1/N of the
    # root-mean-square is folded in as well.
    u, _s, _vt = np.linalg.svd(d, full_matrices=True)
    few = n - 3 <= NULL_SPACE_MOST
    extra = (u[:, 3:].T if few else u[:, :3].T) / np.sqrt(n)
    rows = (np.vstack([np.linalg.pinv(d), extra] if with_residual else [np.linalg.pinv(d)]) * gain[None, :]).astype(np.float32)
    gain2 = (gain ** 2 / n).astype(np.float32).reshape(1, n)
    normals = np.empty((h, w, 3), np.float32)
    albedo = np.empty((h, w), np.float32)
    residual = np.empty((h, w), np.float32) if with_residual else None
    flat_normals, flat_albedo = normals.reshape(pixels, 3), albedo.reshape(pixels)
    flat_residual = residual.reshape(pixels) if with_residual else None
    scratch = threading.local()

    def work(start: int) -> None:
        stop = min(pixels, start + L2_BLOCK)
        count = stop - start
        if getattr(scratch, "fit", None) is None:
            scratch.fit = np.empty((len(rows), L2_BLOCK), np.float32)
            scratch.tmp = np.empty(L2_BLOCK, np.float32)
            scratch.square = None if few else np.empty((n, L2_BLOCK), np.float32)
            scratch.block = None if stacked else np.empty((n, L2_BLOCK), np.float32)
        fit, tmp = scratch.fit[:, :count], scratch.tmp[:count]
        if stacked:
            block = flat[:, start:stop]
        else:  # the planes' pixels of this block as float32, in cache
            block = plane_block(flat, slice(start, stop), scratch.block[:, :count])
        light_dot(rows, block, out=fit)
        b, e = fit[:3], fit[3:]
        if with_residual:
            res = flat_residual[start:stop]
            if len(e) == 1:
                np.abs(e[0], out=res)
            elif few:
                np.sqrt(np.einsum("ij,ij->j", e, e, out=res), out=res)
            else:
                light_dot(gain2, np.square(block, out=scratch.square[:, :count]), out=res.reshape(1, count))
                res -= np.einsum("ij,ij->j", e, e, out=tmp)
                np.sqrt(np.maximum(res, 0, out=res), out=res)
        store_fits(b, flat_normals[start:stop], flat_albedo[start:stop], tmp)

    run_blocks(work, range(0, pixels, L2_BLOCK), lambda f: report(f, "solving normals (l2)"))
    if mask is not None:
        outside = ~mask
        normals[outside] = 0
        albedo[outside] = 0
        if residual is not None:
            residual[outside] = 0
    else:
        mask = np.ones((h, w), bool)
    return PhotometricResult(normals, albedo, residual, mask, "l2")
