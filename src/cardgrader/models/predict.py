"""Running a trained model on images; results come back as plain dataclasses, never tensors.

Ultralytics is imported only when a model is loaded, by `cardgrader.yolo_runtime`, after the environment
is switched offline, so predicting never tries a download. Every model the app runs is loaded by
`load_yolo`: a `.pt` is checked before anything unpickles it; an exported `.onnx` holds no code and runs on
onnxruntime.

For the GUI: keep one `Predictor`, call `predict_image(path, conf=ALL_CONF)` from a worker thread, and
re-filter the returned `Prediction` with `above(conf)` as the confidence slider moves (detections at a
higher threshold are exactly the low-threshold ones above it: NMS keeps the stronger of two boxes).
"""

from __future__ import annotations

import contextlib
import sys
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from cardgrader import yolo_runtime
from cardgrader.errors import ConfigError, DataError
from cardgrader.training.config import DEVICE_PATTERN
from cardgrader.training.package import ModelPackage
from cardgrader.training.preflight import devices_here, missing_device
from cardgrader.training.safe_weights import check_weights_file

DEFAULT_CONF = 0.25
ALL_CONF = 0.01  # "every detection worth showing": predict once at this, filter afterwards


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

    def to_record(self) -> dict[str, Any]:
        """The shape `predict --json` prints (README, Command line): class, class_id, confidence, box, polygon | corners."""
        record: dict[str, Any] = {"class": self.class_name, "class_id": self.class_id,
                                  "confidence": round(self.confidence, 4), "box": self.box}
        if self.polygon is not None:
            record["polygon"] = self.polygon
        if self.corners is not None:
            record["corners"] = self.corners
        return record


def above(detections: Iterable[Detection], conf: float) -> list[Detection]:
    """The detections at or above a confidence threshold, in their order."""
    return [d for d in detections if d.confidence >= conf]


@dataclass
class Prediction:
    """What a model found in one image, and the image's size in pixels."""

    image: str  # the file, or "" for an array
    width: int
    height: int
    detections: list[Detection] = field(default_factory=list)
    conf: float = DEFAULT_CONF  # the threshold it was predicted at

    def above(self, conf: float) -> list[Detection]:
        return above(self.detections, conf)

    def to_record(self, overlay: str | Path | None = None) -> dict[str, Any]:
        record: dict[str, Any] = {"image": self.image, "width": self.width, "height": self.height,
                                  "detections": [d.to_record() for d in self.detections]}
        if overlay is not None:
            record["overlay"] = str(overlay)
        return record


def check_conf(conf: float) -> float:
    if not isinstance(conf, (int, float)) or not 0.0 <= conf <= 1.0:
        raise ConfigError(f"The confidence threshold must be from 0 to 1; got {conf}.", field="conf")
    return float(conf)


def check_device(device: str | None) -> str | None:
    """The Ultralytics device for what the user asked (None: Ultralytics chooses); a sentence when the
    device is not one cardgrader knows or does not exist on this computer."""
    if device is None or device == "auto":
        return None
    device = str(device).strip().lower()
    if not DEVICE_PATTERN.match(device):
        raise ConfigError(f"--device must be auto, cpu, mps, cuda, cuda:N or GPU numbers like 0 or 0,1; got {device!r}.",
                          field="device")
    if device != "cpu":
        problem = missing_device(device, devices_here())
        if problem:
            raise ConfigError(problem.replace("Config field 'device': ", "--device: "), field="device")
    return device


def read_image(path: str | Path) -> np.ndarray:
    """An image file as 8-bit BGR (EXIF orientation applied); a sentence naming it when it cannot be read."""
    import cv2

    path = Path(path)
    if not path.is_file():
        raise DataError(f"The image {path} does not exist.")
    try:
        data = np.fromfile(str(path), dtype=np.uint8)  # not cv2.imread: it fails on non-ASCII paths on Windows
    except OSError as exc:
        raise DataError(f"The image {path} cannot be read ({exc.strerror or exc}).") from None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None or image.size == 0:
        raise DataError(f"The image {path} cannot be read: it is damaged or not an image.")
    return image


def load_yolo(weights: str | Path, task: str | None = None):
    """An Ultralytics model from a weights file (`.pt`, or an exported `.onnx`), loaded offline by
    `yolo_runtime.load_yolo`; a `.pt` is checked (`check_weights_file`) before anything unpickles it."""
    return yolo_runtime.load_yolo(weights, task=task, check=check_weights_file)


