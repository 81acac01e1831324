"""What both solvers share: the result record, the pixel-block machinery (threads, BLAS-sized products,
storing fits as albedo and normals) and the progress callback's type. `solvers` (l2, and the entry point)
and `robust` both import it; it imports neither.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

Progress = Callable[[float, str], None]

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
    """Threads for block work: the idle cores, up to 4. The l2 solve is bound by memory bandwidth, and
    on a machine whose cores are busy extra threads only queue behind the other work (measured: 1.5x
    slower on a loaded 2-core box), so a busy machine gets one."""
    cores = os.cpu_count() or 1
    return max(1, min(4, round(cores - busy_cores())))


def busy_cores() -> float:
    """How many cores other processes keep busy now: on Linux their threads running or waiting to run at
    this moment (the fewest of three looks a millisecond apart), elsewhere the load average. Not the
    load average on Linux: it counts this process's own last minute (a solve right after another would
    find the machine busy with itself) and its own idle math-library threads, which spin for a while."""
    try:
        running = []
        for look in range(3):
            if look:
                time.sleep(0.001)
            with open("/proc/loadavg", encoding="ascii") as stat:
                everyone = int(stat.read().split()[3].split("/")[0])
            running.append(everyone - _own_running())
        return max(0, min(running))
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # Windows has no load average
        return 0.0


def _own_running() -> int:
    """This process's threads that are running or runnable (state R in /proc/self/task/*/stat)."""
    count = 0
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/stat", encoding="ascii", errors="replace") as stat:
                count += stat.read().rpartition(")")[2].split()[0] == "R"
        except OSError:  # the thread ended meanwhile
            continue
    return count


def plane_block(planes: list[np.ndarray], cols: slice | np.ndarray, out: np.ndarray,
                gain: np.ndarray | None = None) -> np.ndarray:
    """Pixels `cols` (a slice or indices) of each flat plane (any numeric type: a capture's decoded pixels)
    as float32 rows of `out` (N, count), each times its light's gain when `gain` (N,) is given: a block in
    cache, where a float copy of the whole capture would be 180 MB for a card-size one."""
    for i, plane in enumerate(planes):
        if gain is None:
            np.copyto(out[i], plane[cols], casting="unsafe")
        else:
            np.multiply(plane[cols], gain[i], out=out[i], casting="unsafe")
    return out


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
