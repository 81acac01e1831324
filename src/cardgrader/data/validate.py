"""The checks: each shape on its own (`check_shapes`, run by the readers' workers) and the dataset as a
whole (`dataset_checks`: duplicates, classes against the task, class and side balance, backgrounds)."""

from __future__ import annotations

from collections import Counter, defaultdict

from cardgrader.data import imagefile
from cardgrader.data.classmap import ClassMap
from cardgrader.data.geometry import area
from cardgrader.data.model import BOX, ERROR, INFO, POLYGON, WARNING, Finding, ImageItem, Shape, SourceInfo, plural

# How far past an edge a label may reach, as a share of the image size, and still be clipped to it: 2 %
# covers rounding and a box drawn a few pixels too wide; a coordinate beyond it is a wrong label (pixels in
# a normalised file, a swapped or mistyped field), an error as in Ultralytics, which rejects out-of-range
# coordinates. One rule for every format: box edges (x±w/2), polygon points and oriented-box corners, in
# YOLO fractions or in pixels converted to fractions (COCO, VOC, LabelMe).
EDGE_TOLERANCE = 0.02
BALANCE_RATIO = 0.25  # a class (or side) with under a quarter of the largest one's examples is flagged
BACKGROUND_SHARE = 0.5


def _line(shape: Shape) -> int | None:
    return int(shape.ref.split()[1]) if shape.ref.startswith("line ") else None


def _where(shape: Shape, file: str) -> str:
    return f"{shape.ref[:1].upper()}{shape.ref[1:]} in {file}" if shape.ref else f"A shape in {file}"


def _degenerate(shape: Shape, box: tuple[float, float, float, float], width: int, height: int) -> str | None:
    n = len(shape.points)
    if shape.kind == POLYGON and n < 3:
        return f"is a polygon of only {plural(n, 'point')} (a polygon needs at least 3)"
    x0, y0, x1, y1 = box
    if (x1 - x0) * width < 1 or (y1 - y0) * height < 1:
        return "has no width or height (under one pixel)"
    if shape.kind != BOX and area(shape.points, width, height) < 1:
        return "has no area (its points lie on a line)"
    return None


def check_shapes(shapes: list[Shape], width: int, height: int, file: str,
                 normalised: bool = True) -> tuple[list[Shape], list[Finding]]:
    """Shapes that can be trained on, and a finding for each that cannot or needs clipping. `normalised`
    says whether the file gave fractions of the image (YOLO) or pixels, so messages quote its own numbers."""
    kept: list[Shape] = []
    findings: list[Finding] = []
    for shape in shapes:
        box = shape.bounds()
        problem = _degenerate(shape, box, width, height)
        if problem:
            findings.append(Finding(ERROR, file, f"{_where(shape, file)} {problem}; redraw or delete it.",
                                    "degenerate_shape", _line(shape)))
            continue
        reach = _outside(shape)
        if reach is not None:
            finding = _edge_finding(shape, reach, width, height, file, normalised)
            if finding is not None:
                findings.append(finding)
                if finding.severity == ERROR:
                    continue
        kept.append(shape)
    return kept, findings


def _outside(shape: Shape) -> tuple[float, int, int] | None:
    """How far the shape's farthest coordinate lies outside 0..1, with that point's index and axis (0 x, 1 y)."""
    worst = None
    for index, point in enumerate(shape.points):
        for axis, value in enumerate(point):
            beyond = max(-value, value - 1)
            if beyond > 0 and (worst is None or beyond > worst[0]):
                worst = (beyond, index, axis)
    return worst


def _coordinate(shape: Shape, index: int, axis: int, normalised: bool) -> str:
    """The coordinate as the label file spells it: `x+w/2` of a YOLO box, a box edge, or a point's x or y."""
    if shape.kind == BOX:  # corners clockwise from top-left: x of 0 and 3 is the left edge, y of 0 and 1 the top
        low = index in ((0, 3), (0, 1))[axis]
        if normalised:
            return f"{'xy'[axis]}{'-' if low else '+'}{'wh'[axis]}/2"
        return f"the {(('right', 'left'), ('bottom', 'top'))[axis][low]} edge {'xy'[axis]}"
    return f"point {index + 1}'s {'xy'[axis]}"