def _as_bgr(image: Any) -> np.ndarray:
    """Paths are read; arrays become 8-bit BGR, which Ultralytics expects."""
    if isinstance(image, (str, Path)):
        return read_image(image)
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
    """Keeps one loaded model for repeated calls (the GUI predicts many times with the same model).

    Safe to call from a worker thread; calls from several threads take turns (one model, one predictor).
    """

    def __init__(self, package: ModelPackage, device: str | None = None):
        self.package = package
        self.device = check_device(device)
        self.exported = package.weights.suffix.lower() == ".onnx"
        self._model = load_yolo(package.weights, task=package.arch)
        self._lock = threading.Lock()
        self._runtime_tuned = not self.exported

    def image_size(self, imgsz: int | None = None) -> int:
        """The input size a call with `imgsz` runs at (the package's when None); a sentence when it cannot."""
        if imgsz is None:
            return self.package.imgsz
        if not isinstance(imgsz, int) or not 32 <= imgsz <= 8192:
            raise ConfigError(f"The image size must be a whole number of pixels from 32 to 8192; got {imgsz}.",
                              field="imgsz")
        if self.exported and not self.package.metadata.get("dynamic") and imgsz != self.package.imgsz:
            raise ConfigError(f"{self.package.weights.name} was exported for {self.package.imgsz} px images; "
                              f"--imgsz {imgsz} needs another export (or leave --imgsz out).", field="imgsz")
        return imgsz

    def _run(self, arrays: list[np.ndarray], conf: float, imgsz: int) -> list[list[Detection]]:
        kwargs: dict[str, Any] = {"conf": conf, "imgsz": imgsz, "verbose": False}
        if self.device:
            kwargs["device"] = self.device
        with self._lock, contextlib.redirect_stdout(sys.stderr):
            results = self._model.predict(arrays, **kwargs)
            if not self._runtime_tuned:  # Ultralytics builds its ONNX session on the first call
                self._runtime_tuned = True
                self._onnx_without_spinning()
        return [_detections(r, self.package.classes) for r in results]

    def _onnx_without_spinning(self) -> None:
        """Rebuild Ultralytics' onnxruntime session with the same providers but idle worker threads that sleep.

        onnxruntime's threads spin while they wait by default. On a desktop CPU shared with the GUI or other
        jobs that costs more than it saves: on a busy 2-core machine, yolo11n at 640 px took 153 ms per photo
        spinning and 86 ms not (bench/predict_speed.py measures it). GPU sessions are left as they are.
        """
        backend = getattr(getattr(getattr(self._model, "predictor", None), "model", None), "backend", None)
        session = getattr(backend, "session", None)
        if session is None or getattr(backend, "use_io_binding", False):
            return
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        backend.session = onnxruntime.InferenceSession(str(self.package.weights), options,
                                                       providers=session.get_providers())

    def predict(self, images: Iterable[Any], conf: float = DEFAULT_CONF,
                imgsz: int | None = None) -> list[list[Detection]]:
        """Detections per image; `images` are paths or arrays (gray, or BGR as OpenCV reads them)."""
        conf = check_conf(conf)
        size = self.image_size(imgsz)
        arrays = [_as_bgr(i) for i in images]
        return self._run(arrays, conf, size) if arrays else []

    def predict_image(self, image: str | Path | np.ndarray, conf: float = DEFAULT_CONF,
                      imgsz: int | None = None) -> Prediction:
        """One image (a path, or a BGR/gray array) → a Prediction with its size and detections.

        Give `conf=ALL_CONF` to get every detection once and filter with `Prediction.above(conf)` later.
        """
        conf = check_conf(conf)
        size = self.image_size(imgsz)
        array = _as_bgr(image)
        detections = self._run([array], conf, size)[0]
        name = str(image) if isinstance(image, (str, Path)) else ""
        return Prediction(name, int(array.shape[1]), int(array.shape[0]), detections, conf)


def predict(package: ModelPackage, images: Iterable[Any], conf: float = DEFAULT_CONF, imgsz: int | None = None,
            device: str | None = None) -> list[list[Detection]]:
    """One-off prediction: load the package's model and run it on `images`."""
    return Predictor(package, device).predict(images, conf=conf, imgsz=imgsz)
