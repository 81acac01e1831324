"""A border model against the card outline photometric stereo sees (`perimeter.find_outline`).

Only the outer border is physical: the model's outer_border boxes are matched to the outline's box by
intersection over union (at least `OUTLINE_MIN_IOU`, COCO's strict threshold), and the best one's gap to
the card's edge is measured per side. The inner border is the edge of the print, ink on a flat face: the
normals do not change there, so inner_border detections are reported as not assessed.
"""

from __future__ import annotations

from cardgrader.data.cards import EDGES
from cardgrader.models.predict import Detection
from cardgrader.photometric.matching import at_least_iou, overlap
from cardgrader.photometric.perimeter import EDGE_TILT_DEG, STEP_TILT_DEG, CardOutline
from cardgrader.photometric.validate_compare import Comparison, Evidence, compare
from cardgrader.vocabulary import OUTER_BORDER

OUTLINE_MIN_IOU = 0.75
OUTLINE_DEFINITION = (
    "the card's pixels: the capture's mask.png when it marks less than the whole frame; else the largest region "
    f"a closed band of the cut edge's step encloses (normals turned at least {EDGE_TILT_DEG:.0f} deg from the camera "
    f"axis, or {STEP_TILT_DEG:.0f} deg where the albedo has an edge too), the edge being the band's middle")
INNER_REASON = ("The inner border is the edge of the print, ink on a flat face: photometric stereo sees no relief "
                "there, so inner_border detections are not assessed.")
NO_OUTLINE_REASON = "Photometric stereo found no card outline to check them against: {}"


def gap_px(box: list[float], outline: CardOutline) -> dict[str, float | None]:
    """Per side, how far the model's box reaches beyond the card's edge (negative: it stops short), in
    pixels; None on a side where the card runs off the frame. The outline's pixels [x0..x1] span the
    pixel edges x0 to x1 + 1, as a model's box does."""
    x0, y0, x1, y1 = outline.box
    gaps = {"top": y0 - box[1], "right": box[2] - (x1 + 1), "bottom": box[3] - (y1 + 1), "left": x0 - box[0]}
    return {side: None if side in outline.off_frame else round(float(gaps[side]), 1) for side in EDGES}


def compare_border(detections: list[Detection], outline: CardOutline | None, no_outline: str = "") -> Comparison:
    outer = [d for d in detections if d.class_name == OUTER_BORDER]
    others = [d for d in detections if d.class_name != OUTER_BORDER]
    definitions = {
        "precision": f"share of the model's outer_border detections whose box has IoU >= {OUTLINE_MIN_IOU} with the "
                     "card outline's box",
        "recall": f"1 when an outer_border detection matches the card outline (IoU >= {OUTLINE_MIN_IOU}), else 0",
        "card_outline": OUTLINE_DEFINITION,
        "gap_px": "per side, the edge of the outer_border box with the highest IoU (measured_box) minus the card "
                  "outline's edge, in capture pixels, positive where the box reaches beyond the card; null where the "
                  "card runs off the frame",
        "inner_border": INNER_REASON,
    }
    name = ("card outline", "card outlines")
    if outline is None:
        return compare("border", name, [], [], definitions, not_assessed=outer + others,
                       not_assessed_reason=NO_OUTLINE_REASON.format(no_outline),
                       extra={"outline": None, "outline_note": no_outline, "iou": None, "gap_px": None,
                              "measured_box": None},
                       detections_name="outer_border detections assessed")
    record = {"kind": "card outline", "bbox": outline.box, **outline.to_json()}
    evidence = [Evidence(outline.box, "card outline", record)]
    best = max(outer, key=lambda d: overlap(d.box, outline.box)[0], default=None)
    iou = None if best is None else round(overlap(best.box, outline.box)[0], 4)
    gaps = None if best is None else gap_px(best.box, outline)
    if gaps is None:
        note = f"Card outline from the {outline.source}: box {outline.box}; no outer_border detection to measure."
    else:
        sides = ", ".join(f"{side} {'off frame' if v is None else f'{v:+.1f}'}" for side, v in gaps.items())
        note = (f"Card outline from the {outline.source}: box {outline.box}; the closest outer_border box has IoU "
                f"{iou:.2f}, its edges off the card's by {sides} px (+ outside the card).")
    return compare("border", name, outer, evidence, definitions, at_least_iou(OUTLINE_MIN_IOU),
                   not_assessed=others, not_assessed_reason=INNER_REASON if others else "",
                   extra={"outline": outline.to_json(), "iou": iou, "gap_px": gaps,
                          "measured_box": None if best is None else best.box},
                   detections_name="outer_border detections", notes=[note])
