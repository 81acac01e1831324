"""One card photo through the border model(s) to its centering: find the outer and inner border, measure
the eight lines, look up the published bands, and draw the overlay.

Models are loaded once (`BorderModels`) and reused for every photo of a folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np

from cardgrader.errors import ConfigError
from cardgrader.grading import bands
from cardgrader.grading.centering import Centering, coarse_quads, measure
from cardgrader.models import ModelPackage, resolve_model
from cardgrader.models.predict import Detection, Predictor, read_image

OUTER, INNER = "outer_border", "inner_border"
COMPANIES = ("psa", "bgs", "cgc")
LINE_COLOURS = {"outer": (255, 170, 0), "inner": (0, 200, 255)}  # BGR: blue-ish outer, amber inner
BORDER_CONF = 0.25


@dataclass
class BorderModels:
    """The model(s) that find the borders: one with both classes, or an outer one and an inner one."""

    border: Predictor
    inner: Predictor | None = None
    labels: dict[str, str] = field(default_factory=dict)

    def detections(self, image: np.ndarray) -> list[Detection]:
        found = list(self.border.predict_image(image, conf=BORDER_CONF).detections)
        if self.inner is not None:
            found = [d for d in found if d.class_name == OUTER]
            found += [d for d in self.inner.predict_image(image, conf=BORDER_CONF).detections if d.class_name == INNER]
        return found


def _label(package: ModelPackage) -> str:
    library = package.metadata.get("library") or {}
    return f"{library['name']}@{library['version']}" if library else (package.name or str(package.weights))


def _package(ref: str | None, side: str) -> ModelPackage | None:
    from cardgrader.models.library import ModelLibrary

    if ref:
        return resolve_model(ref)
    active = ModelLibrary().active("border", side)
    return resolve_model(active.label) if active else None


def border_models(border: str | None = None, inner: str | None = None, side: str = "front",
                  device: str | None = None) -> BorderModels:
    """Load the border model(s): the ones named, or the active border model of the side's line."""
    outer_package = _package(border, side)
    if outer_package is None:
        raise ConfigError(f"No border model is active for {side}s; train one (the `first-model` preset does) or "
                          "name one (a dual model, or an outer model and an inner model).", field="model")
    if OUTER not in outer_package.classes:
        raise ConfigError(f"The model {_label(outer_package)} has no {OUTER} class (its classes: "
                          f"{', '.join(outer_package.classes)}); centering needs a border model.", field="model")
    inner_package = resolve_model(inner) if inner else None
    if inner_package is None and INNER not in outer_package.classes:
        raise ConfigError(f"The model {_label(outer_package)} finds only the outer border; give an inner-border "
                          "model too (`center OUTER INNER IMAGE...`, or `grade --inner MODEL`).", field="model")
    if inner_package is not None and INNER not in inner_package.classes:
        raise ConfigError(f"The model {_label(inner_package)} has no {INNER} class (its classes: "
                          f"{', '.join(inner_package.classes)}).", field="model")
    labels = {"border": _label(outer_package)}
    if inner_package is not None:
        labels["inner"] = _label(inner_package)
    return BorderModels(Predictor(outer_package, device), Predictor(inner_package, device) if inner_package else None,
                        labels)


def centering_bands(front: Centering | None, back: Centering | None = None) -> dict[str, Any]:
    """One entry per company: the band each side reaches and the ceiling of the sides given together."""
    out = {}
    for company in COMPANIES:
        result = bands.ceiling(company, front=(front.lr, front.tb) if front else None,
                               back=(back.lr, back.tb) if back else None)
        out[company] = result.to_json()
    return out


def draw_centering(image: np.ndarray, centering: Centering) -> np.ndarray:
    """The photo (BGR) with the eight lines, the sample widths and the numbers; returns BGR."""
    canvas = image.copy() if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    short = min(canvas.shape[:2])
    thickness = max(1, round(short / 500))
    for name, (p0, p1) in centering.lines.items():
        colour = LINE_COLOURS["outer" if name.startswith("outer") else "inner"]
        a, b = np.asarray(p0, float), np.asarray(p1, float)
        direction = (b - a) / max(1e-9, float(np.linalg.norm(b - a)))
        a, b = a - direction * short * 0.04, b + direction * short * 0.04  # a little past the corners
        cv2.line(canvas, tuple(int(round(v)) for v in a), tuple(int(round(v)) for v in b), colour, thickness,
                 cv2.LINE_AA)
    widths = centering.borders_px
    text = (f"L/R {centering.lr:.1f}/{100 - centering.lr:.1f}  T/B {centering.tb:.1f}/{100 - centering.tb:.1f}  "
            f"L {widths['left']:.1f} R {widths['right']:.1f} T {widths['top']:.1f} B {widths['bottom']:.1f} px")
    scale = max(0.4, short / 1100)
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    cv2.rectangle(canvas, (4, 4), (12 + tw, 12 + th + base), (30, 30, 30), -1)
    cv2.putText(canvas, text, (8, 8 + th), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    return canvas


@dataclass
class CardCentering:
    image: str
    width: int
    height: int
    centering: Centering
    detections: list[Detection]
    photo: np.ndarray  # BGR, for overlays and crops

    def to_json(self, bands_json: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"image": self.image, **self.centering.to_json(),
                "bands": bands_json if bands_json is not None else centering_bands(self.centering)}


def center_photo(models: BorderModels, image: str | Path | np.ndarray, refine: bool = True,
                 name: str | None = None) -> CardCentering:
    """Measure one photo; DataError (a sentence) when it cannot be read or its borders are not found."""
    photo = read_image(image) if isinstance(image, (str, Path)) else np.asarray(image)
    detections = models.detections(photo)
    outer, inner = coarse_quads(detections, outer_classes=(OUTER,), inner_classes=(INNER,))
    centering = measure(photo, outer, inner, refine=refine)
    label = name if name is not None else str(image) if isinstance(image, (str, Path)) else ""
    return CardCentering(label, int(photo.shape[1]), int(photo.shape[0]), centering, detections, photo)


def split_models_and_images(args: Sequence[str]) -> tuple[list[str], list[str]]:
    """`center MODEL... IMAGE...`: the leading arguments that are not photos or folders of photos are models."""
    from cardgrader.data.layout import is_image

    models: list[str] = []
    for index, arg in enumerate(args):
        path = Path(arg)
        is_package = path.is_dir() and ((path / "metadata.json").is_file() or (path / "model" / "metadata.json").is_file())
        if (path.is_file() and is_image(path)) or (path.is_dir() and not is_package):
            return models, list(args[index:])
        models.append(arg)
    return models, []
