"""Normals and albedo from N images under known distant lights.

`l2` is Woodham's least squares: per pixel, b = argmin |L b - I|, albedo |b|, normal b/|b|, over every
light (no shadow handling; this is the DiLiGenT "baseline"). It runs in blocks of pixels so that the
temporaries stay in cache and memory stays bounded: one pass reads the images, one writes the results.

`robust` (in `robust.py`) treats shadows and highlights as outliers of a Lambertian fit: an M-estimate
per pixel, by reweighted least squares, over the lights in front of the surface.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from cardgrader.errors import ConfigError, DataError

METHODS = ("l2", "robust")
Progress = Callable[[float, str], None]

# Pixels per block: the block's planes (about 1 MB) stay in a core's L2 cache, and blocks are large
# enough that the per-call cost of the dozen numpy/OpenCV calls per block does not serialise the
# threads on the GIL (measured on 2 cores, 4 x 2000 x 2800: 16384 px/block with 2 threads 65-80 ms,
# 65536 px/block 32-38 ms).
L2_BLOCK = 65536
_TINY = 1e-20
BLAS_PIECE = 1 << 18  # OpenBLAS's own threads start above 65536 x GEMM_MULTITHREAD_THRESHOLD (4)


@dataclass
class PhotometricResult:
    """What a solve returns. Arrays are float32 in the image grid; outside the mask everything is 0.

    residual: root-mean-square misfit of the Lambertian model over the lights the solver used, in the
    units of the normalised images (same as albedo); high where the surface is not explained (specular,
    shadowed, or a sharp defect). `robust` always has it; `l2` computes it when asked (`residual=True`),
    since it adds a quarter to the memory traffic of an otherwise bandwidth-bound solve.
    """

    normals: np.ndarray  # (H, W, 3), unit length, x right, y up, z toward the camera
    albedo: np.ndarray  # (H, W)
    residual: np.ndarray | None  # (H, W)
    mask: np.ndarray  # (H, W) bool, the pixels solved
    method: str
    used_fraction: np.ndarray | None = None  # robust: share of the lights each pixel kept


def light_dot(a: np.ndarray, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """a (K, N) times x (N, B), the shape of every per-pixel product over a rig's lights, cut into pieces of
    fewer than BLAS_PIECE multiply-adds: OpenBLAS runs such a piece on the calling thread, where a larger
    one starts threads of its own, which on a busy machine wait on ours and on each other (measured on a
    loaded 2-core box, (6, 8) @ (8, 32768): 2.6 ms in one piece, 0.06 ms in pieces, 0.4 ms with einsum)."""
    k, n = a.shape
    count = x.shape[1]
    step = max(1, BLAS_PIECE // max(1, k * n))
    if out is None:
        out = np.empty((k, count), np.result_type(a, x))
    for start in range(0, count, step):
        np.matmul(a, x[:, start:start + step], out=out[:, start:start + step])
    return out


def worker_threads() -> int:
    """Threads for block work: the idle cores (rounded), up to 4. The l2 solve is bound by memory
    bandwidth, and on a machine whose cores are busy extra threads only queue behind the other work
    (measured: 1.5x slower on a loaded 2-core box), so a busy machine gets one."""
    cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):  # Windows has no load average
        busy = 0.0
    return max(1, min(4, round(cores - busy)))


def store_fits(b: np.ndarray, normals: np.ndarray, albedo: np.ndarray, scratch: np.ndarray | None = None) -> None:
    """Albedo |b| and unit normal b / |b| of fits `b` (3, B), which it overwrites, into `albedo` (B,) and
    `normals` (B, 3): OpenCV's SIMD loops (one in-cache pass each, no GIL), then one interleaving write."""
    count = b.shape[1]
    planes = [b[0].reshape(1, count), b[1].reshape(1, count), b[2].reshape(1, count)]
    a = albedo.reshape(1, count)
    t = (np.empty(count, np.float32) if scratch is None else scratch).reshape(1, count)
    cv2.magnitude(planes[0], planes[1], t)
    cv2.magnitude(t, planes[2], a)
    cv2.max(a, _TINY, t)
    for plane in planes:
        cv2.divide(plane, t, plane)
    cv2.merge(planes, normals.reshape(1, count, 3))


