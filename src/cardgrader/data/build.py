"""`import_dataset`: turn checked sources into a training-ready Ultralytics dataset folder.

Labels are converted to the chosen architecture, classes mapped onto the task's, images split without
leakage, and written as `images/<split>/…` + `labels/<split>/…` with a `data.yaml` whose `path` is
absolute. Images are hard-linked (copied across devices, and always copied when a JPEG lacks its end
marker, because Ultralytics re-saves such files). The folder is built beside its destination and
swapped in at the end, so a cancelled or failed import leaves the previous one intact. The sources
are only read. An unchanged fingerprint (sources + settings) reuses the existing folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from cardgrader import paths
from cardgrader.data import find, split
from cardgrader.data.check import report_for, validate_choice
from cardgrader.data.classmap import ClassMap, task_classes
from cardgrader.data.fingerprint import fingerprint
from cardgrader.data.geometry import APPROXIMATION_NOTES, convert
from cardgrader.data.layout import SPLITS, is_inside, link_or_copy
from cardgrader.data.model import CheckReport, ImageItem, Shape
from cardgrader.data.progress import ProgressFn, Reporter, parallel_map
from cardgrader.data.readers import yolo
from cardgrader.data.scan import scan
from cardgrader.errors import ConfigError, DataError
from cardgrader.vocabulary import ARCHS, BORDERS, SIDES, TASKS, default_classes

MANIFEST = ".cardgrader-dataset.json"
TRAIN_CONFIG = "train.yaml"  # `cardgrader train --config <dataset>/train.yaml` trains on it as built
BUILD_VERSION = 3  # bump when the output of the same sources and settings changes


@dataclass
class ImportResult:
    data_yaml: str
    root: str
    arch: str
    task: str
    border: str
    side: str
    classes: list[str]
    images: dict[str, int]  # per split
    labels: dict[str, int]  # shapes per class
    fingerprint: str
    reused: bool
    notes: list[str] = field(default_factory=list)  # approximations and what was left out
    left_out: int = 0  # images not imported (errors, other side, labels only of other classes)
    report: CheckReport | None = None  # the check behind the build; None when an earlier build was reused

    def to_dict(self) -> dict:
        out = asdict(self)
        out["report"] = self.report.to_dict(items=False) if self.report else None
        return out


def import_dataset(sources: list[str | Path], out: str | Path | None = None, arch: str = "detect",
                   task: str = "border", border: str = "dual", side: str = "both",
                   split_ratios: str | tuple = (0.8, 0.2, 0.0), seed: int = 0, classes: list[str] | None = None,
                   class_map: ClassMap | None = None, progress: ProgressFn | None = None,
                   cancel: threading.Event | None = None, workers: int | None = None,
                   force: bool = False) -> ImportResult:
    """Check `sources` and build a dataset for `arch`/`task` in `out` (default: the app's datasets folder)."""
    for name, value, allowed in (("arch", arch, ARCHS), ("task", task, TASKS), ("border", border, BORDERS),
                                 ("side", side, SIDES)):
        validate_choice(name, value, allowed)
    if not sources:
        raise ConfigError("Give at least one folder or file to import.", field="paths")
    ratios = split.parse_ratios(split_ratios)
    class_map = class_map or ClassMap.load()
    targets = task_classes(task, border, classes)
    found = find.find(sources)
    dest = Path(out).expanduser().absolute() if out else _default_out(sources, task, border, arch)
    _check_destination(dest, found)
    settings = {"arch": arch, "task": task, "border": border, "side": side, "split": ratios, "seed": seed,
                "classes": targets, "class_map": class_map.as_dict(), "version": BUILD_VERSION}
    fp = fingerprint([Path(f) for fd in found for f in fd.files], settings)
    previous = _manifest(dest)
    if not force and previous.get("fingerprint") == fp and (dest / "data.yaml").is_file():
        try:
            return ImportResult(**{**previous["result"], "reused": True, "report": None})
        except (KeyError, TypeError):  # a manifest from another version: build again
            pass

    report = report_for(scan(sources, progress, cancel, workers, found=found), task, border, classes, class_map)
    chosen, left_out, notes = _select(report, targets, side, class_map)
    if not any(shapes for _i, shapes in chosen):
        raise DataError(_nothing_to_import(report, targets, side))
    if len(chosen) < 2:
        raise DataError(f"Only one image from {', '.join(map(str, sources))} can be imported; training needs at least "
                        "two (one to train on, one to validate with).")
    strata = {item.image: (item.side or "", tuple(sorted({s.label for s in shapes}))) for item, shapes in chosen}
    splits = split.assign([i for i, _s in chosen], ratios, seed, stratum=lambda item: strata[item.image])
    counts = Counter(splits)
    result = ImportResult(str(dest / "data.yaml"), str(dest), arch, task, border, side, targets,
                          {s: counts[s] for s in SPLITS if counts[s]}, {}, fp, False, notes, left_out, report)
    _write(dest, chosen, splits, result, Reporter(progress, cancel), workers, targets)
    return result


def _default_out(sources: list, task: str, border: str, arch: str) -> Path:
    stem = Path(str(sources[0])).expanduser().absolute()
    name = re.sub(r"[^A-Za-z0-9_\-]+", "-", (stem.stem if stem.is_file() else stem.name) or "dataset").strip("-")
    suffix = f"{task}-{border}" if task in ("border", "centering") else task
    return paths.datasets_dir() / f"{name or 'dataset'}-{suffix}-{arch}"


def _check_destination(dest: Path, found: list[find.Found]) -> None:
    for source in found:
        root = Path(source.info.path)
        if not root.exists():
            continue
        root = root if root.is_dir() else root.parent
        if is_inside(dest, root):
            raise ConfigError(f"--out {dest} is inside the source {root}; choose a folder outside it (sources are "
                              "never written to).", field="out")
        if is_inside(root, dest):
            raise ConfigError(f"The source {root} is inside --out {dest}; choose another output folder.", field="out")
    if dest.exists() and (not dest.is_dir() or (any(dest.iterdir()) and not (dest / MANIFEST).is_file())):
        raise ConfigError(f"--out {dest} already holds files that cardgrader did not make; choose a new or empty "
                          "folder.", field="out")


def _manifest(dest: Path) -> dict:
    try:
        return json.loads((dest / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def trainable(report: CheckReport, classes: list[str] | None = None, side: str = "both",
              class_map: ClassMap | None = None) -> int:
    """How many images an import of this report would train on with labels (backgrounds not counted).
    `classes` default to the report's task classes."""
    targets = list(classes) if classes else task_classes(report.task or "border", report.border or "dual")
    chosen, _left_out, _notes = _select(report, targets, side, class_map or ClassMap.load())
    return sum(1 for _item, shapes in chosen if shapes)


def _select(report: CheckReport, targets: list[str], side: str,
            class_map: ClassMap) -> tuple[list[tuple[ImageItem, list[Shape]]], int, list[str]]:
    """Usable images of the chosen side, with their shapes mapped onto the target classes."""
    chosen, left_out, other_classes_only = [], 0, 0
    seen: set[str] = set()
    for item in report.items:
        if item.image in seen:  # listed twice (e.g. a YAML whose val is its train folder)
            continue
        seen.add(item.image)
        if not item.usable or (side != "both" and item.side not in (side, None)):
            left_out += 1
            continue
        numbered = report.sources[item.source].names is None
        shapes = []
        for shape in item.shapes:
            target = class_map.resolve(shape.label, targets, numbered)
            if target is not None:
                shapes.append(Shape(shape.kind, target, shape.points, targets.index(target), shape.ref))
        if item.shapes and not shapes:  # labelled, but only for other classes: not a true background
            other_classes_only += 1
            left_out += 1
            continue
        chosen.append((item, shapes))
    notes = []
    if other_classes_only:
        notes.append(f"{other_classes_only} images with labels only for other classes were left out (they are not "
                     "backgrounds: their objects are simply unlabelled for this task).")
    if any(s for s in report.sources if s.names is None and s.format == "yolo"):
        notes.append(f"A source has no class names, so ids 0, 1, … were taken as {', '.join(targets)}.")
    return chosen, left_out, notes


def _nothing_to_import(report: CheckReport, targets: list[str], side: str) -> str:
    where = ", ".join(s.path for s in report.sources)
    if not report.items:
        first = report.errors[0].message if report.errors else "no images were found"
        return f"Nothing to import from {where}: {first[0].lower()}{first[1:].rstrip('.')}."
    if not any(i.usable for i in report.items):
        return (f"Nothing to import from {where}: none of the {len(report.items)} images is usable; run "
                "`cardgrader data check` to see why.")
    side_text = f" {side}" if side != "both" else ""
    return (f"Nothing to import from {where}: no usable{side_text} image has labels of the classes "
            f"{', '.join(targets)}; check the class names (`cardgrader data check --task …`) or the class map.")


def _write(dest: Path, chosen: list[tuple[ImageItem, list[Shape]]], splits: list[str], result: ImportResult,
           report: Reporter, workers: int | None, targets: list[str]) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = dest.with_name(f".{dest.name}.building-{uuid.uuid4().hex[:8]}")
    names = _unique_names([item.image for item, _s in chosen])
    jobs = [(item, shapes, split_name, name, staging, result.arch)
            for (item, shapes), split_name, name in zip(chosen, splits, names)]
    for split_name in set(splits):
        (staging / "images" / split_name).mkdir(parents=True, exist_ok=True)
        (staging / "labels" / split_name).mkdir(parents=True, exist_ok=True)
    try:
        outcomes = parallel_map(_write_one, jobs, report, "Writing the dataset", workers)
        notes = Counter(note for noted in outcomes for note in noted)
        result.notes += [f"{count} {APPROXIMATION_NOTES[note]}." for note, count in sorted(notes.items())]
        result.labels = dict(Counter(s.label for _i, shapes in chosen for s in shapes))
        for cls in targets:
            result.labels.setdefault(cls, 0)
        spec = {"path": str(dest), **{s: f"images/{s}" for s in ("train", "val", "test") if s in result.images},
                "names": dict(enumerate(targets))}
        (staging / "data.yaml").write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
        (staging / TRAIN_CONFIG).write_text(yaml.safe_dump(_train_config(result), sort_keys=False, allow_unicode=True),
                                            encoding="utf-8")
        if result.report is not None:
            (staging / "check-report.json").write_text(
                json.dumps(result.report.to_dict(items=False), ensure_ascii=False, indent=1), encoding="utf-8")
        manifest = {"fingerprint": result.fingerprint, "created": time.time(),
                    "result": {k: v for k, v in asdict(result).items() if k != "report"}}
        (staging / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        report.check()
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(staging, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _train_config(result: ImportResult) -> dict:
    """The training settings this dataset was built for, as a `cardgrader train --config` file."""
    config = {"arch": result.arch, "task": result.task, "border": result.border, "side": result.side,
              "data": result.data_yaml}
    if result.classes != default_classes(result.task, result.border):
        config["classes"] = result.classes
    return config


def _unique_names(images: list[str]) -> list[str]:
    """Each image's file name in the dataset: its own name, numbered where two would share a label file."""
    used: set[str] = set()
    out = []
    for image in images:
        stem, suffix = os.path.splitext(os.path.basename(image))
        candidate, n = stem, 1
        while candidate.lower() in used:
            n += 1
            candidate = f"{stem}_{n}"
        used.add(candidate.lower())
        out.append(candidate + suffix)
    return out


def _write_one(job: tuple) -> list[str]:
    item, shapes, split_name, name, staging, arch = job
    link_or_copy(item.image, staging / "images" / split_name / name)
    rows, notes = [], []
    for shape in shapes:
        coords, note = convert(shape, arch, item.width, item.height)
        rows.append((shape.class_id, coords))
        if note:
            notes.append(note)
    yolo.write(staging / "labels" / split_name / (os.path.splitext(name)[0] + ".txt"), rows)
    return notes
