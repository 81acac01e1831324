"""Depth integrated from normals matches the surface that made them."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cardgrader.photometric import synthetic
from cardgrader.photometric.depth import (
    RAKING_LIGHT,
    SHADE_ROWS,
    SLOPE_ROWS,
    TRANSFORM_ROWS,
    _banded_divergence,
    _divergence,
    _transform_rows,
    integrate,
    shaded,
    slopes,
)


@pytest.mark.parametrize("shape", [(120, 160), (121, 163)])
def test_a_warped_card_with_a_dent_integrates_back_to_its_height(shape):
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(float)
    height = 0.002 * (xx - 70) ** 2 - 0.003 * (yy - 50) ** 2 - 4 * np.exp(-((xx - 100) ** 2 + (yy - 60) ** 2) / 50)
    depth = integrate(synthetic.normals_from_height(height))
    assert depth.dtype == np.float32 and depth.shape == shape
    assert np.abs(depth - (height - height.mean())).max() < 0.1  # of a 16-pixel relief


def test_a_masked_surface_has_no_cliff_at_the_mask_edge():
    height = synthetic.card(100, 80, dents=1, scratches=0, seed=4).height
    mask = np.zeros(height.shape, bool)
    mask[10:90, 8:70] = True
    depth = integrate(synthetic.normals_from_height(height), mask)
    truth = height - height[mask].mean()
    assert np.abs(depth - truth)[mask].max() < 0.1
    assert not depth[~mask].any()


def test_dents_are_below_the_card_and_the_rendering_shows_them():
    card = synthetic.card(120, 90, dents=1, scratches=0, warp=0.0, seed=6)
    depth = integrate(card.normals)
    x0, y0, x1, y1 = card.defects[0].bbox
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    assert depth[cy, cx] < depth[5, 5] - 0.8 * card.defects[0].depth
    picture = shaded(card.normals)
    assert picture.dtype == np.uint8 and picture[y0:y1, x0:x1].std() > 5 * picture[:20, :20].std() + 1


def test_a_card_size_relief_integrates_in_single_precision_without_a_tilt():
    """At scan size the lowest frequencies are divided by (pi / 1200)^2: a solve whose rounding leaked
    there would bow or tilt the whole card. Depth still matches the height to a small share of a pixel."""
    card = synthetic.card(1200, 900, dents=2, scratches=2, creases=1, seed=8)
    depth = integrate(card.normals)
    error = depth - (card.height - card.height.mean())
    assert depth.dtype == np.float32 and np.ptp(card.height) > 25
    assert np.median(np.abs(error)) < 1e-3 and np.abs(error).max() < 0.5  # the most at the crease's fold
    rows, cols = np.mgrid[0:1200, 0:900]
    plane = np.stack([rows.ravel(), cols.ravel(), np.ones(rows.size)], axis=1)
    tilt = np.linalg.lstsq(plane, error.ravel(), rcond=None)[0]
    assert np.abs(tilt[:2]).max() * 1200 < 0.01  # under a hundredth of a pixel across the card


def test_an_odd_sized_card_with_a_round_mask_and_a_hole_has_no_cliff_at_any_edge():
    card = synthetic.card(101, 77, dents=1, scratches=1, seed=2)
    yy, xx = np.mgrid[0:101, 0:77]
    mask = ((yy - 50) ** 2 / 45.0 ** 2 + (xx - 38) ** 2 / 34.0 ** 2) < 1.0
    mask &= (yy - 20) ** 2 + (xx - 20) ** 2 > 36  # a punched hole
    depth = integrate(card.normals, mask)
    error = np.abs(depth - (card.height - card.height[mask].mean()))[mask]
    assert error.mean() < 0.02 and error.max() < 0.3  # flat slopes beyond the edges: a mean error of 0.04
    assert not depth[~mask].any()


@pytest.mark.parametrize("height", [2, 3, SLOPE_ROWS - 1, SLOPE_ROWS, SLOPE_ROWS + 1, 2 * SLOPE_ROWS + 5])
def test_the_divergence_worked_out_in_bands_is_the_whole_cards(height):
    rng = np.random.default_rng(height)
    normals = rng.normal(size=(height, 37, 3)).astype(np.float32)
    normals[..., 2] = np.abs(normals[..., 2])  # some near-vertical: the slope's cap applies too
    normals /= np.linalg.norm(normals, axis=2, keepdims=True)
    p, q = slopes(normals)
    assert np.array_equal(_banded_divergence(normals), _divergence(p, q))


@pytest.mark.parametrize("height", [1, SHADE_ROWS, SHADE_ROWS + 3])
def test_the_shaded_rendering_made_in_bands_is_the_raking_light_on_each_pixel(height):
    normals = np.random.default_rng(height).normal(size=(height, 5, 3)).astype(np.float32)
    light = RAKING_LIGHT / np.linalg.norm(RAKING_LIGHT)
    expected = np.clip(np.rint(255.0 * normals.astype(np.float64) @ light), 0, 255)
    picture = shaded(normals)
    assert picture.shape == (height, 5) and picture.dtype == np.uint8
    assert np.abs(picture.astype(int) - expected).max() <= 1  # single-precision rounding at a half


def _axis_eigenvalues(n: int) -> np.ndarray:
    """The Neumann Laplacian's eigenvalues along an axis of n pixels, x2, worked out here apart from the code."""
    return 4.0 * np.cos(np.pi * np.arange(n) / n) - 4.0


