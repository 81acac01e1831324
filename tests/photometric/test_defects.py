"""The defect map finds planted dents, scratches and creases, and leaves a clean card alone."""

from __future__ import annotations

import numpy as np
import pytest

from cardgrader.photometric import solve, synthetic
from cardgrader.photometric.defects import find_defects, integrity_score
from cardgrader.photometric.depth import integrate
from cardgrader.photometric.matching import match, same_defect

RING = synthetic.ring_lights(8, 35, 10)
HARD = np.vstack([synthetic.ring_lights(8, 12, 0), synthetic.ring_lights(6, 30, 20), synthetic.ring_lights(6, 78, 30)])


def defect_map(card, lights, method, **render):
    capture = synthetic.render(card.height, card.normals, card.mask, lights, albedo=card.albedo, **render)
    normals = solve(capture.images, capture.directions, method).normals
    return find_defects(normals, None, integrate(normals))


@pytest.mark.parametrize("method, lights, render", [
    ("l2", RING, dict(noise=0.005)),
    ("robust", RING, dict(noise=0.01)),
    ("robust", HARD, dict(noise=0.005, specular=2.0, roughness=0.3)),
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
