"""The defect map finds planted dents, scratches and creases, and leaves a clean card alone: on printed
artwork (dark ink, text, halftone, foil), under sensor noise and the shadows of low lamps."""

from __future__ import annotations

import numpy as np
import pytest

from cardgrader.photometric import analyse, solve, synthetic
from cardgrader.photometric.defects import DefectSettings, find_defects, integrity_score
from cardgrader.photometric.depth import integrate
from cardgrader.photometric.matching import match, same_defect

RING = synthetic.ring_lights(8, 35, 10)
HARD = np.vstack([synthetic.ring_lights(8, 12, 0), synthetic.ring_lights(6, 30, 20), synthetic.ring_lights(6, 78, 30)])
# Raking lamps whose shadows fill the dents, and four near the camera that make foil glint.
LOW = np.vstack([synthetic.ring_lights(8, 15, 10), synthetic.ring_lights(4, 75, 55)])
SIZE = (280, 200)


def defect_map(card, lights, method, **render):
    capture = synthetic.render(card.height, card.normals, card.mask, lights, albedo=card.albedo, **render)
    normals = solve(capture.images, capture.directions, method).normals
    return find_defects(normals, None, integrate(normals))


def analysed(card, lights, method, noise, seed=0, settings=None):
    """The pipeline's defect map (with the solver's albedo, residual and lights used) of a rendering."""
    capture = synthetic.render(card.height, card.normals, card.mask, lights, albedo=card.albedo,
                               specular=card.specular, noise=noise, seed=seed)
    return analyse(capture.images, capture.directions, method, defect_settings=settings).defects


@pytest.mark.parametrize("method, lights, render", [
    ("l2", RING, {"noise": 0.005}),
    ("robust", RING, {"noise": 0.01}),
    ("robust", HARD, {"noise": 0.005, "specular": 2.0, "roughness": 0.3}),
])
def test_planted_dents_and_scratches_are_found(method, lights, render):
    planted = found = true_found = 0
    for seed in range(5):
        card = synthetic.card(160, 120, dents=2, scratches=2, seed=seed)
        regions = defect_map(card, lights, method, seed=seed, **render).regions
        pairing = match([d.bbox for d in card.defects], [r.bbox for r in regions])
        planted += len(card.defects)
        found += len(regions)
        true_found += len(pairing.pairs)
    recall, precision = true_found / planted, true_found / max(found, 1)
    assert recall >= 0.8 and precision >= 0.5, (recall, precision)


def test_kinds_depths_and_boxes_follow_the_planted_defects():
    card = synthetic.card(200, 150, dents=2, scratches=2, creases=1, seed=4)
    result = defect_map(card, RING, "robust", noise=0.004)
    pairing = match([d.bbox for d in card.defects], [r.bbox for r in result.regions])
    assert len(pairing.pairs) >= 4
    for i, j in pairing.pairs:
        planted, region = card.defects[i], result.regions[j]
        assert region.kind == planted.kind
        assert 0.5 * planted.depth < region.depth_px < 1.5 * planted.depth
        assert same_defect(planted.bbox, region.bbox)
    assert result.mask.sum() == sum(r.area_px for r in result.regions)


def test_a_clean_warped_card_has_no_defects_and_scores_100():
    card = synthetic.card(160, 120, dents=0, scratches=0, warp=0.12, seed=7)
    result = defect_map(card, RING, "robust", noise=0.01, seed=1)
    assert result.regions == [] and result.integrity == 100.0


def test_integrity_drops_with_damage():
    scores = []
    for dents, scratches, creases in ((0, 0, 0), (1, 0, 0), (2, 2, 0), (2, 2, 1)):
        card = synthetic.card(200, 150, dents=dents, scratches=scratches, creases=creases, seed=11)
        scores.append(defect_map(card, RING, "robust", noise=0.004).integrity)
    assert scores[0] == 100.0
    assert scores == sorted(scores, reverse=True) and scores[1] > scores[3]
    assert integrity_score([], 100) == 100.0


@pytest.mark.parametrize("method", ["l2", "robust"])
@pytest.mark.parametrize("noise", [0.0, 0.005, 0.01])
@pytest.mark.parametrize("artwork", synthetic.ARTWORKS)
def test_an_undamaged_printed_card_scores_at_least_95_with_no_regions(artwork, noise, method):
    card = synthetic.card(*SIZE, dents=0, scratches=0, seed=21, artwork=artwork)
    result = analysed(card, LOW, method, noise, seed=3)
    assert result.regions == [], [(r.kind, r.bbox) for r in result.regions]
    assert result.integrity >= 95