def _edge_finding(shape: Shape, reach: tuple[float, int, int], width: int, height: int, file: str,
                  normalised: bool) -> Finding | None:
    """None within a pixel of the edge (rounding), a warning within `EDGE_TOLERANCE` (clipped), else an error."""
    beyond, index, axis = reach
    size = (width, height)[axis]
    if round(beyond * size, 6) <= 1:  # rounded: 0.9975 + 0.015 / 2 is a hair over 1.005
        return None
    value = shape.points[index][axis]
    high = value > 1
    limit = 1 + EDGE_TOLERANCE if high else -EDGE_TOLERANCE
    scale, unit = (1, "") if normalised else (size, " px")
    quoted = f"{_coordinate(shape, index, axis, normalised)} = {_number(value * scale)}{unit}"
    where = f"{file} {shape.ref}" if shape.ref else f"A shape in {file}"
    if beyond <= EDGE_TOLERANCE:
        return Finding(WARNING, file, f"{where}: {quoted} reaches past the image edge; clipping to the edge fixes "
                                      "it, and import does so.", "coords_clipped", _line(shape))
    if not normalised:
        hint = "a label drawn on another image, or the wrong image size in the file?"
    elif max(abs(v) for point in shape.points for v in point) > 2:
        hint = "pixel coordinates in a normalised file? YOLO labels are fractions of the image size"
    else:
        hint = "a mistyped value, or fields in the wrong order?"
    return Finding(ERROR, file, f"{where}: {quoted} is outside the image (allowed {'up' if high else 'down'} to "
                                f"{_number(limit * scale)}{unit}; {hint}); correct the label.", "coords_out_of_range",
                   _line(shape))


def _number(value: float) -> str:
    return f"{round(value, 4):g}"


def dataset_checks(items: list[ImageItem], sources: list[SourceInfo], task_classes: list[str] | None,
                   border: str, class_map: ClassMap, task: str | None = None) -> tuple[list[Finding], dict]:
    """Findings about the whole dataset, and the counts the report shows."""
    findings: list[Finding] = []
    usable = [i for i in items if i.usable]
    findings += _duplicates(usable)
    classes, left_out = _class_counts(usable, sources, task_classes, class_map)
    if task_classes is not None:
        findings += _task_classes(classes, left_out, task_classes, task or "chosen", border, class_map)
    findings += _balance(classes, usable)
    backgrounds = [i for i in usable if not i.shapes]
    if usable and not any(i.shapes for i in usable):
        findings.append(Finding(ERROR, "", f"None of the {len(usable)} usable images has a label; label them (e.g. "
                                           "with LabelImg or X-AnyLabeling) or add their label files.", "no_labels"))
    elif backgrounds:
        share = len(backgrounds) / len(usable)
        verb = "has" if len(backgrounds) == 1 else "have"
        advice = ("; that is over half, so check that their label files were not lost."
                  if share > BACKGROUND_SHARE else ".")
        findings.append(Finding(WARNING if share > BACKGROUND_SHARE else INFO, "",
                                f"{len(backgrounds)} of {len(usable)} images {verb} no labels; they are kept as "
                                f"backgrounds (examples with nothing to find){advice}", "backgrounds"))
    counts = {
        "images": len(items),
        "usable": len(usable),
        "labelled": sum(1 for i in usable if i.shapes),
        "backgrounds": len(backgrounds),
        "shapes": sum(len(i.shapes) for i in usable),
        "classes": dict(classes),
        "left_out_classes": dict(left_out),
        "kinds": dict(Counter(s.kind for i in usable for s in i.shapes)),
        "sides": dict(Counter(i.side or "unknown" for i in usable)),
        "splits": dict(Counter(i.split or "none" for i in usable)),
        "duplicates": sum(1 for f in findings if f.code in ("duplicate_image", "duplicate_across_splits")),
    }
    return findings, counts


def _confirmed(group: list[ImageItem]) -> list[list[ImageItem]]:
    """Split items that share a fast content key into groups of truly identical bytes; items of a group
    that differs from the first get their own key, so equal keys always mean identical photos."""
    paths = list(dict.fromkeys(i.image for i in group))
    if len(paths) == 1:
        return [group]
    clusters = []
    for number, same in enumerate(imagefile.same_bytes(paths)):
        members = [i for i in group if i.image in same]
        for item in members if number else []:
            item.digest = f"{item.digest}#{number}"
        clusters.append(members)
    return clusters


def _listed_twice(item: ImageItem) -> Finding:
    """One image the source lists in several splits (a data.yaml whose val is its train folder): read once,
    reported once, and not a duplicate photo."""
    splits = [item.split or "", *item.also_in]
    named = f"both {splits[0]} and {splits[1]}" if len(splits) == 2 else f"{', '.join(splits[:-1])} and {splits[-1]}"
    return Finding(WARNING, item.image, f"{item.image} is listed in {named}, so validation would score an image the "
                                        "model trained on; import keeps it once, in one split.",
                   "listed_in_several_splits", splits=splits)


