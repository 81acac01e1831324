"""COCO JSON (CVAT, Roboflow, Label Studio exports): one file lists `images`, `annotations`, `categories`.

`bbox` is `[x, y, width, height]` in pixels from the top-left; `segmentation` is a list of polygons
`[x1, y1, x2, y2, …]` (the largest part of a multi-part object is kept) or an RLE mask, which cannot
be read here: its `bbox` is used instead and the report says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from cardgrader.data.geometry import area, box_corners
from cardgrader.data.model import BOX, ERROR, POLYGON, WARNING, Finding, Shape
from cardgrader.data.readers.annotation import Annotation


@dataclass
class CocoFile:
    path: Path
    names: list[str]
    images: list[tuple[str, Annotation]] = field(default_factory=list)  # (file_name, its annotation)
    findings: list[Finding] = field(default_factory=list)
    annotations: int = 0


def looks_like_coco(data: object) -> bool:
    return isinstance(data, dict) and isinstance(data.get("images"), list) and isinstance(data.get("annotations"), list)


def read(path: Path, data: dict | None = None) -> CocoFile:
    """Read a COCO file (`data` when it is already parsed); bad entries become findings, never exceptions."""
    name = str(path)
    if data is None:
        data = json.loads(Path(path).read_bytes().decode("utf-8-sig"))
    categories = {c.get("id"): str(c.get("name", c.get("id")))
                  for c in data.get("categories") or [] if isinstance(c, dict)}
    out = CocoFile(Path(path), list(categories.values()))
    by_id: dict[object, Annotation] = {}
    for entry in data["images"]:
        if not isinstance(entry, dict) or not entry.get("file_name"):
            continue
        ann = Annotation(normalised=False, image_ref=str(entry["file_name"]))
        try:
            ann.size = (int(entry["width"]), int(entry["height"]))
        except (KeyError, TypeError, ValueError):
            ann.size = None
        by_id[entry.get("id")] = ann
        out.images.append((str(entry["file_name"]), ann))
    for index, item in enumerate(data["annotations"], 1):
        if not isinstance(item, dict):
            continue
        out.annotations += 1
        ref = f"annotation {item.get('id', index)}"
        target = by_id.get(item.get("image_id"))
        if target is None:
            out.findings.append(Finding(ERROR, name, f"{ref[0].upper()}{ref[1:]} in {name} points to image id "
                                                     f"{item.get('image_id')!r}, which the file does not list; its "
                                                     "label is lost — export the dataset again.", "unknown_image_id"))
            continue
        if item.get("category_id") not in categories:
            target.findings.append(Finding(ERROR, name, f"{ref[0].upper()}{ref[1:]} in {name} uses category id "
                                                        f"{item.get('category_id')!r}, which 'categories' does not "
                                                        "define; add the category or fix the id.",
                                           "class_out_of_range"))
            continue
        label = categories[item["category_id"]]
        shape = _shape(item, label, f"{ref} ('{label}')", name, target)
        if shape is not None:
            target.shapes.append(shape)
    return out


def _shape(item: dict, label: str, ref: str, name: str, target: Annotation) -> Shape | None:
    seg = item.get("segmentation")
    if isinstance(seg, list) and seg and isinstance(seg[0], list):
        parts = [[[float(p[i]), float(p[i + 1])] for i in range(0, len(p) - 1, 2)] for p in seg if p]
        if parts:
            return Shape(POLYGON, label, max(parts, key=area), ref=ref)
    if isinstance(seg, list) and seg and not isinstance(seg[0], list):  # a single flat polygon
        return Shape(POLYGON, label, [[float(seg[i]), float(seg[i + 1])] for i in range(0, len(seg) - 1, 2)], ref=ref)
    rle = isinstance(seg, dict)
    bbox = item.get("bbox")
    try:
        x, y, w, h = (float(v) for v in bbox)
    except (TypeError, ValueError):
        what = "an RLE mask (which cardgrader cannot read) and no bbox" if rle else "no segmentation and no bbox"
        target.findings.append(Finding(ERROR, name, f"{ref[0].upper()}{ref[1:]} in {name} has {what}; export it "
                                                    "with polygons or boxes.", "malformed_shape"))
        return None
    if rle:
        target.findings.append(Finding(WARNING, name, f"{ref[0].upper()}{ref[1:]} in {name} is an RLE mask, which "
                                                      "cardgrader cannot read; its bounding box is used instead. "
                                                      "Export polygons to keep the outline.", "rle_unsupported"))
    return Shape(BOX, label, box_corners(x, y, x + w, y + h), ref=ref)
