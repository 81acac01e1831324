"""Running a trained model on images; results come back as plain dataclasses, never tensors.

Ultralytics is imported only here and only when a model is loaded, after the environment is switched
offline (`configure_environment`), so predicting never tries a download.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from cardgrader.errors import ConfigError, DataError
from cardgrader.models.package import ModelPackage
from cardgrader.training.safe_weights import check_weights_file


@dataclass
class Detection:
    """One thing a model found, in pixels of the image it was given."""

    class_id: int
    class_name: str
    confidence: float
    box: list[float]  # x0, y0, x1, y1 (axis-aligned; for obb the box around the corners)
    polygon: list[list[float]] | None = None  # segment: outline points [x, y]
    corners: list[list[float]] | None = None  # obb: 4 corners [x, y]

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def load_yolo(weights: str | Path):
    """An Ultralytics model from a weights file, loaded offline.

    Ultralytics binds its log handler to whatever stdout is at import time and greets a fresh config
    dir there; importing it with stdout pointed at stderr keeps `--json` output pure JSON.
    """
    from cardgrader.training.offline import configure_environment, patch_ultralytics_offline

    configure_environment()
    check_weights_file(weights)  # before anything unpickles it
    with contextlib.redirect_stdout(sys.stderr):
        from ultralytics import YOLO

        patch_ultralytics_offline()

        try:
            return YOLO(str(weights))
        except Exception as exc:  # noqa: BLE001 - a damaged or foreign file must end in a sentence
            raise ConfigError(f"The weights file {weights} cannot be loaded as a YOLO model "
                              f"({type(exc).__name__}: {exc}).", field="model") from None


def _as_bgr(image: Any) -> Any:
    """Paths pass through; arrays become 8-bit BGR, which Ultralytics expects."""
    if isinstance(image, (str, Path)):
        if not Path(image).is_file():
            raise DataError(f"The image {image} does not exist.")
        return str(image)
    array = np.asarray(image)
    if array.dtype != np.uint8:
        top = 65535.0 if array.dtype == np.uint16 else (255.0 if array.max(initial=0) > 1.0 else 1.0)
        array = np.clip(array.astype(np.float32) / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    return np.ascontiguousarray(array)


def _detections(result, classes: Sequence[str]) -> list[Detection]:
    def name(i: int) -> str:
        return classes[i] if 0 <= i < len(classes) else str(i)

    out: list[Detection] = []
    obb = getattr(result, "obb", None)
    if obb is not None:
        corners = obb.xyxyxyxy.cpu().numpy()
        boxes = obb.xyxy.cpu().numpy()
        for k, (c, p) in enumerate(zip(obb.cls.cpu().numpy(), obb.conf.cpu().numpy())):
            out.append(Detection(int(c), name(int(c)), float(p), boxes[k].round(2).tolist(),
                                 corners=corners[k].round(2).tolist()))
        return out
    boxes = result.boxes
    if boxes is None:
        return out
    polygons = result.masks.xy if getattr(result, "masks", None) is not None else None
    xyxy = boxes.xyxy.cpu().numpy()
    for k, (c, p) in enumerate(zip(boxes.cls.cpu().numpy(), boxes.conf.cpu().numpy())):
        polygon = np.asarray(polygons[k]).round(2).tolist() if polygons is not None else None
        out.append(Detection(int(c), name(int(c)), float(p), xyxy[k].round(2).tolist(), polygon=polygon))
    return out


class Predictor:
    """Keeps one loaded model for repeated calls (the GUI predicts many times with the same model)."""

    def __init__(self, package: ModelPackage, device: str | None = None):
        self.package = package
        self.device = device
        self._model = load_yolo(package.weights)

    def predict(self, images: Iterable[Any], conf: float = 0.25, imgsz: int | None = None) -> list[list[Detection]]:
        """Detections per image; `images` are paths or arrays (gray, or BGR as OpenCV reads them)."""
        if not 0.0 <= conf <= 1.0:
            raise ConfigError(f"The confidence threshold must be from 0 to 1; got {conf}.", field="conf")
        sources = [_as_bgr(i) for i in images]
        if not sources:
            return []
        kwargs: dict[str, Any] = {"conf": conf, "imgsz": imgsz or self.package.imgsz, "verbose": False}
        if self.device:
            kwargs["device"] = self.device
        with contextlib.redirect_stdout(sys.stderr):
            results = self._model.predict(sources, **kwargs)
        return [_detections(r, self.package.classes) for r in results]


def predict(package: ModelPackage, images: Iterable[Any], conf: float = 0.25, imgsz: int | None = None,
            device: str | None = None) -> list[list[Detection]]:
    """One-off prediction: load the package's model and run it on `images`."""
    return Predictor(package, device).predict(images, conf=conf, imgsz=imgsz)
