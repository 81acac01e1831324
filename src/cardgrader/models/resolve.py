"""Finding a trained model from what the user typed.

`resolve_model(ref)` accepts, in this order: a model package folder (`metadata.json` + `best.pt`), a run
folder holding one, a `metadata.json` file, a bare `.pt` file, a model name from the library with an
optional `@VERSION`, or a run id, unique id prefix or run name from the run store. Everything that
predicts, exports, evaluates or validates starts here.
"""

from __future__ import annotations

from pathlib import Path

from cardgrader.errors import ConfigError
from cardgrader.models.library import ModelLibrary
from cardgrader.models.weights import read_weights
from cardgrader.training.package import METADATA, ModelPackage, read_package
from cardgrader.training.store import RunStore


def _from_library(ref: str) -> ModelPackage | None:
    entry = ModelLibrary().find(ref)
    if entry is None:
        return None
    package = read_package(Path(entry.package))
    package.name = entry.name
    package.metadata = {**package.metadata, "library": entry.to_json()}
    return package


def resolve_model(ref: str | Path) -> ModelPackage:
    """The model a user means by `ref`; a ConfigError that says what was tried when nothing fits."""
    path = Path(ref).expanduser()
    if path.is_dir():
        if (path / METADATA).is_file():
            return read_package(path)
        if (path / "model" / METADATA).is_file():
            return read_package(path / "model")
        raise ConfigError(f"The folder {path} is not a model package (no {METADATA}) or a finished run's folder.",
                          field="model")
    if path.is_file():
        if path.name == METADATA:
            return read_package(path.parent)
        if path.suffix == ".pt":
            return read_weights(path)
        raise ConfigError(f"{path} is not a model: give a run, a model name, a model package folder or a .pt file.",
                          field="model")
    from_library = _from_library(str(ref))
    if from_library is not None:
        return from_library
    try:
        record = RunStore().resolve(str(ref))
    except ConfigError:
        raise ConfigError(f"No model, run, model package or weights file matches {str(ref)!r}; "
                          "`cardgrader models list` and `cardgrader runs list` show what there is.",
                          field="model") from None
    package = Path(record.folder) / "model"
    if not (package / METADATA).is_file():
        raise ConfigError(f"Run '{record.name}' ({record.id}) has no model package yet (it is {record.status}); "
                          "a run leaves one when it finishes.", field="model")
    return read_package(package)
