"""Light directions from a chrome (mirror) sphere photographed under each light.

A mirror sphere shows each distant light as one small highlight, where the sphere's normal bisects the
directions to the light and to the camera. The sphere's outline (its mask) gives its centre and radius;
the highlight's position gives the normal n there; the light is the view direction v = (0, 0, 1) mirrored
about n: l = 2 (n . v) n - v. Intensities cannot be read off a mirror (its highlights saturate), so
they are written as 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from cardgrader.errors import DataError
from cardgrader.photometric.capture import MASK_FILE, lit_images, read_image, read_mask
from cardgrader.photometric.lights import Lights
from cardgrader.photometric.solvers import check_directions

HIGHLIGHT_LEVEL = 0.8  # the highlight is what is brighter than this share of the image's peak


@dataclass
class SphereFit:
    centre: tuple[float, float]  # x, y in pixels
    radius: float


def fit_sphere(mask: np.ndarray) -> SphereFit:
    """Centre and radius of the sphere's outline (the largest blob of the mask)."""
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count < 2:
        raise DataError("The sphere mask is empty; non-zero pixels must mark the sphere.")
    label = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    contours, _ = cv2.findContours((labels == label).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    points = max(contours, key=len)[:, 0, :].astype(np.float64)
    if len(points) < 8:
        raise DataError("The sphere mask is too small to fit a circle; photograph the sphere larger.")
    # Algebraic circle fit (Kasa) on the outline's pixel centres; +0.5 puts the edge between pixels.
    x, y = points[:, 0], points[:, 1]
    a = np.stack([x, y, np.ones_like(x)], axis=1)
    sol, *_ = np.linalg.lstsq(a, x * x + y * y, rcond=None)
    cx, cy = sol[0] / 2, sol[1] / 2
    radius = float(np.sqrt(sol[2] + cx * cx + cy * cy)) + 0.5
    return SphereFit((float(cx), float(cy)), radius)


def highlight(image: np.ndarray, mask: np.ndarray, name: str = "image") -> tuple[float, float]:
    """Intensity-weighted centre (x, y) of the brightest blob on the sphere."""
    values = np.where(mask, image, 0.0).astype(np.float32)
    peak = float(values.max())
    if peak <= 0:
        raise DataError(f"The sphere image {name} shows no highlight on the sphere; check that its light fired.")
    bright = (values >= HIGHLIGHT_LEVEL * peak).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(bright, connectivity=8)
    # The blob holding the peak: a second, dimmer reflection (from the rig) must not pull the centre.
    peak_label = labels.flat[int(np.argmax(values))]
    ys, xs = np.nonzero(labels == peak_label)
    weights = values[ys, xs] - HIGHLIGHT_LEVEL * peak + 1e-6
    return float((xs * weights).sum() / weights.sum()), float((ys * weights).sum() / weights.sum())


def direction_from_highlight(point: tuple[float, float], sphere: SphereFit) -> np.ndarray:
    nx = (point[0] - sphere.centre[0]) / sphere.radius
    ny = -(point[1] - sphere.centre[1]) / sphere.radius  # rows go down, y goes up
    rho2 = nx * nx + ny * ny
    if rho2 >= 1.0:
        raise DataError("A highlight lies on the sphere's outline, so its light is behind the sphere; check the mask.")
    n = np.array([nx, ny, np.sqrt(1.0 - rho2)])
    return 2.0 * n[2] * n - np.array([0.0, 0.0, 1.0])


def calibrate(folder: str | Path, mask: str | Path | None = None) -> Lights:
    """Light directions from a folder of mirror-sphere images and the sphere's mask."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"The sphere folder {folder} does not exist or is not a folder.")
    names = lit_images(folder)
    if len(names) < 3:
        raise DataError(f"Calibration needs at least 3 sphere images (one per light); {folder} has {len(names)}.")
    mask_path = Path(mask) if mask else folder / MASK_FILE
    if not mask_path.is_file():
        raise DataError(f"The sphere folder {folder} has no {MASK_FILE}; draw the sphere's outline as a mask "
                        "(white sphere on black) and save it there.")
    sphere_mask = None
    sphere = None
    directions = []
    for name in names:
        image = read_image(folder / name)
        if image.ndim == 3:
            image = image.max(axis=2)
        if sphere_mask is None:
            sphere_mask = read_mask(mask_path, image.shape)
            sphere = fit_sphere(sphere_mask)
        elif image.shape != sphere_mask.shape:
            raise DataError(f"The sphere image {name} is {image.shape[1]}x{image.shape[0]} pixels; all images and "
                            f"the mask must be {sphere_mask.shape[1]}x{sphere_mask.shape[0]}.")
        directions.append(direction_from_highlight(highlight(image, sphere_mask, name), sphere))
    d = check_directions(np.array(directions), len(names))
    return Lights(names, d, np.ones(len(names)), str(folder))
