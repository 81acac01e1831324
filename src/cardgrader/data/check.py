"""`check`: find, read and validate dropped folders or files, and score them — what `cardgrader data check`
and the GUI's data page call. Nothing is written, anywhere."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from cardgrader.data import quality, validate
from cardgrader.data.classmap import ClassMap, task_classes
from cardgrader.data.model import ERROR, SEVERITIES, WARNING, CheckReport
from cardgrader.data.progress import ProgressFn
from cardgrader.data.scan import Scan, scan
from cardgrader.errors import ConfigError
from cardgrader.vocabulary import BORDERS, TASKS


def check(paths: list[str | Path], task: str | None = None, border: str = "dual", classes: list[str] | None = None,
          class_map: ClassMap | None = None, progress: ProgressFn | None = None,
          cancel: threading.Event | None = None, workers: int | None = None) -> CheckReport:
    """Check dropped paths. With `task` (and `border`, or an explicit `classes` list), labels are also checked
    against the classes that task trains. Raises `Cancelled` when `cancel` is set; never raises for bad data."""
    started = time.monotonic()
    validate_choice("task", task, TASKS, allow_none=True)
    validate_choice("border", border, BORDERS)
    if not paths:
        raise ConfigError("Give at least one folder or file to check.", field="paths")
    result = scan(paths, progress, cancel, workers)
    return report_for(result, task, border, classes, class_map or ClassMap.load(), time.monotonic() - started)


def report_for(result: Scan, task: str | None, border: str, classes: list[str] | None, class_map: ClassMap,
               seconds: float = 0.0) -> CheckReport:
    targets = task_classes(task, border, classes) if task else (list(classes) if classes else None)
    dataset_findings, counts = validate.dataset_checks(result.items, result.sources, targets, border, class_map, task)
    findings = result.findings + dataset_findings
    order = {s: i for i, s in enumerate(SEVERITIES)}
    findings.sort(key=lambda f: order[f.severity])  # stable: within a severity, in the order found
    counts["errors"] = sum(1 for f in findings if f.severity == ERROR)
    counts["warnings"] = sum(1 for f in findings if f.severity == WARNING)
    counts["non_image_files"] = sum(s.ignored_files for s in result.sources)
    counts["labels_without_image"] = sum(1 for f in findings if f.code in ("label_without_image", "missing_image"))
    for index, source in enumerate(result.sources):
        source.title = _title(source.format, source.title, [i for i in result.items if i.source == index])
    return CheckReport(result.sources, result.items, findings, counts, quality.score(counts, findings),
                       quality.recommendations(counts, findings), task, border if task else None, round(seconds, 3))


def _title(fmt: str, title: str, items) -> str:
    """Say which kinds of shapes a source holds: `YOLO labels` → `YOLO labels: polygons (segment)`."""
    kinds = sorted({s.kind for i in items for s in i.shapes})
    if not kinds or fmt in ("images", "none"):
        return title
    words = {"box": "boxes (detect)", "polygon": "polygons (segment)", "obb": "oriented boxes (obb)"}
    return f"{title.split(':')[0]}: {' and '.join(words[k] for k in kinds)}"


def validate_choice(name: str, value: str | None, allowed: tuple[str, ...], allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if value not in allowed:
        raise ConfigError(f"--{name} must be one of {', '.join(allowed)}; got {value!r}.", field=name)