def _duplicates(items: list[ImageItem]) -> list[Finding]:
    groups: dict[str, list[ImageItem]] = defaultdict(list)
    for item in items:
        if item.digest:
            groups[item.digest].append(item)
    out = [_listed_twice(item) for item in items if item.also_in]
    for group in (c for g in groups.values() if len(g) > 1 for c in _confirmed(g)):
        first = group[0]
        for other in group[1:]:
            if other.image == first.image:
                out.append(Finding(WARNING, other.image, f"{other.image} is listed in both {first.split} and "
                                                         f"{other.split}, so validation would score an image the model "
                                                         "trained on; import keeps it once, in one split.",
                                   "duplicate_across_splits"))
            elif other.split and first.split and other.split != first.split:
                out.append(Finding(WARNING, other.image, f"{other.image} ({other.split}) is the same photo as "
                                                         f"{first.image} ({first.split}), so validation would score an "
                                                         "image the model trained on; import keeps both in one split.",
                                   "duplicate_across_splits"))
            else:
                out.append(Finding(WARNING, other.image, f"{other.image} is the same photo as {first.image} (identical "
                                                         "bytes); delete one, or import keeps both in one split.",
                                   "duplicate_image"))
    return out


def _class_counts(items: list[ImageItem], sources: list[SourceInfo], task_classes: list[str] | None,
                  class_map: ClassMap) -> tuple[Counter, Counter]:
    """Shapes per class: the task's classes when a task is given (with the labels left out), else source names."""
    classes: Counter = Counter({c: 0 for c in task_classes or []})
    left_out: Counter = Counter()
    for item in items:
        numbered = sources[item.source].names is None
        for shape in item.shapes:
            if task_classes is None:
                classes[shape.label] += 1
                continue
            target = class_map.resolve(shape.label, task_classes, numbered)
            (classes if target else left_out)[target or shape.label] += 1
    return classes, left_out


def _task_classes(classes: Counter, left_out: Counter, task_classes: list[str], task: str, border: str,
                  class_map: ClassMap) -> list[Finding]:
    out = []
    if left_out and not sum(classes.values()):
        return [Finding(ERROR, "", f"None of the classes in the data ({', '.join(sorted(left_out))}) is one of the "
                                   f"{task} classes ({', '.join(task_classes)}); map them in the class map or import "
                                   "for another task.", "no_task_classes")]
    reasons: dict[str, list[str]] = defaultdict(list)
    for label, count in sorted(left_out.items()):
        reasons[class_map.why_left_out(label, task_classes, border)].append(f"{label} ({count})")
    if reasons.get("unknown"):
        many = len(reasons["unknown"]) > 1
        out.append(Finding(WARNING, "", f"Class{'es' if many else ''} {', '.join(reasons['unknown'])} "
                                        f"{'are' if many else 'is'} not among the {task} classes "
                                        f"({', '.join(task_classes)}) and will be left out; map "
                                        f"{'them' if many else 'it'} in the class map (e.g. card → outer_border) "
                                        "to keep the labels.", "class_not_in_task"))
    for why, text in (("border", f"left out for border type '{border}'"),
                      ("other_task", f"belong to other tasks than {task} and are left out"),
                      ("dropped", "are dropped by the class map")):
        if reasons.get(why):
            out.append(Finding(INFO, "", f"Labels {', '.join(reasons[why])} {text}.", f"classes_{why}"))
    return out


def _balance(classes: Counter, items: list[ImageItem]) -> list[Finding]:
    out = []
    if classes:
        top, most = classes.most_common(1)[0]
        for name, count in sorted(classes.items()):
            if most and count == 0:
                out.append(Finding(WARNING, "", f"There are no {name} examples, so the model cannot learn {name}; "
                                                "label some or train without that class.", "class_missing"))
            elif most and count / most < BALANCE_RATIO:
                out.append(Finding(WARNING, "", f"{name} has {count} examples against {most} of {top}; label more "
                                                f"{name} for a balanced model.", "class_imbalance"))
    sides = Counter(i.side for i in items if i.side)
    if len(sides) == 2 and min(sides.values()) / max(sides.values()) < BALANCE_RATIO:
        few, many = sorted(sides, key=sides.get)
        out.append(Finding(WARNING, "", f"Only {sides[few]} {few} photos against {sides[many]} {many}; add {few} "
                                        f"photos or train a {many}-only model.", "side_imbalance"))
    elif items and not sides:
        out.append(Finding(INFO, "", "No file or folder name says front or back, so sides cannot be balanced; name "
                                     "them (e.g. fronts/, backs/ or card_001_back.jpg) to use --side.", "side_unknown"))
    return out