@pytest.mark.parametrize("artwork", ["checker", "text", "halftone", "foil"])
def test_printed_artwork_neither_hides_nor_fakes_damage(artwork):
    """Three damaged cards per face at 1 % noise under low lamps: recall >= 0.8 at precision >= 0.5."""
    planted = found = true_found = 0
    for seed in range(3):
        card = synthetic.card(*SIZE, dents=2, scratches=2, seed=30 + seed, artwork=artwork,
                              dent_radius=(0.03, 0.08), dent_depth=(0.15, 0.4))
        regions = analysed(card, LOW, "robust", 0.01, seed=seed).regions
        planted += len(card.defects)
        found += len(regions)
        true_found += len(match([d.bbox for d in card.defects], [r.bbox for r in regions]).pairs)
    recall, precision = true_found / planted, true_found / max(found, 1)
    assert recall >= 0.8 and precision >= 0.5, (recall, precision)


def test_dark_ink_is_judged_against_its_own_larger_noise():
    card = synthetic.card(*SIZE, dents=0, scratches=0, seed=5, artwork="checker")
    result = analysed(card, LOW, "l2", 0.01, settings=DefectSettings(min_deviation_deg=0.2))  # a low floor
    inner = np.zeros(card.mask.shape, bool)
    inner[20:-20, 20:-20] = True
    dark, white = inner & (card.albedo < 0.3), inner & (card.albedo > 0.6)
    ratio = np.median(result.noise_deg[dark]) / np.median(result.noise_deg[white])
    assert 6 < ratio < 15  # the stock reflects 0.85 / 0.08 = 10.6 times what the ink does


def _groove(shape, lean_as_one: bool) -> np.ndarray:
    """Normals of a card with one straight groove 1 px deep; with `lean_as_one` the groove's far wall is
    mirrored to lean the same way as its near wall: the same deviations, but no closed relief."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    across = (yy - 0.5 * h) * np.cos(0.3) - (xx - 0.5 * w) * np.sin(0.3)
    along = (yy - 0.5 * h) * np.sin(0.3) + (xx - 0.5 * w) * np.cos(0.3)
    height = -np.exp(-across ** 2 / (2 * 0.9 ** 2)) * (np.abs(along) < 0.2 * w)
    normals = synthetic.normals_from_height(height)
    if lean_as_one:
        far = across < 0
        normals[far, :2] *= -1
    rng = np.random.default_rng(0)
    noisy = normals + rng.normal(0, np.radians(0.3), normals.shape).astype(np.float32)
    return noisy / np.linalg.norm(noisy, axis=2, keepdims=True)


def test_a_band_that_leans_as_one_is_shading_not_a_scratch():
    albedo = np.full(SIZE, 0.8, np.float32)
    groove = find_defects(_groove(SIZE, lean_as_one=False), albedo=albedo)
    band = find_defects(_groove(SIZE, lean_as_one=True), albedo=albedo)
    assert [r.kind for r in groove.regions] == ["scratch"]
    steep = [int((m.deviation > 10).sum()) for m in (groove, band)]
    assert steep[0] > 100 and abs(steep[1] - steep[0]) < 0.1 * steep[0]  # as many steep departures ...
    assert band.regions == []  # ... but they do not close into relief


def test_a_scratch_crossing_dark_ink_stays_one_scratch():
    card = synthetic.card(*SIZE, dents=0, scratches=1, seed=3, printed=False)
    x0, y0, x1, y1 = card.defects[0].bbox
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    card.albedo[cy - 12:cy + 12, cx - 12:cx + 12] = 0.02  # black ink hides the middle of the scratch
    result = analysed(card, LOW, "robust", 0.01)
    assert [r.kind for r in result.regions] == ["scratch"]
    assert same_defect(card.defects[0].bbox, result.regions[0].bbox)
    assert result.regions[0].length_px > 0.8 * np.hypot(x1 - x0 - 4, y1 - y0 - 4)


def test_the_summary_states_the_rule_with_its_numbers():
    card = synthetic.card(*SIZE, dents=1, scratches=0, seed=9, artwork="text")
    capture = synthetic.render(card.height, card.normals, card.mask, LOW, albedo=card.albedo, noise=0.01)
    settings = DefectSettings(seed_sigmas=6.0, grow_sigmas=3.5, min_area_px=30)
    summary = analyse(capture.images, capture.directions, "robust", defect_settings=settings).defects.summary()
    rule = summary["defect_definition"]
    assert "noise" in rule and "albedo" in rule and "lights" in rule
    assert "3.5 times" in rule and "past 6 times" in rule and "30 px" in rule
    assert "weight(kind)" in summary["integrity_definition"]
    assert summary["noise_deg"] > 0 and summary["threshold_deg"] > summary["noise_deg"]
    assert summary["counts"]["dent"] == 1


def test_a_large_capture_is_mapped_on_pixel_means_and_finds_the_same_defects():
    """A capture whose short side is at least twice `work_side` is mapped on 2 x 2 means: the same defects
    as at full resolution, in the capture's pixels, and the summary says so."""
    card = synthetic.card(400, 300, dents=2, scratches=2, creases=1, seed=4)
    capture = synthetic.render(card.height, card.normals, card.mask, RING, albedo=card.albedo, noise=0.004)
    result = solve(capture.images, capture.directions, "robust", residual=True)
    depth = integrate(result.normals)
    maps = {}
    for work_side in (0, 150):  # 0: full resolution; 150: 300 px // 150 = 2 x 2 means
        maps[work_side] = find_defects(result.normals, None, depth, DefectSettings(work_side=work_side),
                                       result.residual, result.albedo, used_fraction=result.used_fraction)
    full, binned = maps[0], maps[150]
    assert (full.factor, binned.factor) == (1, 2)
    assert binned.mask.shape == (400, 300) and binned.deviation.shape == (200, 150)
    assert binned.mask.sum() == sum(r.area_px for r in binned.regions)
    pairing = match([r.bbox for r in full.regions], [r.bbox for r in binned.regions])
    assert len(binned.regions) == len(full.regions) == len(pairing.pairs) >= 4
    for i, j in pairing.pairs:
        a, b = full.regions[i], binned.regions[j]
        assert a.kind == b.kind
        assert np.abs(np.subtract(a.bbox, b.bbox)).max() <= 4, (a.bbox, b.bbox)
        assert abs(a.area_px - b.area_px) <= 0.25 * a.area_px
        assert abs(a.depth_px - b.depth_px) <= 0.15 * abs(a.depth_px) + 0.05
    assert abs(full.integrity - binned.integrity) <= 2.0
    summary = binned.summary()
    assert summary["working_size"] == [150, 200] and "means of 2 x 2 pixels" in summary["defect_definition"]
    assert "working_size" in full.summary() and "means of" not in full.summary()["defect_definition"]


