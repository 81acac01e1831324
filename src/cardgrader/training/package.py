"""The model package a finished run leaves in `runs/<id>/model/`: the best weights and `metadata.json`.

Everything that predicts, exports or validates with a trained model reads this package, so it carries
what they need to know without the run: classes, architecture, task, image size, how it scored, what
data it saw (a fingerprint), and the versions it was trained with.
"""

from __future__ import annotations

import json
import platform
import shutil
import time
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from cardgrader import __version__
from cardgrader.training import events
from cardgrader.training.config import TrainingConfig

PACKAGE_FORMAT = 1
METADATA = "metadata.json"
WEIGHTS = "best.pt"


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
        "format": PACKAGE_FORMAT,
        "run": run_id,
        "name": config.name,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "weights": WEIGHTS,
        "arch": config.arch,
        "task": config.task,
        "side": config.side,
        "border": config.border,
        "classes": config.class_names,
        "imgsz": config.imgsz,
        "model": f"{config.family}{config.size}",
        "config": {**config.to_dict(), "classes": config.class_names},
        "dataset": dataset,
        "metrics": final.get("metrics") or (epochs[-1]["metrics"] if epochs else {}),
        "best_epoch": best_epoch["epoch"] if best_epoch else None,
        "epochs_done": final.get("epoch"),
        "timings": {
            "started": starts[0] if starts else None,
            "finished": final.get("time"),
            "seconds": round(final["time"] - starts[0], 2) if starts and final.get("time") else None,
            "epoch_seconds": [e.get("seconds") for e in epochs],
        },
        "versions": versions(),
    }
    (package / METADATA).write_text(json.dumps(info, indent=2, ensure_ascii=False), encoding="utf-8")
    return package


def write_imported_package(folder: Path, name: str, arch: str, task: str, side: str, classes: list[str],
                           imgsz: int, source: str) -> Path:
    """Describe a `.pt` imported from elsewhere (already copied to `folder/best.pt`) in the same format."""
    info = {
        "format": PACKAGE_FORMAT,
        "run": None,
        "name": name,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "weights": WEIGHTS,
        "arch": arch,
        "task": task,
        "side": side,
        "classes": list(classes),
        "imgsz": imgsz,
        "imported_from": source,
        "metrics": {},
        "versions": versions(),
    }
    (folder / METADATA).write_text(json.dumps(info, indent=2, ensure_ascii=False), encoding="utf-8")
    return folder
