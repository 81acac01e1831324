"""Light directions from a rendered chrome sphere."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cardgrader.errors import DataError
from cardgrader.photometric import synthetic
from cardgrader.photometric.calibrate import calibrate, fit_sphere


def write_sphere(folder, directions, size=256, noise=0.01, bits=16, offset=(0, 0)):
    folder.mkdir()
    images, mask = synthetic.mirror_sphere(size, directions, noise=noise)
    shift = np.float32([[1, 0, offset[0]], [0, 1, offset[1]]])  # the sphere need not sit in the middle
    top = 2 ** bits - 1
    for i, image in enumerate(images):
        moved = cv2.warpAffine(image, shift, (size + 40, size + 30))
        cv2.imwrite(str(folder / f"sphere_{i:02d}.png"), np.round(moved * top).astype(np.uint16 if bits > 8 else np.uint8))
    cv2.imwrite(str(folder / "mask.png"), cv2.warpAffine(mask.astype(np.uint8) * 255, shift, (size + 40, size + 30)))
    return folder


@pytest.mark.parametrize("bits", [8, 16])
def test_recovers_known_directions_within_one_degree(tmp_path, bits):
    true = np.vstack([synthetic.grid_lights(6, 4), synthetic.ring_lights(8, 25, 5), synthetic.ring_lights(4, 60)])
    lights = calibrate(write_sphere(tmp_path / "sphere", true, bits=bits, offset=(23.5, 11.25)))
    errors = np.degrees(np.arccos(np.clip(np.sum(lights.directions * true, axis=1), -1, 1)))
    assert errors.max() < 1.0
    assert len(lights.images) == len(true) and np.all(lights.intensities == 1.0)


def test_sphere_outline_fit():
    _h, _n, mask = synthetic.sphere(200, 0.4)
    fit = fit_sphere(mask)
    assert abs(fit.centre[0] - 99.5) < 0.5 and abs(fit.centre[1] - 99.5) < 0.5
    assert abs(fit.radius - 80.0) < 1.0


def test_an_image_without_a_highlight_is_named(tmp_path):
    folder = write_sphere(tmp_path / "sphere", synthetic.ring_lights(4, 40), noise=0.0)
    cv2.imwrite(str(folder / "sphere_02.png"), np.zeros((286, 296), np.uint16))
    with pytest.raises(DataError, match="sphere_02.png shows no highlight"):
        calibrate(folder)