def test_the_deviation_is_exact_at_the_small_angles_noise_makes():
    """Angles between unit normals from 0.001 to 60 degrees, against float64: within 3e-4 of themselves
    (an arccosine of a float32 cosine is off by up to 30 % at 0.2 degrees)."""
    from cardgrader.photometric.defects import _deviation

    rng = np.random.default_rng(3)
    truth_deg = np.geomspace(1e-3, 60.0, 4000)
    a = rng.normal(size=(4000, 3))
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    turn = np.cross(a, rng.normal(size=(4000, 3)))
    turn /= np.linalg.norm(turn, axis=1, keepdims=True)
    angle = np.radians(truth_deg)[:, None]
    b = a * np.cos(angle) + np.cross(turn, a) * np.sin(angle)  # a turned by `angle` about `turn` (turn . a = 0)
    got = _deviation(a.astype(np.float32).reshape(1, -1, 3), b.astype(np.float32).reshape(1, -1, 3), None).ravel()
    exact = np.degrees(2 * np.arctan2(np.linalg.norm(a.astype(np.float32) - b.astype(np.float32), axis=1),
                                      np.linalg.norm(a.astype(np.float32) + b.astype(np.float32), axis=1)))
    assert np.max(np.abs(got - exact) / exact) < 3e-4
    assert np.max(np.abs(got - truth_deg) / truth_deg) < 5e-3  # float32 normals hold the angle itself this well


@pytest.mark.parametrize("seed", range(6))
def test_groups_and_their_boxes_are_opencvs_whatever_the_shapes(seed):
    """`components` takes the boxes from the groups' outer borders: the same labels and boxes as OpenCV's
    statistics pass, for groups at the window's edge, with holes and with islands in their holes, and
    past FEW_GROUPS groups (where it uses that pass)."""
    import cv2

    from cardgrader.photometric.defect_evidence import FEW_GROUPS, components

    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(40, 300)), int(rng.integers(40, 300))
    image = cv2.dilate((rng.random((h, w)) < 0.004).astype(np.uint8),
                       cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (int(rng.integers(3, 25)),) * 2))
    image[:, 0] = 1  # a group along the edges
    cv2.rectangle(image, (10, 10), (38, 38), 1, 2)  # a ring ...
    image[20:28, 20:28] = 1  # ... with an island in its hole
    if seed == 5:
        image = (rng.random((h, w)) < 0.3).astype(np.uint8)  # specks by the thousand
    count, labels, stats, _ = cv2.connectedComponentsWithStats(image, connectivity=8)
    assert (count - 1 > FEW_GROUPS) == (seed == 5)
    got_count, got_labels, boxes = components(image.astype(bool))
    assert got_count == count
    assert np.array_equal(got_labels, labels)
    assert np.array_equal(boxes[1:], stats[1:, :4])
