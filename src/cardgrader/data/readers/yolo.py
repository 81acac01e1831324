"""YOLO label files: one object a row, normalised coordinates.

`class cx cy w h` is a box; `class x1 y1 x2 y2 …` (three or more points) a polygon; four points whose
corners are right angles an oriented box (Ultralytics OBB, `class x1 y1 … x4 y4`). Files may have a
byte-order mark and CRLF line ends.
"""

from __future__ import annotations

from pathlib import Path

from cardgrader.data.geometry import box_from_center
from cardgrader.data.model import BOX, ERROR, POLYGON, WARNING, Finding, Shape
from cardgrader.data.readers.annotation import Annotation, unreadable

ROW_HELP = "rows are `class x y w h` for a box or `class x1 y1 x2 y2 …` for a polygon"


def read(path: str | Path, names: list[str] | None) -> Annotation:
    name = str(path)
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8-sig")
    except OSError as exc:
        return unreadable(name, "a label file", exc.strerror or type(exc).__name__)
    except UnicodeDecodeError:
        return unreadable(name, "a label file", "it is not UTF-8 text")
    shapes: list[Shape] = []
    findings: list[Finding] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        try:
            values = list(map(float, parts))
        except ValueError:
            word = next(p for p in parts if not _is_number(p))
            findings.append(Finding(ERROR, name, f"Line {number} of {name} has '{word[:20]}' where a number should "
                                                 f"be; {ROW_HELP}.", "malformed_row", number))
            continue
        cls, coords = values[0], values[1:]
        if cls < 0 or cls != int(cls):
            findings.append(Finding(ERROR, name, f"Line {number} of {name} starts with class id {parts[0]}; class ids "
                                                 "are whole numbers counted from 0.", "bad_class_id", number))
            continue
        cid = int(cls)
        if len(coords) == 4:
            kind, points = BOX, box_from_center(*coords)
        elif len(coords) >= 6 and len(coords) % 2 == 0:
            kind, points = POLYGON, list(map(list, zip(coords[::2], coords[1::2])))
        else:
            findings.append(Finding(ERROR, name, f"Line {number} of {name} has {len(values)} numbers; {ROW_HELP}.",
                                    "malformed_row", number))
            continue
        if names is not None and cid >= len(names):
            findings.append(Finding(
                ERROR, name, f"Line {number} of {name} uses class id {cid}, but the dataset names only {len(names)} "
                             f"classes (ids 0–{len(names) - 1}); fix the id or add the class name.",
                "class_out_of_range", number))
            continue
        key = " ".join(parts)
        if key in seen:
            findings.append(Finding(WARNING, name, f"Line {number} of {name} repeats an earlier row; the copy is "
                                                   "ignored.", "duplicate_row", number))
            continue
        seen.add(key)
        label = names[cid] if names is not None else str(cid)
        quoted = key if len(key) <= 40 else key[:38] + "…"
        shapes.append(Shape(kind, label, points, class_id=cid, ref=f"line {number} ('{quoted}')"))
    kinds = {s.kind for s in shapes}
    if len(kinds) > 1:
        findings.append(Finding(WARNING, name, f"{name} mixes boxes and polygons; Ultralytics would reject it as it "
                                               "stands, import converts both to one kind.", "mixed_rows"))
    return Annotation(shapes, findings, normalised=True, four_point_obb=True)


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def write(path: str | Path, rows: list[tuple[int, list[float]]]) -> None:
    """Write label rows (`class` then coordinates) with six decimals: sub-pixel for images up to 10⁵ px."""
    lines = [f"{cls} " + " ".join(f"{v:.6f}" for v in coords) for cls, coords in rows]
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write("\n".join(lines) + ("\n" if lines else ""))
