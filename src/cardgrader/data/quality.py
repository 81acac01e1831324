"""A 0–100 quality score with its parts shown, and what a grader could do to raise it."""

from __future__ import annotations

import math
from collections import Counter

from cardgrader.data.model import ERROR, Finding, Quality, QualityComponent, plural

WEIGHTS = {"integrity": 25, "labels": 25, "coverage": 15, "balance": 15, "uniqueness": 10, "quantity": 10}
TARGET_IMAGES = 500  # labelled photos at which "quantity" is full marks
IMAGE_ERRORS = {"unreadable_image", "empty_image", "truncated_image", "not_an_image", "tiny_image"}
SHAPE_ERRORS = {"degenerate_shape", "coords_out_of_range", "class_out_of_range", "malformed_row", "malformed_shape",
                "bad_class_id", "missing_class", "unreadable_label"}


NO_IMAGES = ("No card photos were found, so there is nothing to score or train on: drop the folder that holds "
             "your photos (JPEG, PNG, TIFF, BMP or WebP) and their labels.")


def score(counts: dict, findings: list[Finding]) -> Quality:
    """The score and its parts; no score at all (None) for sources without a single image."""
    if not counts["images"]:
        return Quality(None, {})
    codes = Counter(f.code for f in findings)
    images = max(1, counts["images"])
    shapes = counts["shapes"]
    bad_shapes = sum(codes[c] for c in SHAPE_ERRORS)
    bad_images = sum(codes[c] for c in IMAGE_ERRORS)
    usable = max(1, counts["usable"])
    labelled = counts["labelled"]
    class_values = [v for v in counts["classes"].values()]
    class_balance = min(class_values) / max(class_values) if class_values and max(class_values) else 0.0
    sides = [v for k, v in counts["sides"].items() if k != "unknown"]
    side_balance = min(sides) / max(sides) if len(sides) == 2 else 1.0
    parts = {
        "integrity": (1 - bad_images / images, f"{images - bad_images} of {counts['images']} images read cleanly"),
        "labels": (shapes / max(1, shapes + bad_shapes), f"{shapes} of {shapes + bad_shapes} labels are usable"),
        "coverage": (min(1.0, labelled / usable / 0.9), f"{labelled} of {counts['usable']} usable images have labels"),
        "balance": ((class_balance + side_balance) / 2,
                    f"smallest class has {class_balance:.0%} of the largest; sides {side_balance:.0%}"),
        "uniqueness": (1 - counts["duplicates"] / usable, plural(counts["duplicates"], "duplicate photo")),
        "quantity": (min(1.0, math.log1p(labelled) / math.log1p(TARGET_IMAGES)),
                     f"{labelled} labelled photos (full marks at {TARGET_IMAGES})"),
    }
    components = {k: QualityComponent(round(100 * max(0.0, v), 1), WEIGHTS[k], d) for k, (v, d) in parts.items()}
    total = sum(c.score * c.weight for c in components.values()) / sum(WEIGHTS.values())
    return Quality(int(round(total)), components)


def recommendations(counts: dict, findings: list[Finding]) -> list[str]:
    if not counts["images"]:
        return [NO_IMAGES]
    codes = Counter(f.code for f in findings)
    errors = sum(1 for f in findings if f.severity == ERROR)
    files = len({f.file for f in findings if f.severity == ERROR and f.file})
    out = []
    if errors:
        out.append(f"Fix or remove the {plural(files or errors, 'file')} with errors "
                   "listed above; until then they are left out of training.")
    if codes["class_not_in_task"] or codes["no_task_classes"]:
        out.append("Map the unknown class names onto the task's classes in the class map, or they are left out.")
    if codes["class_missing"] or codes["class_imbalance"]:
        out.append("Label more examples of the rare classes named above; the model learns little from a handful.")
    if codes["side_imbalance"]:
        out.append("Add photos of the rarer side, or train one model per side with --side.")
    if counts["duplicates"]:
        out.append(f"Delete the {plural(counts['duplicates'], 'duplicate photo')}; "
                   "they add no information and weigh some cards twice.")
    if codes["listed_in_several_splits"]:
        out.append("Give each split its own images in the data.yaml, so validation scores photos the model has not "
                   "seen; meanwhile import keeps each image listed twice in one split.")
    if codes["exif_rotated"]:
        out.append("Save the EXIF-rotated photos upright (most photo tools can) so labels and pixels agree everywhere.")
    if codes["coords_clipped"]:
        out.append("Some labels reach past the image edge; import clips them, but check them in your labelling tool.")
    if 0 < counts["labelled"] < 200:
        out.append(f"{counts['labelled']} labelled photos is few for a reliable model; aim for 200 or more per side, "
                   "with varied lighting and backgrounds.")
    if not out:
        out.append("The data looks ready to train.")
    return out