def run_blocks(work: Callable[[int], None], starts: range, progress: Callable[[float], None] | None = None) -> None:
    """`work(start)` for every block start, on `worker_threads()` threads when there are several blocks;
    `progress(fraction done)` now and then, from whichever thread finished a block."""
    done = [0]
    lock = threading.Lock()
    every = max(1, len(starts) // 32)

    def one(start: int) -> None:
        work(start)
        if progress is not None:
            with lock:
                done[0] += 1
                if done[0] % every == 0:
                    progress(done[0] / len(starts))

    threads = worker_threads()
    if threads > 1 and len(starts) > 1:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, starts))
    else:
        for start in starts:
            one(start)


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
    """
    if method not in METHODS:
        raise ConfigError(f"Unknown method {method!r}; use one of {', '.join(METHODS)}.", field="method")
    images = np.asarray(images)
    if images.ndim != 3:
        raise DataError(f"Images must be an (N, H, W) stack; got an array of shape {images.shape}.")
    n = images.shape[0]
    if n < 3:
        raise DataError(f"Photometric stereo needs at least 3 images under different lights; got {n}.")
    d = check_directions(directions, n)
    scale = np.ones(n) if intensities is None else np.asarray(intensities, np.float64).reshape(n)
    if np.any(~np.isfinite(scale)) or np.any(scale <= 0):
        raise DataError("Every light intensity must be a positive number.")
    if images.dtype != np.float32:
        images = images.astype(np.float32)
    if mask is not None:
        mask = np.asarray(mask, bool)
        if mask.shape != images.shape[1:]:
            raise DataError(f"The mask is {mask.shape[1]}x{mask.shape[0]} pixels but the images are "
                            f"{images.shape[2]}x{images.shape[1]}; they must match.")
    report = progress or (lambda _f, _m: None)
    if method == "l2":
        result = _solve_l2(images, d, 1.0 / scale, mask, report, residual)
    else:
        from cardgrader.photometric.robust import solve_robust

        result = solve_robust(images, d, 1.0 / scale, mask, report)
    report(1.0, "normals solved")
    return result


def _solve_l2(images: np.ndarray, d: np.ndarray, gain: np.ndarray, mask: np.ndarray | None,
              report: Progress, with_residual: bool) -> PhotometricResult:
    n, h, w = images.shape
    pixels = h * w
    flat = images.reshape(n, pixels)
    # One product per block gives b = pinv(L) I' and what the residual needs, with the light gains
    # folded into the matrix instead of dividing the images. The misfit I' - L b lies in the left null
    # space of L: with few lights (N - 3 <= 3) project on a basis U of it, |r| = |U^T I'|; with many,
    # |r|^2 = |I'|^2 - |Q^T I'|^2 (Q an orthonormal basis of L's columns) is cheaper. The 1/N of the
    # root-mean-square is folded in as well.
    u, _s, _vt = np.linalg.svd(d, full_matrices=True)
    few = n - 3 <= 3
    extra = (u[:, 3:].T if few else u[:, :3].T) / np.sqrt(n)
    rows = (np.vstack([np.linalg.pinv(d), extra] if with_residual else [np.linalg.pinv(d)]) * gain[None, :]).astype(np.float32)
    gain2 = (gain ** 2 / n).astype(np.float32)
    normals = np.empty((h, w, 3), np.float32)
    albedo = np.empty((h, w), np.float32)
    residual = np.empty((h, w), np.float32) if with_residual else None
    flat_normals, flat_albedo = normals.reshape(pixels, 3), albedo.reshape(pixels)
    flat_residual = residual.reshape(pixels) if with_residual else None
    scratch = threading.local()

    def work(start: int) -> None:
        stop = min(pixels, start + L2_BLOCK)
        count = stop - start
        block = flat[:, start:stop]
        if getattr(scratch, "fit", None) is None:
            scratch.fit = np.empty((len(rows), L2_BLOCK), np.float32)
            scratch.tmp = np.empty(L2_BLOCK, np.float32)
        fit, tmp = scratch.fit[:, :count], scratch.tmp[:count]
        light_dot(rows, block, out=fit)
        b, e = fit[:3], fit[3:]
        if with_residual:
            res = flat_residual[start:stop]
            if len(e) == 1:
                np.abs(e[0], out=res)
            elif few:
                np.sqrt(np.einsum("ij,ij->j", e, e, out=res), out=res)
            else:
                np.einsum("ij,ij,i->j", block, block, gain2, out=res)
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
