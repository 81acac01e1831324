"""LabelMe / X-AnyLabeling JSON: one file per image with `shapes`, `imagePath`, `imageWidth`, `imageHeight`.

Polygons and rectangles (two opposite corners, or four corners) are read; X-AnyLabeling's `rotation`
shapes (four corners) are oriented boxes. Circles, lines and points are reported and skipped.
"""

from __future__ import annotations

import json
from pathlib import Path

from cardgrader.data.geometry import bounds, box_corners
from cardgrader.data.model import BOX, ERROR, OBB, POLYGON, WARNING, Finding, Shape
from cardgrader.data.readers.annotation import Annotation, unreadable


def read(path: str | Path, names: list[str] | None = None) -> Annotation:
    name = str(path)
    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read().decode("utf-8-sig"))
    except OSError as exc:
        return unreadable(name, "LabelMe JSON", exc.strerror or type(exc).__name__)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return unreadable(name, "LabelMe JSON", f"not valid JSON: {getattr(exc, 'msg', exc)}")
    if not isinstance(data, dict) or not isinstance(data.get("shapes"), list):
        return unreadable(name, "LabelMe JSON", "it has no list of 'shapes'")
    out = Annotation(normalised=False, image_ref=data.get("imagePath") or None)
    try:
        out.size = (int(data["imageWidth"]), int(data["imageHeight"]))
    except (KeyError, TypeError, ValueError):
        out.size = None
    for index, item in enumerate(data["shapes"], 1):
        if not isinstance(item, dict):
            continue
        label = str(item.get("label") or "").strip()
        ref = f"shape {index} ('{label}')"
        kind = item.get("shape_type") or "polygon"
        try:
            points = [[float(x), float(y)] for x, y in item.get("points") or []]
        except (TypeError, ValueError):
            out.findings.append(Finding(ERROR, name, f"Shape {index} ('{label}') in {name} has points that are not "
                                                     "x, y numbers; redraw it.", "malformed_shape"))
            continue
        if not label:
            out.findings.append(Finding(ERROR, name, f"Shape {index} in {name} has no label; give it a class.",
                                        "missing_class"))
            continue
        if kind == "polygon":
            out.shapes.append(Shape(POLYGON, label, points, ref=ref))
        elif kind == "rectangle" and len(points) >= 2:
            out.shapes.append(Shape(BOX, label, box_corners(*bounds(points)), ref=ref))
        elif kind == "rotation" and len(points) == 4:
            out.shapes.append(Shape(OBB, label, points, ref=ref))
        else:
            out.findings.append(Finding(
                WARNING, name, f"Shape {index} ('{label}') in {name} is a {kind} with {len(points)} points, which "
                               "cardgrader does not train on; redraw it as a polygon or rectangle.",
                "unsupported_shape"))
    return out
