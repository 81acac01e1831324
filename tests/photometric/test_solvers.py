"""Normal accuracy of the l2 and robust solvers on renders with known normals."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cardgrader.errors import ConfigError, DataError
from cardgrader.photometric import solve, synthetic
from cardgrader.photometric.robust import LightGeometry, capture_noise, sort_rows
from cardgrader.photometric.solvers import check_directions

RING = synthetic.ring_lights(8, 35, 10)
# Grazing lamps cast shadows from every dent and groove; lamps near the camera put highlights on gloss.
GRAZING = np.vstack([synthetic.ring_lights(8, 12, 0), synthetic.ring_lights(4, 60, 45)])
GLOSSY_RIG = np.vstack([synthetic.ring_lights(6, 30, 0), synthetic.ring_lights(6, 78, 30)])


@pytest.fixture(scope="module")
def card():
    return synthetic.card(160, 120, dents=2, scratches=2, seed=1)


def mean_error(result, truth, mask=None) -> float:
    return float(synthetic.angular_error(result.normals, truth, mask).mean())


@pytest.mark.parametrize("method", ["l2", "robust"])
def test_clean_lambertian_card_is_recovered_within_a_tenth_of_a_degree(card, method):
    capture = synthetic.render(card.height, card.normals, card.mask, RING, albedo=card.albedo, shadows=False)
    result = solve(capture.images, capture.directions, method=method)
    assert mean_error(result, card.normals) < 0.1
    assert result.normals.shape == (160, 120, 3) and result.normals.dtype == np.float32
    assert np.allclose(np.linalg.norm(result.normals, axis=2), 1.0, atol=1e-4)
    assert np.abs(result.albedo - card.albedo).max() < 1e-3


def test_l2_is_plain_least_squares_over_every_light():
    """The DiLiGenT baseline: lstsq per pixel over all lights (shadows included), intensities divided out."""
    rng = np.random.default_rng(3)
    directions = synthetic.grid_lights(4, 3)
    images = rng.uniform(0.05, 1.0, (12, 9, 7)).astype(np.float32)
    gains = rng.uniform(0.5, 2.0, 12)
    result = solve(images, directions, method="l2", intensities=gains, residual=True)
    normalised = (images / gains[:, None, None].astype(np.float32)).reshape(12, -1).astype(np.float64)
    b, *_ = np.linalg.lstsq(directions, normalised, rcond=None)
    albedo = np.linalg.norm(b, axis=0)
    assert np.allclose(result.albedo.ravel(), albedo, rtol=1e-4)
    assert np.allclose(result.normals.reshape(-1, 3), (b / albedo).T, atol=1e-4)
    misfit = np.sqrt(((normalised - directions @ b) ** 2).mean(axis=0))
    assert np.allclose(result.residual.ravel(), misfit, atol=1e-4)
    assert solve(images, directions, method="l2").residual is None  # only on request: it costs bandwidth


@pytest.mark.parametrize("count", [4, 5, 6, 7, 12, 16, 17, 24])
def test_l2_residual_is_the_rms_misfit_for_few_and_many_lights(count):
    rng = np.random.default_rng(count)
    directions = synthetic.grid_lights(count, 1, half_height=0.0) if count < 12 else synthetic.ring_lights(count, 40, 10)
    directions = np.vstack([directions[:-1], [[0.1, 0.5, 0.86]]])
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    images = rng.uniform(0.05, 1.0, (count, 5, 6)).astype(np.float32)
    result = solve(images, directions, method="l2", residual=True)
    b, *_ = np.linalg.lstsq(directions, images.reshape(count, -1).astype(np.float64), rcond=None)
    misfit = np.sqrt(((images.reshape(count, -1) - directions @ b) ** 2).mean(axis=0))
    assert np.allclose(result.residual.ravel(), misfit, atol=2e-4)


@pytest.mark.parametrize("name, lights, render, l2_bound, robust_bound", [
    ("noise", RING, {"noise": 0.01}, 1.0, 1.0),
    ("grazing", GRAZING, {"noise": 0.003}, 0.5, 0.4),
    ("highlights", GLOSSY_RIG, {"noise": 0.003, "specular": 2.0, "roughness": 0.3}, 2.0, 0.4),
])
def test_error_bounds_on_harder_cards(card, name, lights, render, l2_bound, robust_bound):
    capture = synthetic.render(card.height, card.normals, card.mask, lights, albedo=card.albedo, seed=2, **render)
    l2 = mean_error(solve(capture.images, capture.directions, "l2"), card.normals)
    robust = mean_error(solve(capture.images, capture.directions, "robust"), card.normals)
    assert l2 < l2_bound, name
    assert robust < robust_bound, name
    if name != "noise":  # with only noise there is nothing to leave out
        assert robust < l2, name


def test_robust_leaves_out_cast_shadows_even_on_a_rig_with_few_lights(card):
    """Eight lamps low around the card: dents and grooves shadow each other; robust keeps at least three."""
    lights = synthetic.ring_lights(8, 12, 10)
    capture = synthetic.render(card.height, card.normals, card.mask, lights, albedo=card.albedo, noise=0.003, seed=2)
    l2 = synthetic.angular_error(solve(capture.images, lights, "l2").normals, card.normals)
    robust = synthetic.angular_error(solve(capture.images, lights, "robust").normals, card.normals)
    assert np.percentile(robust, 99) < 0.5 * np.percentile(l2, 99)
    assert robust.mean() < l2.mean()


def test_robust_is_as_precise_as_least_squares_where_there_is_nothing_to_leave_out(card):
    """A matte card lit from the front: only noise. The scale's floor at the capture's noise keeps every
    light, so the M-estimate is the least-squares fit (most pixels keep it as it is) and no less precise."""
    capture = synthetic.render(card.height, card.normals, card.mask, RING, albedo=card.albedo, shadows=False,
                               noise=0.01, seed=2)
    l2 = solve(capture.images, capture.directions, "l2")
    robust = solve(capture.images, capture.directions, "robust")
    assert mean_error(robust, card.normals) < 1.03 * mean_error(l2, card.normals)
    assert np.mean(synthetic.angular_error(robust.normals, l2.normals) < 1e-3) > 0.8
    assert robust.used_fraction.mean() > 0.99


def test_robust_leaves_out_shadows_and_highlights_wherever_they_fall():
    """Patches darkened (cast shadows) and brightened (gloss, reflections) at random in every image, a
    seventh of all measurements, not only where the rig's geometry predicts them."""
    height, normals, mask = synthetic.bumps(96, seed=2)
    lights = synthetic.grid_lights(4, 3)
    capture = synthetic.render(height, normals, mask, lights, albedo=0.6, shadows=False, noise=0.002, seed=3)
    rng = np.random.default_rng(0)
    images = capture.images.copy()
    for image in images:
        for _ in range(12):
            spot = np.zeros(image.shape, np.uint8)
            cv2.circle(spot, tuple(int(v) for v in rng.integers(0, 96, 2)), int(rng.integers(3, 9)), 1, -1)
            if rng.random() < 0.5:
                image[spot > 0] *= 0.1
            else:
                image[spot > 0] += 0.4
    assert np.mean(images != capture.images) > 0.1
    l2 = mean_error(solve(images, lights, "l2"), normals)
    robust = mean_error(solve(images, lights, "robust"), normals)
    assert robust < 1.0 and robust < 0.1 * l2


