"""Photometric-stereo speed: `l2` against a plain copy of the same bytes, and `robust` on a DiLiGenT-size capture.

1. l2: `cardgrader.photometric.solve(images, directions, method="l2")` on 4 x 2000 x 2800 float32 images
   (a card scan; 90 MB in, normals + albedo + residual out), and in the same run, alternating A/B so
   drift on a shared machine hits both alike, `images.copy()` (the same 90 MB read, 90 MB written).
   Prints each pair, the medians and the ratio l2 / copy. Target: <= 2.
2. robust: the same call with method="robust" on a 612 x 512 x 96 capture rendered like DiLiGenT (a
   glossy sphere under a 12 x 8 lamp grid), once with the object's mask (what a DiLiGenT object has)
   and once over the whole frame. Prints the median seconds. Target: <= 1 s.

    nice python bench/ps_speed.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np


def l2_against_copy(rounds: int) -> float:
    from cardgrader.photometric import solve, synthetic

    rng = np.random.default_rng(0)
    images = rng.uniform(0.05, 1.0, (4, 2000, 2800)).astype(np.float32)
    directions = synthetic.ring_lights(4, 45, 20)
    solve(images, directions, method="l2")  # warm up: imports, thread pool, page cache
    solve_times, copy_times = [], []
    for i in range(rounds):
        for first in (("copy", "l2") if i % 2 else ("l2", "copy")):
            start = time.perf_counter()
            if first == "copy":
                out = images.copy()
            else:
                out = solve(images, directions, method="l2")
            (copy_times if first == "copy" else solve_times).append(time.perf_counter() - start)
            del out
        print(f"  round {i + 1}: l2 {solve_times[-1] * 1000:7.1f} ms   copy {copy_times[-1] * 1000:7.1f} ms", flush=True)
    l2, copy = statistics.median(solve_times), statistics.median(copy_times)
    ratio = l2 / copy
    print(f"l2 on 4 x 2000 x 2800: median {l2 * 1000:.1f} ms; numpy copy of the same bytes: median {copy * 1000:.1f} ms; "
          f"ratio {ratio:.2f} (target <= 2)")
    return ratio


def robust_seconds(rounds: int) -> float:
    from cardgrader.photometric import solve, synthetic

    h, w = 512, 612
    height, normals, mask = synthetic.sphere(w, 0.42)
    top = (w - h) // 2
    height, normals, mask = height[top:top + h], normals[top:top + h], mask[top:top + h]
    capture = synthetic.render(height, normals, mask, synthetic.grid_lights(), albedo=0.6, specular=1.0,
                               roughness=0.3, noise=0.003)
    print(f"robust on {w} x {h} x 96 (object mask: {mask.sum()} px, {100 * mask.mean():.0f}% of the frame)")
    medians = {}
    for label, m in (("with the object's mask", mask), ("whole frame", None)):
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            solve(capture.images, capture.directions, method="robust", mask=m)
            times.append(time.perf_counter() - start)
        medians[label] = statistics.median(times)
        print(f"  {label}: median {medians[label]:.3f} s over {rounds} runs ({', '.join(f'{t:.2f}' for t in times)})")
    return medians["with the object's mask"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    from cardgrader.photometric.solvers import worker_threads

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"CPU cores: {os.cpu_count()}, load average {load:.1f}; l2 runs on {worker_threads()} thread(s)")
    l2_against_copy(args.rounds)
    robust_seconds(max(3, args.rounds // 2))


if __name__ == "__main__":
    main()
