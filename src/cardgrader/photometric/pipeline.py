"""One call from a capture to everything photometric stereo says about a card: normals, albedo,
residual, depth, shaded rendering and the defect map, with progress for long work.

The GUI runs `analyse` on a worker thread and forwards `progress(fraction, message)` to its queue; the CLI
draws a progress line from the same callback.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from cardgrader.photometric.capture import PhotoCapture
from cardgrader.photometric.defects import (
    DefectMap,
    DefectSettings,
    Depth,
    Outlined,
    find_defects,
)
from cardgrader.photometric.depth import integrate, shaded
from cardgrader.photometric.solvers import PhotometricResult, Progress, solve

# The solve's share of the whole job, for one progress bar across the stages.
SOLVE_SHARE = 0.75


@dataclass
class Analysis:
    result: PhotometricResult
    depth: np.ndarray  # (H, W) float32, pixels toward the camera
    shaded: np.ndarray  # (H, W) uint8, the normals under a raking light
    defects: DefectMap
    seconds: dict[str, float] = field(default_factory=dict)


def analyse(images: np.ndarray, directions: np.ndarray, method: str = "robust", mask: np.ndarray | None = None,
            progress: Progress | None = None, defect_settings: DefectSettings | None = None,
            solved: Callable[[PhotometricResult], None] | None = None,
            integrated: Callable[[np.ndarray, np.ndarray], None] | None = None,
            intensities: np.ndarray | None = None, outlined: Outlined | None = None) -> Analysis:
    """Solve, integrate and map defects; `images` are (N, H, W) float32 already divided by intensity (or
    what `solve` takes with `intensities`). `solved(result)` is called as soon as the normals are known,
    `integrated(depth, shaded)` as soon as those are (from another thread), `outlined(outline)` as soon
    as the defect regions' places are (`find_defects`): the CLI starts writing them then."""
    report = progress or (lambda _f, _m: None)
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    result = solve(images, directions, method=method, mask=mask, residual=True, intensities=intensities,
                   progress=lambda f, m: report(SOLVE_SHARE * f, m))
    seconds["solve"] = time.perf_counter() - start
    if solved is not None:
        solved(result)
    report(SOLVE_SHARE, "integrating depth, mapping defects")
    card = result.mask if mask is not None else None

    def integrate_and_shade() -> tuple[np.ndarray, np.ndarray, float, float]:
        start = time.perf_counter()
        depth = integrate(result.normals, card)
        middle = time.perf_counter()
        picture = shaded(result.normals)
        if integrated is not None:
            integrated(depth, picture)
        return depth, picture, middle - start, time.perf_counter() - middle

    # Depth is integrated (and the normals shaded) on a second thread while the defects are mapped: they
    # need depth only for the regions they find, at the end.
    with ThreadPoolExecutor(1) as pool:
        job = pool.submit(integrate_and_shade)
        start = time.perf_counter()
        defects = _defects(result, card, lambda: job.result()[0], defect_settings, outlined)
        seconds["defects"] = time.perf_counter() - start
        depth, picture, seconds["depth"], seconds["shaded"] = job.result()
    report(1.0, "done")
    return Analysis(result, depth, picture, defects, {k: round(v, 3) for k, v in seconds.items()})


def _defects(result: PhotometricResult, card: np.ndarray | None, depth: Depth,
             settings: DefectSettings | None, outlined: Outlined | None = None) -> DefectMap:
    return find_defects(result.normals, card, depth, settings, result.residual, result.albedo,
                        used_fraction=result.used_fraction, outlined=outlined)


def defects_within(analysis: Analysis, card: np.ndarray) -> DefectMap:
    """The defect map again, inside `card` (an (H, W) bool mask) only, with the analysis's settings."""
    return _defects(analysis.result, card, analysis.depth, analysis.defects.settings)


def analyse_capture(capture: PhotoCapture, method: str = "robust", progress: Progress | None = None,
                    defect_settings: DefectSettings | None = None,
                    solved: Callable[[PhotometricResult], None] | None = None,
                    integrated: Callable[[np.ndarray, np.ndarray], None] | None = None,
                    outlined: Outlined | None = None) -> Analysis:
    # The decoded pixels themselves, a block at a time: no float copy of the capture (8 x 2000 x 2800: 180 MB).
    return analyse(capture.planes, capture.directions, method, capture.mask, progress, defect_settings, solved,
                   integrated, intensities=1.0 / capture.scales, outlined=outlined)