@pytest.mark.parametrize("artwork", ["panels", "halftone", "text", "foil"])
def test_the_capture_noise_is_measured_through_any_print(artwork):
    """Dense halftone dots and lettering would pass for noise in the images; in the residual they cancel."""
    card = synthetic.card(240, 180, dents=1, scratches=1, seed=3, artwork=artwork)
    capture = synthetic.render(card.height, card.normals, card.mask, RING, albedo=card.albedo, noise=0.004, seed=5)
    geometry = LightGeometry(check_directions(RING, len(RING)))
    assert capture_noise(capture.images, geometry, np.ones(len(RING)), None) == pytest.approx(0.004, rel=0.1)
    assert capture_noise(capture.images, geometry, np.full(len(RING), 2.0), None) == pytest.approx(0.008, rel=0.1)
    planes = [np.round(image * 65535).astype(np.uint16) for image in capture.images]  # as a 16-bit capture decodes
    assert capture_noise(planes, geometry, np.full(len(RING), 1 / 65535), None) == pytest.approx(
        capture_noise(capture.images, geometry, np.ones(len(RING)), None), rel=0.02)


@pytest.mark.parametrize("rows", [1, 2, 3, 5, 8, 12, 16, 17, 96])
def test_per_pixel_sorting_matches_numpy_for_any_count_of_lights(rows):
    rng = np.random.default_rng(rows)
    values = rng.normal(size=(rows, 257)).astype(np.float32)
    values[rng.random(values.shape) < 0.2] = np.inf  # lights a pixel cannot use
    assert np.array_equal(sort_rows(values), np.sort(values, axis=0))


