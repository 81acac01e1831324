"""Reading a model package: the folder a finished run leaves in `runs/<id>/model/` (or an import leaves in
the library), holding the weights and `metadata.json`. The facts a package carries are read in this one
place; `training.package` writes them. `models.resolve` turns what a user typed into a package.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cardgrader.errors import ConfigError
from cardgrader.training.package import METADATA, WEIGHTS

DEFAULT_IMGSZ = 640


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


def read_package(folder: Path) -> ModelPackage:
    """A package folder (metadata.json + weights) as a ModelPackage; a sentence when it is not one."""
    meta_path = folder / METADATA
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"The model package {folder} has an unreadable {METADATA} ({exc}).", field="model") from None
    weights = folder / str(meta.get("weights") or WEIGHTS)
    if not weights.is_file():
        raise ConfigError(f"The model package {folder} has no weights file {weights.name}.", field="model")
    classes = meta.get("classes")
    if not isinstance(classes, list) or not classes:
        raise ConfigError(f"{meta_path} lists no classes; is it a cardgrader model package?", field="model")
    return ModelPackage(
        weights=weights, arch=str(meta.get("arch") or "detect"), classes=[str(c) for c in classes],
        imgsz=int(meta.get("imgsz") or DEFAULT_IMGSZ), task=meta.get("task"), name=str(meta.get("name") or folder.parent.name),
        run_id=meta.get("run"), folder=folder, metadata=meta,
    )
