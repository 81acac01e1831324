"""Finding a trained model from what the user typed: a run, a model package folder, or a weights file.

`resolve_model(ref)` accepts, in this order: a model package folder (`metadata.json` + `best.pt`, as a
finished run leaves in `runs/<id>/model/`), a run folder holding one, a `metadata.json` file, a bare
`.pt` file, or a run id, unique id prefix or run name from the run store. Everything that predicts,
exports or validates starts here, so the facts a package carries are read in this one place.
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


def _from_folder(folder: Path) -> ModelPackage:
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


def _from_weights(path: Path) -> ModelPackage:
    """A bare .pt: the classes and architecture come from the checkpoint itself (this loads it)."""
    from cardgrader.models.predict import load_yolo

    model = load_yolo(path)
    names = model.names
    classes = [str(names[k]) for k in sorted(names)] if isinstance(names, dict) else [str(n) for n in names]
    imgsz = (getattr(model, "overrides", None) or {}).get("imgsz") or DEFAULT_IMGSZ
    return ModelPackage(weights=path, arch=str(model.task or "detect"), classes=classes,
                        imgsz=int(imgsz if isinstance(imgsz, int) else DEFAULT_IMGSZ), name=path.stem)


def resolve_model(ref: str | Path) -> ModelPackage:
    """The model a user means by `ref`; a ConfigError that says what was tried when nothing fits."""
    path = Path(ref).expanduser()
    if path.is_dir():
        if (path / METADATA).is_file():
            return _from_folder(path)
        if (path / "model" / METADATA).is_file():
            return _from_folder(path / "model")
        raise ConfigError(f"The folder {path} is not a model package (no {METADATA}) or a finished run's folder.",
                          field="model")
    if path.is_file():
        if path.name == METADATA:
            return _from_folder(path.parent)
        if path.suffix == ".pt":
            return _from_weights(path)
        raise ConfigError(f"{path} is not a model: give a run, a model package folder or a .pt file.", field="model")
    from cardgrader.training.store import RunStore

    try:
        record = RunStore().resolve(str(ref))
    except ConfigError:
        raise ConfigError(f"No run, model package or weights file matches {str(ref)!r}; `cardgrader runs list` "
                          "shows the runs.", field="model") from None
    package = Path(record.folder) / "model"
    if not (package / METADATA).is_file():
        raise ConfigError(f"Run '{record.name}' ({record.id}) has no model package yet (it is {record.status}); "
                          "a run leaves one when it finishes.", field="model")
    return _from_folder(package)
