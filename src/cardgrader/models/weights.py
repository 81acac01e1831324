"""What a bare `.pt` holds: its architecture, classes and image size, read from the checkpoint itself
(which `load_yolo` checks before anything unpickles it)."""

from __future__ import annotations

from pathlib import Path

from cardgrader.models.predict import load_yolo
from cardgrader.training.package import DEFAULT_IMGSZ, ModelPackage


def read_weights(path: Path) -> ModelPackage:
    """A bare .pt: the classes and architecture come from the checkpoint itself (checked, then loaded)."""
    model = load_yolo(path)
    names = model.names
    classes = [str(names[k]) for k in sorted(names)] if isinstance(names, dict) else [str(n) for n in names]
    imgsz = (getattr(model, "overrides", None) or {}).get("imgsz") or DEFAULT_IMGSZ
    return ModelPackage(weights=path, arch=str(model.task or "detect"), classes=classes,
                        imgsz=int(imgsz if isinstance(imgsz, int) else DEFAULT_IMGSZ), name=path.stem)
