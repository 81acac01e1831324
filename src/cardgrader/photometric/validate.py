"""Checking a trained model against photometric stereo, which sees the card's relief and outline independently.

The capture is solved and its defect map made; the model runs on one picture of the same card (the
albedo by default, or one of the lit images, or the shaded rendering); its detections are compared with
what photometric stereo shows for the model's kind (its package's task, or its classes):
- surface: the PS defect regions (`matching`: the same overlap rule as everywhere);
- border: the card's outline, from the capture's mask or the cut edge in the normals (`validate_border`);
- corners, edges: damage at the card's perimeter, the outline departing from the ideal card or relief near
  the edge (`validate_perimeter`).
Every kind reports the same fields (`validate_compare`): precision (share of the model's detections PS
supports), recall (share of the PS evidence a detection finds), the evidence it missed, the detections PS
does not support, and the definitions used. Results go to the app's data dir (the run's `validations/`
folder, or `validations/` under the data dir for a model outside a run), never into the capture folder.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from cardgrader import paths
from cardgrader.errors import ConfigError
from cardgrader.models import ModelPackage, resolve_model
from cardgrader.models.predict import Detection
from cardgrader.photometric.capture import PhotoCapture, load_capture, read_image
from cardgrader.photometric.defects import DefectRegion
from cardgrader.photometric.matching import SAME_DEFECT_DEFINITION
from cardgrader.photometric.perimeter import (
    CardOutline,
    NoOutline,
    find_outline,
    perimeter_findings,
)
from cardgrader.photometric.pipeline import Analysis, analyse_capture
from cardgrader.photometric.report import canvas_for, draw_box
from cardgrader.photometric.solvers import Progress
from cardgrader.photometric.validate_border import compare_border
from cardgrader.photometric.validate_compare import Comparison, Evidence, compare
from cardgrader.photometric.validate_perimeter import compare_corners, compare_edges
from cardgrader.vocabulary import BORDER_CLASSES, OUTER_BORDER, TASK_CLASSES

SURFACE_CLASSES = TASK_CLASSES["surface"]
# The classes that tell each kind of model apart, for a model whose package names no task.
KIND_CLASSES = {"surface": SURFACE_CLASSES, "border": BORDER_CLASSES["dual"], "corners": TASK_CLASSES["corners"],
                "edges": TASK_CLASSES["edges"]}
MATCHED, MISSED, UNSUPPORTED, UNASSESSED, OUTLINE = (80, 200, 80), (40, 40, 255), (0, 165, 255), (150, 150, 150), \
    (255, 200, 0)  # BGR


@dataclass
class Validation:
    report: dict[str, Any]
    folder: Path  # where validation.json and overlay.png were written
    analysis: Analysis = field(repr=False)

    @property
    def json_path(self) -> Path:
        return self.folder / "validation.json"

    @property
    def overlay_path(self) -> Path:
        return self.folder / "overlay.png"


def model_picture(analysis: Analysis, capture, choice: str) -> tuple[np.ndarray, str]:
    """The 8-bit picture the model looks at: albedo (scaled so the card's bright print is near white),
    the shaded rendering, or one of the lit images by file name, read as recorded."""
    if choice == "albedo":
        albedo = analysis.result.albedo
        inside = albedo[analysis.result.mask]
        top = float(np.percentile(inside, 99.5)) if inside.size else 1.0
        return np.clip(albedo / max(top, 1e-6) * 255.0 + 0.5, 0, 255).astype(np.uint8), "albedo"
    if choice == "shaded":
        return analysis.shaded, "shaded"
    if choice not in capture.names:
        raise ConfigError(f"--image must be albedo, shaded or one of the capture's images "
                          f"({', '.join(capture.names[:4])}{', ...' if len(capture.names) > 4 else ''}); got {choice!r}.",
                          field="image")
    image = read_image(capture.folder / choice)
    if image.ndim == 3:
        image = image[:, :, ::-1]  # back to BGR, as a photo is fed to the model
    return np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8), choice


def kind_of(task: str | None, classes: list[str], name: str) -> str:
    """surface | border | corners | edges: the model's task, or without one its classes' task; a
    ConfigError naming the model when photometric stereo cannot check it."""
    task = "border" if task == "centering" else task
    if task in KIND_CLASSES:
        kind = task
    else:
        kinds = [k for k, names in KIND_CLASSES.items() if set(classes) & set(names)]
        if len(kinds) != 1:
            why = (f"classes of several tasks ({', '.join(kinds)}); validate a model of one task." if kinds else
                   "none of these is a surface defect, border, corner or edge class photometric stereo can check.")
            raise ConfigError(f"Model '{name}' detects {', '.join(classes)}: {why}", field="model")
        kind = kinds[0]
    if not set(classes) & set(KIND_CLASSES[kind]):
        raise ConfigError(f"Model '{name}' is a {kind} model but detects {', '.join(classes)}, none of the {kind} "
                          f"classes ({', '.join(KIND_CLASSES[kind])}).", field="model")
    if kind == "border" and OUTER_BORDER not in classes:
        raise ConfigError(f"Model '{name}' detects only the inner border; photometric stereo sees the card's cut "
                          "edge, not its print: validate an outer or dual border model.", field="model")
    return kind


def model_kind(package: ModelPackage) -> str:
    return kind_of(package.task, package.classes, package.name)


def compare_surface(detections: list[Detection], regions: list[DefectRegion]) -> Comparison:
    """Surface detections against the PS defect regions; kinds agree when a pair's class is the region's kind."""
    evidence = [Evidence(r.bbox, r.kind, r.to_json()) for r in regions]
    result = compare("surface", ("defect region", "defect regions"), detections, evidence, {
        "precision": "share of the model's detections that overlap a PS defect region",
        "recall": "share of PS defect regions that overlap a detection",
        "overlap": SAME_DEFECT_DEFINITION,
    })
    if result.pairs:
        agree = sum(detections[i].class_name == regions[j].kind for i, j in result.pairs)
        result.kind_agreement = round(agree / len(result.pairs), 4)
    return result


def compare_kind(kind: str, detections: list[Detection], analysis: Analysis,
                 capture: PhotoCapture) -> tuple[Comparison, CardOutline | None]:
    """The model's detections against what PS shows for its kind, and the card outline when one was used."""
    if kind == "surface":
        return compare_surface(detections, analysis.defects.regions), None
    try:
        outline, note = find_outline(analysis.result.normals, analysis.result.albedo, capture.mask), ""
    except NoOutline as exc:
        outline, note = None, str(exc)
    if kind == "border":
        return compare_border(detections, outline, note), outline
    findings = [] if outline is None else perimeter_findings(analysis, outline)
    compare_perimeter = compare_corners if kind == "corners" else compare_edges
    return compare_perimeter(detections, outline, findings, note), outline


def output_folder(package: ModelPackage, capture_folder: Path) -> Path:
    """A new folder under the run (or the data dir) named after the time and the capture."""
    if package.run_id and package.folder is not None and package.folder.name == "model":
        base = package.folder.parent / "validations"
    else:
        base = paths.home() / "validations"
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", capture_folder.resolve().name).strip("-") or "capture"
    folder = base / f"{time.strftime('%Y%m%d-%H%M%S')}-{slug}"
    n = 2
    while folder.exists():
        folder = base / f"{time.strftime('%Y%m%d-%H%M%S')}-{slug}-{n}"
        n += 1
    folder.mkdir(parents=True)
    return folder


def draw_overlay(picture: np.ndarray, comparison: Comparison, outline: CardOutline | None) -> np.ndarray:
    """The model's picture with the card outline (when used), the PS evidence (dashed: green found, red
    missed) and the detections (green supported, orange unsupported, grey not assessed)."""
    canvas, scale = canvas_for(picture)
    if outline is not None:
        contours, _ = cv2.findContours(outline.region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        points = [np.round((c.astype(np.float32) + 0.5) * scale).astype(np.int32) for c in contours]
        cv2.polylines(canvas, points, True, OUTLINE, max(1, min(canvas.shape[:2]) // 400), cv2.LINE_AA)
    for e, found in zip(comparison.evidence, comparison.found):
        draw_box(canvas, e.box, MATCHED if found else MISSED, "" if found else f"missed {e.label}", dashed=True,
                 scale=scale)
    for d in comparison.not_assessed:
        draw_box(canvas, d.box, UNASSESSED, f"{d.class_name} (not assessed)", scale=scale)
    for d, ok in zip(comparison.detections, comparison.supported):
        colour, label = (MATCHED, f"{d.class_name} {d.confidence:.2f}") if ok else (UNSUPPORTED, f"{d.class_name}?")
        draw_box(canvas, d.box, colour, label, scale=scale)
    return canvas


def validate(model: str | Path | ModelPackage, capture_folder: str | Path, *, lights: str | Path | None = None,
             mask: str | Path | None = None, method: str = "robust", image: str = "albedo", conf: float = 0.25,
             progress: Progress | None = None) -> Validation:
    """Run `model` on the capture in `capture_folder` and compare it with what PS shows for its kind."""
    from cardgrader.models.predict import predict

    if not 0.0 <= conf <= 1.0:
        raise ConfigError(f"The confidence threshold must be from 0 to 1; got {conf}.", field="conf")
    package = model if isinstance(model, ModelPackage) else resolve_model(model)
    kind = model_kind(package)
    report_progress = progress or (lambda _f, _m: None)
    capture = load_capture(capture_folder, lights, mask)
    analysis = analyse_capture(capture, method, lambda f, m: report_progress(0.8 * f, m))
    picture, picture_name = model_picture(analysis, capture, image)
    report_progress(0.85, "running the model")
    detections = predict(package, [picture], conf=conf)[0]
    report_progress(0.9, "comparing")
    comparison, outline = compare_kind(kind, detections, analysis, capture)
    report = {
        "model": package.describe(),
        "capture": str(Path(capture_folder).resolve()),
        "images": len(capture.names),
        "method": method,
        "model_input": picture_name,
        "conf": conf,
        "integrity": round(analysis.defects.integrity, 1),
        **comparison.report(),
        "summary": comparison.summary(package.name, picture_name),
    }
    folder = output_folder(package, Path(capture_folder))
    cv2.imwrite(str(folder / "overlay.png"), draw_overlay(picture, comparison, outline))
    report["outputs"] = {"report": str(folder / "validation.json"), "overlay": str(folder / "overlay.png")}
    (folder / "validation.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    report_progress(1.0, "done")
    return Validation(report, folder, analysis)
