"""Pascal VOC XML (LabelImg, CVAT, Roboflow exports): one `<annotation>` per image.

`<bndbox>` corners are read as pixel coordinates as the labelling tools write them (LabelImg, CVAT).
roLabelImg's `<robndbox>` (centre, size, angle in radians) is read as an oriented box. `difficult`
and `truncated` flags are kept on the shape.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

from cardgrader.data.geometry import box_corners
from cardgrader.data.model import BOX, ERROR, OBB, WARNING, Finding, Shape
from cardgrader.data.readers.annotation import Annotation, unreadable


def read(path: str | Path, names: list[str] | None = None) -> Annotation:
    name = str(path)
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        return unreadable(name, "Pascal VOC XML", f"XML error at line {exc.position[0]}")
    except OSError as exc:
        return unreadable(name, "Pascal VOC XML", exc.strerror or type(exc).__name__)
    if root.tag != "annotation":
        return unreadable(name, "Pascal VOC XML", f"its root element is <{root.tag}>, not <annotation>")
    out = Annotation(normalised=False, image_ref=(root.findtext("filename") or "").strip() or None)
    size = root.find("size")
    if size is not None:
        try:
            out.size = (int(float(size.findtext("width"))), int(float(size.findtext("height"))))
        except (TypeError, ValueError):
            out.size = None
        if out.size and min(out.size) <= 0:
            out.size = None
    for index, obj in enumerate(root.iter("object"), 1):
        label = (obj.findtext("name") or "").strip()
        ref = f"object {index} ('{label}')"
        if not label:
            out.findings.append(Finding(ERROR, name, f"Object {index} in {name} has no <name>; give it a class.",
                                        "missing_class"))
            continue
        shape = _shape(obj, label, ref)
        if shape is None:
            out.findings.append(Finding(ERROR, name, f"{ref[0].upper()}{ref[1:]} in {name} has no readable <bndbox> "
                                                     "(xmin, ymin, xmax, ymax); redraw it.", "malformed_shape"))
            continue
        shape.difficult = _flag(obj, "difficult")
        shape.truncated = _flag(obj, "truncated")
        out.shapes.append(shape)
    if not out.shapes and not out.findings:
        out.findings.append(Finding(WARNING, name, f"{name} has no objects; its image is kept as a background (an "
                                                   "example with nothing to find).", "no_objects"))
    return out


def _shape(obj: ET.Element, label: str, ref: str) -> Shape | None:
    box = obj.find("bndbox")
    rbox = obj.find("robndbox")
    try:
        if box is not None:
            x0, y0, x1, y1 = (float(box.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax"))
            return Shape(BOX, label, box_corners(x0, y0, x1, y1), ref=ref)
        if rbox is not None:
            cx, cy, w, h, angle = (float(rbox.findtext(k)) for k in ("cx", "cy", "w", "h", "angle"))
            c, s = math.cos(angle), math.sin(angle)
            corners = [[cx + dx * c - dy * s, cy + dx * s + dy * c]
                       for dx, dy in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2))]
            return Shape(OBB, label, corners, ref=ref)
    except (TypeError, ValueError):
        return None
    return None


def _flag(obj: ET.Element, tag: str) -> bool:
    return (obj.findtext(tag) or "0").strip() not in ("0", "", "false", "False")
