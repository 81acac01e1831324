"""Read every image and its labels, in parallel: the per-file half of a check.

`scan(paths)` finds the sources, then reads each image (header, hash) and its annotation on a thread
pool, turning shapes into normalised coordinates and checking each one. The dataset-wide checks
(duplicates, classes, balance) are in `validate`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

from cardgrader.data import find, imagefile, readers, validate
from cardgrader.data.geometry import four_point_kind
from cardgrader.data.model import ERROR, POLYGON, WARNING, Finding, ImageItem, Shape, SourceInfo
from cardgrader.data.progress import ProgressFn, Reporter, parallel_map


@dataclass
class Scan:
    sources: list[SourceInfo]
    items: list[ImageItem]
    findings: list[Finding]
    found: list[find.Found] = field(default_factory=list)


def scan(paths: list[str | Path], progress: ProgressFn | None = None, cancel: threading.Event | None = None,
         workers: int | None = None, found: list[find.Found] | None = None) -> Scan:
    """Read what `paths` hold (`found`: their `find.find` result, when the caller already has it)."""
    report = Reporter(progress, cancel)
    report(0, 1, "Finding images and labels")
    found = found if found is not None else find.find(paths)
    tasks = [(t, f.by_name) for f in found for t in f.tasks]
    results = parallel_map(_read, tasks, report, "Reading images and labels", workers)
    findings = [x for f in found for x in f.findings]
    items: list[ImageItem] = []
    labelled = {item.image for item, _f in results if item is not None and item.label_file}
    for item, item_findings in results:
        findings += item_findings
        if item is not None and (item.label_file or item.image not in labelled):
            items.append(item)
    _say_what_others_cover(found, items)
    return Scan([f.info for f in found], items, findings, found)


def _say_what_others_cover(found: list[find.Found], items: list[ImageItem]) -> None:
    """A source whose every image is labelled through another one (a dataset's own images/ folder dropped
    beside the dataset) adds nothing: say so, instead of calling its images backgrounds."""
    owner = {item.image: item.source for item in items}
    for index, source in enumerate(found):
        images = {t.image for t in source.tasks if t.image}
        if not images or any(owner.get(image) == index for image in images):
            continue
        others = sorted({owner[image] for image in images if image in owner and owner[image] != index})
        if others and all(image in owner for image in images):
            where = ", ".join(found[i].info.path for i in others)
            source.info.title = "Already included"
            source.info.reason = (f"its {len(images)} image{'s' if len(images) != 1 else ''} are labelled in {where} "
                                  "and counted there once")


def _read(job: tuple[find.Task, dict[str, list[str]]]) -> tuple[ImageItem | None, list[Finding]]:
    task, by_name = job
    item, findings = _read_one(task, by_name)
    splits = [task.split, *task.also_in] if task.split else []
    return item, [replace(f, splits=list(splits)) for f in findings]


def _read_one(task: find.Task, by_name: dict[str, list[str]]) -> tuple[ImageItem | None, list[Finding]]:
    ann = task.ann
    if ann is None and task.reader:
        ann = readers.read(task.reader, task.annotation, task.names)
    findings = list(ann.findings) if ann else []
    image = task.image or (find.resolve_image(ann.image_ref, task.annotation, by_name) if ann else None)
    if image is None:
        named = f"image '{ann.image_ref}'" if ann and ann.image_ref else "no image file name"
        findings.append(Finding(ERROR, task.annotation, f"{task.annotation} labels {named}, which is not in the "
                                                        "folder; copy the image there or delete the annotation.",
                                "missing_image"))
        return None, findings
    probe = imagefile.probe(image)
    findings += probe.findings
    item = ImageItem(image, task.annotation if ann is not None else None, task.source, probe.width, probe.height,
                     probe.format, probe.digest, probe.orientation, split=task.split, also_in=list(task.also_in),
                     side=task.side or find.side_of(image, Path(image).parent))
    if ann is not None and ann.readable and probe.width:
        shapes = _normalised(ann, item, findings)
        item.shapes, shape_findings = validate.check_shapes(shapes, item.width, item.height, task.annotation,
                                                            normalised=ann.normalised)
        findings += shape_findings
    item.usable = probe.readable and not any(f.severity == ERROR for f in findings)
    return item, findings


def _normalised(ann: readers.Annotation, item: ImageItem, findings: list[Finding]) -> list[Shape]:
    w, h = item.width, item.height
    if ann.normalised:
        if ann.four_point_obb:
            for shape in ann.shapes:
                if shape.kind == POLYGON and len(shape.points) == 4:
                    shape.kind = four_point_kind(shape.points, w, h)
        return ann.shapes
    sw, sh = ann.size or (w, h)
    if ann.size and ann.size not in ((w, h), (h, w)):
        findings.append(Finding(WARNING, item.label_file, f"{item.label_file} gives the image size as {sw}×{sh}, but "
                                                          f"{item.image} is {w}×{h}; its labels are scaled to fit.",
                                "size_mismatch"))
    for shape in ann.shapes:
        shape.points = [[x / sw, y / sh] for x, y in shape.points]
    return ann.shapes
