"""A card's grade estimate: centering from the border model(s) and the published bands, corner / edge /
surface findings from their models (and photometric stereo when a capture is given), sub-grades from the
editable rules table, and an overall estimate that is never above the lowest sub-grade ceiling.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from cardgrader.errors import ConfigError, UserError
from cardgrader.grading import bands
from cardgrader.grading.card import COMPANIES, BorderModels, border_models, center_photo, centering_bands, draw_centering
from cardgrader.grading.centering import Centering, from_lines
from cardgrader.grading.report import crop, data_uri, write_report
from cardgrader.models import resolve_model
from cardgrader.models.predict import Predictor, read_image

FINDING_CONF = 0.25
CATEGORIES = ("corners", "edges", "surface")
DEFECT_MAP = "photometric_defects.png"
Progress = Callable[[str], None]


@dataclass
class GradeModels:
    """Every model a grade uses, loaded once for a folder of cards."""

    front_border: BorderModels | None
    back_border: BorderModels | None
    findings: dict[str, Predictor] = field(default_factory=dict)  # corners / edges / surface
    labels: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _finding_model(category: str, ref: str | None, side: str, device: str | None) -> tuple[Predictor | None, str | None]:
    from cardgrader.models.library import ModelLibrary

    if ref is None:
        active = ModelLibrary().active(category, side)
        if active is None:
            return None, None
        ref = active.label
    package = resolve_model(ref)
    if package.task not in (None, category):
        raise ConfigError(f"The model {ref} is a {package.task} model; --{category} needs a {category} model.",
                          field=category)
    return Predictor(package, device), ref


def load_models(border: str | None = None, inner: str | None = None, corners: str | None = None,
                edges: str | None = None, surface: str | None = None, back: bool = False,
                device: str | None = None) -> GradeModels:
    models = GradeModels(None, None)
    try:
        models.front_border = border_models(border, inner, "front", device)
        models.labels.update(models.front_border.labels)
    except ConfigError as exc:
        if border or inner:
            raise
        models.notes.append(f"Centering was not measured: {exc}")
    if back:
        try:
            models.back_border = border_models(border, inner, "back", device)
            models.labels.update({f"back {k}": v for k, v in models.back_border.labels.items()
                                  if v != models.labels.get(k)})
        except ConfigError as exc:
            if border or inner:
                raise
            models.notes.append(f"Back centering was not measured: {exc}")
    for category, ref in (("corners", corners), ("edges", edges), ("surface", surface)):
        predictor, label = _finding_model(category, ref, "front", device)
        if predictor is None:
            models.notes.append(f"No {category} model is active, so {category} were not assessed.")
            continue
        models.findings[category] = predictor
        models.labels[category] = label
    return models


def _defects(predictor: Predictor, photo: np.ndarray) -> list[dict[str, Any]]:
    """Detections that are defects (a corner model's `corner_sharp` is not one)."""
    h, w = photo.shape[:2]
    out = []
    for d in predictor.predict_image(photo, conf=FINDING_CONF).detections:
        if d.class_name.endswith("_sharp"):
            continue
        x0, y0, x1, y1 = d.box
        out.append({"class": d.class_name, "confidence": round(d.confidence, 4), "box": [round(v, 1) for v in d.box],
                    "area_frac": round(max(0.0, (x1 - x0) * (y1 - y0)) / float(w * h), 6), "source": "model"})
    return out


def _side(models: GradeModels, border: BorderModels | None, photo_path: Path, refine: bool,
          with_findings: bool) -> dict[str, Any]:
    photo = read_image(photo_path)
    info: dict[str, Any] = {"image": str(photo_path), "width": int(photo.shape[1]), "height": int(photo.shape[0])}
    info["_centering"] = None
    if border is not None:
        try:
            measured = center_photo(border, photo, refine=refine, name=str(photo_path))
            info["centering"] = {**measured.centering.to_json(), "manual": []}
            info["_centering"] = measured.centering
        except UserError as exc:
            info["centering"] = {"error": str(exc)}
    if with_findings:
        info["findings"] = {}
        for category, predictor in models.findings.items():
            info["findings"][category] = _defects(predictor, photo)
    return info


def _photometric(capture: Path, progress: Progress) -> tuple[dict[str, Any], np.ndarray]:
    from cardgrader.photometric.capture import load_capture
    from cardgrader.photometric.pipeline import analyse_capture
    from cardgrader.photometric.report import defects_image, summary

    progress(f"photometric stereo on {capture}")
    analysis = analyse_capture(load_capture(capture))
    return {"capture": str(capture), **summary(analysis)}, defects_image(analysis)


def _overall(subgrades: dict[str, Any]) -> dict[str, Any]:
    """Per company: the lowest sub-grade ceiling, and which categories set it."""
    out = {}
    for company in COMPANIES:
        ceilings = []
        centering = subgrades.get("centering", {}).get(company)
        if centering and centering.get("grade") is not None:
            ceilings.append(("centering", bands.grade_value(centering["grade"]), centering))
        for category in CATEGORIES:
            entry = subgrades.get(category) or {}
            entry = (entry.get("by_company") or {}).get(company, entry)
            if entry.get("grade") is not None:
                ceilings.append((category, bands.grade_value(entry["grade"]), entry))
        if not ceilings:
            out[company] = {"grade": None, "limited_by": "nothing could be assessed"}
            continue
        lowest = min(value for _c, value, _e in ceilings)
        limiting = [c for c, value, _e in ceilings if value == lowest]
        grade = next(e["grade"] for c, value, e in ceilings if value == lowest)
        label = next((e.get("label") for c, value, e in ceilings if value == lowest and e.get("label")), None)
        out[company] = {"grade": str(grade), "label": label, "limited_by": ", ".join(limiting), "estimate": True}
    return out


def _side_centering(info: dict[str, Any] | None) -> Centering | None:
    """A side's centering from its report entry (the lines as measured or as corrected)."""
    centering = (info or {}).get("centering") or {}
    if "lines" not in centering:
        return None
    return from_lines(centering["lines"], refined=bool(centering.get("refined")))


def _regrade(report: dict[str, Any]) -> None:
    """Centering bands, sub-grades and the overall estimate from what the report holds."""
    front_c, back_c = _side_centering(report.get("front")), _side_centering(report.get("back"))
    subgrades = report.setdefault("subgrades", {})
    subgrades["centering"] = centering_bands(front_c, back_c) if (front_c or back_c) else {}
    report["overall"] = _overall(subgrades)


def apply_correction(report: dict[str, Any], side: str, lines: dict[str, Any], manual: list[str]) -> dict[str, Any]:
    """The grader dragged lines: recompute that side's centering from the eight lines (those named in
    `manual` were moved by hand) and everything that follows from it. Returns the report, changed."""
    info = report.get(side)
    if not info:
        raise ConfigError(f"The report has no {side} photo to correct.", field="side")
    previous = (info.get("centering") or {}).get("manual", [])
    corrected = from_lines(lines, refined=bool((info.get("centering") or {}).get("refined")))
    info["centering"] = {**corrected.to_json(), "manual": sorted(set(previous) | set(manual))}
    _regrade(report)
    return report


def pictures_for(report: dict[str, Any], out: Path) -> dict[str, str]:
    """The report's pictures, drawn from the photos it names (so a corrected report redraws its lines)."""
    pictures: dict[str, str] = {}
    for side in ("front", "back"):
        info = report.get(side)
        if not info:
            continue
        photo = read_image(info["image"])
        centering = _side_centering(info)
        if centering is not None:
            pictures[f"{side}_overlay"] = data_uri(draw_centering(photo, centering))
        for category, found in (info.get("findings") or {}).items():
            for k, finding in enumerate(found):
                finding["crop_key"] = f"{side}_{category}_{k}"
                pictures[finding["crop_key"]] = data_uri(crop(photo, finding["box"]), max_side=240)
    defects = out / DEFECT_MAP
    if report.get("photometric") and defects.is_file():
        import cv2

        pictures["ps_defects"] = data_uri(cv2.imread(str(defects)))
    return pictures


def write_graded(report: dict[str, Any], out: Path) -> tuple[Path, Path]:
    """report.json + report.html into `out` (again after a correction)."""
    return write_report(report, pictures_for(report, out), out)


def grade_card(models: GradeModels, front: Path, out: Path, back: Path | None = None, capture: Path | None = None,
               refine: bool = True, progress: Progress | None = None) -> tuple[dict[str, Any], Path, Path]:
    """Grade one card; writes `report.json` and `report.html` into `out` and returns (report, json, html)."""
    say = progress or (lambda _m: None)
    say(f"front {front.name}")
    front_info = _side(models, models.front_border, front, refine, with_findings=True)
    back_info = None
    if back is not None:
        say(f"back {back.name}")
        back_info = _side(models, models.back_border, back, refine, with_findings=False)
    for info in (front_info, back_info):
        if info is not None:
            info.pop("_centering")
    report: dict[str, Any] = {
        "card": front.stem, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "models": dict(models.labels),
        "front": front_info, "back": back_info, "photometric": None, "notes": list(models.notes),
    }
    surface_evidence = list(front_info.get("findings", {}).get("surface", []))
    out.mkdir(parents=True, exist_ok=True)
    if capture is not None:
        import cv2

        ps, defect_map = _photometric(capture, say)
        report["photometric"] = ps
        cv2.imwrite(str(out / DEFECT_MAP), defect_map)
        surface_evidence += [{"class": r.get("kind"), "confidence": 1.0, "area_frac": r.get("area_frac", 0.0),
                              "source": "photometric"} for r in ps.get("surface", {}).get("regions", [])]
    subgrades: dict[str, Any] = {}
    for category in CATEGORIES:
        if category == "surface" and (category in models.findings or capture is not None):
            subgrades[category] = bands.subgrade(category, surface_evidence)
        elif category in models.findings:
            subgrades[category] = bands.subgrade(category, front_info["findings"][category])
        else:
            subgrades[category] = {"grade": None, "reason": "not assessed (no model)", "estimate": True}
    report["subgrades"] = subgrades
    _regrade(report)
    json_path, html_path = write_graded(report, out)
    return report, json_path, html_path
