"""Corners and edges models against the damage photometric stereo sees at the card's perimeter
(`perimeter.perimeter_findings`: the outline departing from the ideal card, and relief near the edge).

Corners: each of the card's four corners is damaged when a finding lies in its zone, else sharp. The
model's corner_worn boxes are its claims of damage: supported on a damaged corner (IoU with the corner's
box at least `matching.MIN_IOU`: the corner classes label that box, so a box around the whole card is no
corner claim), and a damaged corner is found when a corner_worn box is on it. Its corner_sharp boxes say
"no damage here"; with the worn ones they give, per corner, the model's state (its most confident box
there), compared with PS in `kind_agreement` and the `corners` table.

Edges: each finding along a side (not in a corner's zone) is a damaged stretch of edge; the model's
edge_wear boxes are matched to them by the overlap rule of `matching`, when they are edge claims at all:
centred within `CORNER_BOX` of the card's width from its edge (the strip the corners' squares span).
"""

from __future__ import annotations

from cardgrader.data.cards import CORNER_BOX, CORNER_RADIUS, CORNERS
from cardgrader.models.predict import Detection
from cardgrader.photometric import perimeter
from cardgrader.photometric.matching import (
    MIN_IOU,
    SAME_DEFECT_DEFINITION,
    at_least_iou,
    same_defect,
)
from cardgrader.photometric.perimeter import CardOutline, PerimeterFinding
from cardgrader.photometric.validate_compare import Comparison, Evidence, compare
from cardgrader.vocabulary import TASK_CLASSES

CORNER_SHARP, CORNER_WORN = TASK_CLASSES["corners"]
[EDGE_WEAR] = TASK_CLASSES["edges"]
NO_OUTLINE_REASON = "Without the card's outline photometric stereo cannot tell where its perimeter is: {}"
DAMAGE_DEFINITION = (
    f"the outline departing from the ideal card (four sides fitted to it, corners rounded {CORNER_RADIUS} of its "
    f"width) by at least max({perimeter.DEPART_MIN_PX:.0f} px, {perimeter.DEPART_SHARE} of the width), or a PS "
    f"defect region centred within {perimeter.PERIMETER_BAND} of the width of the edge")


CORNERS_NAME = ("damaged corner", "damaged corners")
EDGES_NAME = ("damaged stretch of edge", "damaged stretches of edge")


def _no_outline(kind: str, name: tuple[str, str], detections: list[Detection], definitions: dict,
                note: str) -> Comparison:
    return compare(kind, name, [], [], definitions, not_assessed=detections,
                   not_assessed_reason=NO_OUTLINE_REASON.format(note), extra={"outline": None, "outline_note": note},
                   detections_name="detections assessed")


def compare_corners(detections: list[Detection], outline: CardOutline | None, findings: list[PerimeterFinding],
                    no_outline: str = "") -> Comparison:
    definitions = {
        "precision": "share of the model's corner_worn detections on a corner where photometric stereo sees damage",
        "recall": "share of the corners where photometric stereo sees damage that a corner_worn detection is on",
        "corner": f"the square {CORNER_BOX} of the card's width along both sides from the corner (the corner box the "
                  f"corner classes label); a detection is on a corner when its IoU with that square is >= {MIN_IOU}",
        "damage": DAMAGE_DEFINITION,
        "kind_agreement": "share of the corners the model boxed where its state (the most confident box there, sharp "
                          "or worn) is photometric stereo's",
    }
    on_corner = at_least_iou(MIN_IOU)
    corner_boxes = [d for d in detections if d.class_name in (CORNER_SHARP, CORNER_WORN)]
    if outline is None:
        return _no_outline("corners", CORNERS_NAME, corner_boxes, definitions, no_outline)
    worn = [d for d in corner_boxes if d.class_name == CORNER_WORN]
    table, evidence, agree, boxed = [], [], 0, 0
    for k, name in enumerate(CORNERS):
        zone = outline.corner_box(k)
        here = [f.to_json() for f in findings if f.where == name]
        state = "worn" if here else "sharp"
        at = [d for d in corner_boxes if on_corner(d.box, zone)]
        best = max(at, key=lambda d: d.confidence, default=None)
        model_state = None if best is None else ("worn" if best.class_name == CORNER_WORN else "sharp")
        if best is not None:
            boxed += 1
            agree += model_state == state
        table.append({"corner": name, "ps": state, "model": model_state,
                      "confidence": None if best is None else round(best.confidence, 4), "box": zone, "findings": here})
        if here:
            evidence.append(Evidence(zone, f"{name} worn", {"kind": "damaged corner", "corner": name, "bbox": zone,
                                                            "findings": here}))
    extra = {"outline": outline.to_json(), "corners": table,
             "perimeter_findings": [f.to_json() for f in findings]}
    states = ", ".join(f"{row['corner']} {row['ps']}/{row['model'] or 'none'}" for row in table)
    return compare("corners", CORNERS_NAME, worn, evidence, definitions, on_corner,
                   kind_agreement=round(agree / boxed, 4) if boxed else None,
                   detections_name="corner_worn detections", notes=[f"Corners, PS/model: {states}."],
                   not_assessed=[d for d in detections if d not in corner_boxes],
                   not_assessed_reason="" if len(corner_boxes) == len(detections) else
                   "Only corner_sharp and corner_worn detections are corner claims photometric stereo can check.",
                   extra=extra)


def compare_edges(detections: list[Detection], outline: CardOutline | None, findings: list[PerimeterFinding],
                  no_outline: str = "") -> Comparison:
    definitions = {
        "precision": "share of the model's edge_wear detections that overlap damage photometric stereo sees along "
                     "an edge",
        "recall": "share of the damaged stretches of edge that overlap an edge_wear detection",
        "edge": f"along a side, outside the corners' squares ({CORNER_BOX} of the card's width along both sides)",
        "damage": DAMAGE_DEFINITION,
        "overlap": f"{SAME_DEFECT_DEFINITION}, for an edge_wear box centred within {CORNER_BOX} of the card's width "
                   "of its edge",
    }
    wear = [d for d in detections if d.class_name == EDGE_WEAR]
    if outline is None:
        return _no_outline("edges", EDGES_NAME, wear, definitions, no_outline)
    depth = CORNER_BOX * outline.width_px

    def on_edge(box, finding_box) -> bool:
        centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
        return outline.distance_to_edge(centre) <= depth and same_defect(box, finding_box)

    along = [f for f in findings if not f.at_corner]
    evidence = [Evidence(f.bbox, f"{f.where} edge", {"kind": "damaged edge", **f.to_json()}) for f in along]
    places = ", ".join(f"{f.where} ({f.detail}, {f.depth_px:.1f} px)" for f in along) or "none"
    return compare("edges", EDGES_NAME, wear, evidence, definitions, on_edge,
                   detections_name="edge_wear detections", notes=[f"Damage along the edges: {places}."],
                   not_assessed=[d for d in detections if d.class_name != EDGE_WEAR],
                   not_assessed_reason="" if len(wear) == len(detections) else
                   "Only edge_wear detections are edge claims photometric stereo can check.",
                   extra={"outline": outline.to_json(), "perimeter_findings": [f.to_json() for f in findings]})
