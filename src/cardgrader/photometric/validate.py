"""Checking a trained surface model against photometric stereo, which sees relief independently.

The capture is solved and its defect map made; the model runs on one picture of the same card (the
albedo by default, or one of the lit images, or the shaded rendering); its detections and the PS defect
regions are compared by location (`matching`). Reported: the model's precision against PS (share of its
detections that overlap a PS region), its recall (share of PS regions some detection overlaps), the PS
regions it missed, the detections PS does not support, and how often the kinds of paired boxes agree. Results go to the app's data dir
(the run's `validations/` folder, or `validations/` under the data dir for a model outside a run),
never into the capture folder.
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
from cardgrader.photometric.capture import load_capture, read_image
from cardgrader.photometric.matching import match, support
from cardgrader.photometric.pipeline import Analysis, analyse_capture
from cardgrader.photometric.report import canvas_for, draw_box
from cardgrader.photometric.solvers import Progress
from cardgrader.vocabulary import TASK_CLASSES

SURFACE_CLASSES = TASK_CLASSES["surface"]
MATCHED, MISSED, UNSUPPORTED = (80, 200, 80), (40, 40, 255), (0, 165, 255)  # BGR


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


def check_surface_model(package: ModelPackage) -> None:
    if not set(package.classes) & set(SURFACE_CLASSES):
        raise ConfigError(f"Model '{package.name}' detects {', '.join(package.classes)}, not surface defects "
                          f"({', '.join(SURFACE_CLASSES)}); validate a surface model.", field="model")


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


def validate(model: str | Path | ModelPackage, capture_folder: str | Path, *, lights: str | Path | None = None,
             mask: str | Path | None = None, method: str = "robust", image: str = "albedo", conf: float = 0.25,
             progress: Progress | None = None) -> Validation:
    """Run `model` on the capture in `capture_folder` and compare it with the PS defect map."""
    from cardgrader.models.predict import predict

    if not 0.0 <= conf <= 1.0:
        raise ConfigError(f"The confidence threshold must be from 0 to 1; got {conf}.", field="conf")
    package = model if isinstance(model, ModelPackage) else resolve_model(model)
    check_surface_model(package)
    report_progress = progress or (lambda _f, _m: None)
    capture = load_capture(capture_folder, lights, mask)
    analysis = analyse_capture(capture, method, lambda f, m: report_progress(0.8 * f, m))
    picture, picture_name = model_picture(analysis, capture, image)
    report_progress(0.85, "running the model")
    detections = predict(package, [picture], conf=conf)[0]
    regions = analysis.defects.regions
    boxes, region_boxes = [d.box for d in detections], [r.bbox for r in regions]
    supported, found = support(boxes, region_boxes)
    pairing = match(boxes, region_boxes)  # one detection per region, for kinds
    kinds_agree = sum(detections[i].class_name == regions[j].kind for i, j in pairing.pairs)
    missed = [j for j, ok in enumerate(found) if not ok]
    unsupported = [i for i, ok in enumerate(supported) if not ok]
    report = {
        "model": package.describe(),
        "capture": str(Path(capture_folder).resolve()),
        "images": len(capture.names),
        "method": method,
        "model_input": picture_name,
        "conf": conf,
        "ps_regions": len(regions),
        "detections": len(detections),
        "supported_detections": sum(supported),
        "found_regions": sum(found),
        "precision": None if not detections else round(sum(supported) / len(detections), 4),
        "recall": None if not regions else round(sum(found) / len(regions), 4),
        "kind_agreement": None if not pairing.pairs else round(kinds_agree / len(pairing.pairs), 4),
        "integrity": round(analysis.defects.integrity, 1),
        "pairs": [{"detection": detections[i].to_json(), "region": regions[j].to_json()} for i, j in pairing.pairs],
        "missed_regions": [regions[j].to_json() for j in missed],
        "unsupported_detections": [detections[i].to_json() for i in unsupported],
        "definitions": {
            "precision": "share of the model's detections that overlap a PS defect region",
            "recall": "share of PS defect regions that overlap a detection",
            "overlap": "IoU >= 0.2, or the smaller box at least half inside the larger",
        },
    }
    folder = output_folder(package, Path(capture_folder))
    canvas, scale = canvas_for(picture)
    for j, region in enumerate(regions):
        colour, label = (MATCHED, "") if found[j] else (MISSED, f"missed {region.kind}")
        draw_box(canvas, region.bbox, colour, label, dashed=True, scale=scale)
    for i, d in enumerate(detections):
        colour, label = (MATCHED, f"{d.class_name} {d.confidence:.2f}") if supported[i] else (UNSUPPORTED, f"{d.class_name}?")
        draw_box(canvas, d.box, colour, label, scale=scale)
    cv2.imwrite(str(folder / "overlay.png"), canvas)
    report["outputs"] = {"report": str(folder / "validation.json"), "overlay": str(folder / "overlay.png")}
    (folder / "validation.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    report_progress(1.0, "done")
    return Validation(report, folder, analysis)