def diligent_like(shape: str, specular: float, roughness: float):
    height, normals, mask = synthetic.sphere(64) if shape == "sphere" else synthetic.bumps(64, seed=3)
    return synthetic.render(height, normals, mask, synthetic.grid_lights(), albedo=0.5, specular=specular,
                            roughness=roughness, noise=0.003, seed=1)


@pytest.mark.parametrize("shape, specular, roughness, share", [
    ("sphere", 1.0, 0.2, 0.2), ("bumps", 1.0, 0.3, 0.4),
    ("bumps", 0.8, 0.5, 1.0),  # a very broad lobe is glossy everywhere: little to leave out, but no harm
])
def test_robust_clearly_beats_l2_on_glossy_shadowed_objects(shape, specular, roughness, share):
    """96 lights like DiLiGenT's, attached and cast shadows, Cook-Torrance highlights."""
    capture = diligent_like(shape, specular, roughness)
    l2 = mean_error(solve(capture.images, capture.directions, "l2", mask=capture.mask), capture.normals, capture.mask)
    result = solve(capture.images, capture.directions, "robust", mask=capture.mask)
    robust = mean_error(result, capture.normals, capture.mask)
    assert robust < share * l2
    assert robust < 1.5
    assert result.used_fraction is not None and 0.2 < result.used_fraction[capture.mask].mean() < 1.0


def test_outside_the_mask_is_zero_and_progress_reaches_the_end():
    capture = diligent_like("sphere", 0.0, 0.3)
    seen = []
    for method in ("l2", "robust"):
        result = solve(capture.images, capture.directions, method, mask=capture.mask,
                       progress=lambda f, m: seen.append((f, m)))
        assert not result.normals[~capture.mask].any() and not result.albedo[~capture.mask].any()
        assert seen[-1][0] == 1.0
        assert all(0.0 <= f <= 1.0 for f, _ in seen)


@pytest.mark.parametrize("images, directions, message", [
    (np.ones((2, 4, 4), np.float32), synthetic.ring_lights(2, 40), "at least 3 images"),
    (np.ones((4, 4, 4), np.float32), synthetic.ring_lights(3, 40), "4 images but 3 light directions"),
    (np.ones((3, 4, 4), np.float32), [[0, 0, 2], [1, 0, 1], [0, 1, 1]], "unit vectors"),
    (np.ones((4, 4, 4), np.float32), synthetic.ring_lights(4, 0), "one plane"),
    (np.ones((3, 4, 4), np.float32), [[0, 0, 1], [1, 0, 0], [0, 1, float("nan")]], "missing or non-numeric"),
    (np.ones((4, 4), np.float32), synthetic.ring_lights(4, 40), "(N, H, W)"),
])
def test_bad_solver_input_is_a_sentence(images, directions, message):
    with pytest.raises(DataError, match=message):
        solve(images, directions)


def test_unknown_method_is_a_config_error():
    with pytest.raises(ConfigError, match="l2, robust"):
        solve(np.ones((3, 4, 4), np.float32), synthetic.ring_lights(3, 40), method="magic")
