"""The model package: the folder a finished run leaves in `runs/<id>/model/` (or an import leaves in the
library), holding the best weights and `metadata.json`. This module owns the format: the file names, the
keys of `metadata.json` (`Key`, named once), writing a package and reading one back (`read_package`).

Everything that predicts, exports or validates with a trained model reads this package, so it carries
what they need to know without the run: classes, architecture, task, image size, how it scored, what
data it saw (a fingerprint), and the versions it was trained with.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import time
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from cardgrader import __version__
from cardgrader.errors import ConfigError
from cardgrader.training import events
from cardgrader.training.config import TrainingConfig

PACKAGE_FORMAT = 1
METADATA = "metadata.json"
WEIGHTS = "best.pt"
DEFAULT_IMGSZ = 640


class Key:
    """The keys of `metadata.json`. The writers and readers here, and every other module that looks inside a
    package's metadata (the model library, export records, the ONNX reader), name a key only through these."""

    FORMAT = "format"
    RUN = "run"
    NAME = "name"
    CREATED = "created"
    WEIGHTS = "weights"
    ARCH = "arch"  # detect | segment | obb
    TASK = "task"  # the card grader's task (border, corners, edges, surface, centering)
    SIDE = "side"
    BORDER = "border"
    CLASSES = "classes"
    IMGSZ = "imgsz"
    MODEL = "model"
    CONFIG = "config"
    DATASET = "dataset"
    METRICS = "metrics"
    BEST_EPOCH = "best_epoch"
    EPOCHS_DONE = "epochs_done"
    TIMINGS = "timings"
    VERSIONS = "versions"
    IMPORTED_FROM = "imported_from"
    EXPORTS = "exports"  # added by `cardgrader export`, one entry per exported file


class TimingKey:
    """The keys under `timings`."""

    STARTED = "started"
    FINISHED = "finished"
    SECONDS = "seconds"
    EPOCH_SECONDS = "epoch_seconds"


# ---- writing ----------------------------------------------------------------------------------------

def _version(dist: str) -> str | None:
    try:
        return importlib_metadata.version(dist)
    except importlib_metadata.PackageNotFoundError:
        return None


def versions() -> dict[str, str | None]:
    return {
        "cardgrader": __version__,
        "ultralytics": _version("ultralytics"),
        "torch": _version("torch"),
        "torchvision": _version("torchvision"),
        "python": platform.python_version(),
    }


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def write_metadata(folder: Path, info: dict[str, Any]) -> Path:
    """Write `info` as the package's metadata.json, atomically (a reader never sees half a file)."""
    path = folder / METADATA
    tmp = path.with_name(f".{METADATA}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(info, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_package(run_dir: Path, run_id: str, config: TrainingConfig, dataset: dict[str, Any],
                  history: list[dict], final: dict) -> Path:
    """Copy best.pt into `model/` and describe it; returns the package folder."""
    best = run_dir / "weights" / WEIGHTS
    if not best.is_file():
        raise FileNotFoundError(f"Run {run_id} finished without {best}.")
    package = run_dir / "model"
    package.mkdir(exist_ok=True)
    shutil.copyfile(best, package / WEIGHTS)
    epochs = events.epoch_history(history)
    starts = [e["time"] for e in history if e["type"] == events.RUN_STARTED]
    best_epoch = max(epochs, key=lambda e: e.get("metrics", {}).get("mAP50_95") or -1.0, default=None)
    info = {
        Key.FORMAT: PACKAGE_FORMAT,
        Key.RUN: run_id,
        Key.NAME: config.name,
        Key.CREATED: _now(),
        Key.WEIGHTS: WEIGHTS,
        Key.ARCH: config.arch,
        Key.TASK: config.task,
        Key.SIDE: config.side,
        Key.BORDER: config.border,
        Key.CLASSES: config.class_names,
        Key.IMGSZ: config.imgsz,
        Key.MODEL: f"{config.family}{config.size}",
        Key.CONFIG: {**config.to_dict(), "classes": config.class_names},
        Key.DATASET: dataset,
        Key.METRICS: final.get("metrics") or (epochs[-1]["metrics"] if epochs else {}),
        Key.BEST_EPOCH: best_epoch["epoch"] if best_epoch else None,
        Key.EPOCHS_DONE: final.get("epoch"),
        Key.TIMINGS: {
            TimingKey.STARTED: starts[0] if starts else None,
            TimingKey.FINISHED: final.get("time"),
            TimingKey.SECONDS: round(final["time"] - starts[0], 2) if starts and final.get("time") else None,
            TimingKey.EPOCH_SECONDS: [e.get("seconds") for e in epochs],
        },
        Key.VERSIONS: versions(),
    }
    write_metadata(package, info)
    return package


def write_imported_package(folder: Path, name: str, arch: str, task: str, side: str, classes: list[str],
                           imgsz: int, source: str) -> Path:
    """Describe a `.pt` imported from elsewhere (already copied to `folder/best.pt`) in the same format."""
    info = {
        Key.FORMAT: PACKAGE_FORMAT,
        Key.RUN: None,
        Key.NAME: name,
        Key.CREATED: _now(),
        Key.WEIGHTS: WEIGHTS,
        Key.ARCH: arch,
        Key.TASK: task,
        Key.SIDE: side,
        Key.CLASSES: list(classes),
        Key.IMGSZ: imgsz,
        Key.IMPORTED_FROM: source,
        Key.METRICS: {},
        Key.VERSIONS: versions(),
    }
    write_metadata(folder, info)
    return folder


# ---- reading ----------------------------------------------------------------------------------------

@dataclass
class ModelPackage:
    """A model ready to load: its weights and what they detect."""

    weights: Path
    arch: str  # detect | segment | obb
    classes: list[str]
    imgsz: int = DEFAULT_IMGSZ
    task: str | None = None  # the card grader's task (border, corners, edges, surface, centering)
    name: str = ""
    run_id: str | None = None
    folder: Path | None = None  # the package folder; None for a bare weights file
    metadata: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "run": self.run_id, "weights": str(self.weights), "arch": self.arch,
                "task": self.task, "classes": list(self.classes), "imgsz": self.imgsz}


def read_metadata(folder: Path) -> dict[str, Any]:
    """The package's metadata.json as a dict; a ConfigError (one sentence) when it cannot be read."""
    try:
        meta = json.loads((folder / METADATA).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"The model package {folder} has an unreadable {METADATA} ({exc}).", field="model") from None
    if not isinstance(meta, dict):
        raise ConfigError(f"The model package {folder} has an unreadable {METADATA} (not a JSON object).",
                          field="model")
    return meta


def read_package(folder: Path) -> ModelPackage:
    """A package folder (metadata.json + weights) as a ModelPackage; a sentence when it is not one."""
    meta = read_metadata(folder)
    weights = folder / str(meta.get(Key.WEIGHTS) or WEIGHTS)
    if not weights.is_file():
        raise ConfigError(f"The model package {folder} has no weights file {weights.name}.", field="model")
    classes = meta.get(Key.CLASSES)
    if not isinstance(classes, list) or not classes:
        raise ConfigError(f"{folder / METADATA} lists no classes; is it a cardgrader model package?", field="model")
    return ModelPackage(
        weights=weights, arch=str(meta.get(Key.ARCH) or "detect"), classes=[str(c) for c in classes],
        imgsz=int(meta.get(Key.IMGSZ) or DEFAULT_IMGSZ), task=meta.get(Key.TASK),
        name=str(meta.get(Key.NAME) or folder.parent.name), run_id=meta.get(Key.RUN), folder=folder, metadata=meta,
    )