def _divisor(kx: np.ndarray, ky: np.ndarray) -> np.ndarray:
    """The 2-D eigenvalues kx[i] + ky[j], with 1 for the constant term (whose coefficient is set to 0)."""
    eigen = kx[:, None] + ky[None, :]
    eigen[0, 0] = 1.0
    return eigen


@pytest.mark.parametrize("height", [2, TRANSFORM_ROWS, TRANSFORM_ROWS + 6])
def test_the_transforms_made_in_bands_of_doubles_are_the_whole_arrays(height):
    values = np.random.default_rng(height).normal(size=(height, 14)).astype(np.float32)
    kx, ky = _axis_eigenvalues(height), _axis_eigenvalues(14)
    forward = cv2.dct(values.astype(np.float64), flags=cv2.DCT_ROWS)
    divided = forward / _divisor(kx, ky)
    divided[0, 0] = 0.0
    back = cv2.dct(divided, flags=cv2.DCT_ROWS | cv2.DCT_INVERSE)
    once, fused = values.copy(), values.copy()
    _transform_rows(once, cv2.DCT_ROWS)
    _transform_rows(fused, cv2.DCT_ROWS, (kx, ky), cv2.DCT_ROWS | cv2.DCT_INVERSE)
    assert np.array_equal(once, forward.astype(np.float32))
    assert np.array_equal(fused, back.astype(np.float32))


def test_a_card_size_relief_integrates_to_what_a_double_precision_solve_gives():
    """The same Poisson solve kept in doubles throughout: the bands of single-precision rows between
    the transforms cost about a millionth of a pixel (1.5e-6 here; 1.7e-5 with the transforms in floats)."""
    normals = synthetic.card(1200, 900, dents=2, scratches=2, creases=1, seed=8).normals
    p, q = slopes(normals)
    div = _divergence(p.astype(np.float64), q.astype(np.float64))
    spectrum = cv2.dct(np.ascontiguousarray(cv2.dct(div, flags=cv2.DCT_ROWS).T), flags=cv2.DCT_ROWS)
    spectrum /= _divisor(_axis_eigenvalues(900), _axis_eigenvalues(1200))
    spectrum[0, 0] = 0.0
    exact = cv2.idct(np.ascontiguousarray(cv2.idct(spectrum, flags=cv2.DCT_ROWS).T), flags=cv2.DCT_ROWS)
    exact -= exact.mean()
    assert np.ptp(exact) > 25 and np.abs(integrate(normals) - exact).max() < 5e-6
