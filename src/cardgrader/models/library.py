"""The model library: every finished run's model package plus imported `.pt` files, each with a unique
name and a semantic version within its *line* (task + side + architecture), and one active model per line.

Versions: the first model of a line is 1.0.0; a later one with the same classes as the line's newest
bumps the minor version, one with other classes bumps the major. The library is an index
(`models/library.json` in the data folder); the packages themselves stay where they are (a run's
`model/` folder, or `models/imported/<name>/` for imports). Finished runs join on every read, so a run
trained by the CLI, the GUI or another process is there without anyone registering it. Deleting a model
takes it out of the index (an imported one's copy goes too) but never touches a run's history.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cardgrader import paths
from cardgrader.errors import ConfigError
from cardgrader.models.weights import read_weights
from cardgrader.training.package import METADATA, WEIGHTS, Key, TimingKey, read_metadata, write_imported_package

INDEX = "library.json"
NAME_PATTERN = re.compile(r"^[^\s@/\\][^@/\\]{0,79}$")
TASKS = ("border", "corners", "edges", "surface", "centering")
SIDES = ("front", "back", "both")


@dataclass
class LibraryModel:
    name: str
    version: str
    task: str
    side: str
    arch: str
    classes: list[str]
    package: str  # the package folder
    run: str | None = None
    created: float = field(default_factory=time.time)
    metrics: dict[str, Any] = field(default_factory=dict)
    imported_from: str | None = None
    active: bool = False

    @property
    def line(self) -> tuple[str, str, str]:
        return (self.task, self.side, self.arch)

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version,
                "line": {"task": self.task, "side": self.side, "arch": self.arch},
                "classes": list(self.classes), "active": self.active, "run": self.run, "metrics": self.metrics,
                "package": self.package, "created": self.created, "imported_from": self.imported_from}


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def guess_task(classes: list[str]) -> str | None:
    """The grading task a class list belongs to, when the names say it."""
    text = " ".join(classes).lower()
    for task, words in (("border", ("border", "card", "outer", "inner")), ("corners", ("corner",)),
                        ("edges", ("edge",)), ("surface", ("scratch", "dent", "crease", "stain", "surface"))):
        if any(w in text for w in words):
            return task
    return None


class ModelLibrary:
    """Read and change the library of one data folder. Every method re-reads the index (another process
    may have trained or imported since) and writes it back atomically."""

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root else paths.models_dir()
        self.notes: list[str] = []  # what the last change did beyond what was asked (e.g. a new active model)

    # ---- the index ------------------------------------------------------------------------------------
    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads((self.root / INDEX).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"models": [], "removed_runs": []}
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"The model library {self.root / INDEX} cannot be read ({exc}); move it away "
                              "and the finished runs will be listed again.", field="models") from None
        data.setdefault("models", [])
        data.setdefault("removed_runs", [])
        return data

    def _write(self, data: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".library-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, ensure_ascii=False)
        os.replace(tmp, self.root / INDEX)

    @staticmethod
    def _models(data: dict[str, Any]) -> list[LibraryModel]:
        fields = LibraryModel.__dataclass_fields__
        return [LibraryModel(**{k: v for k, v in m.items() if k in fields}) for m in data["models"]]

    def _load(self) -> tuple[dict[str, Any], list[LibraryModel]]:
        data = self._read()
        models = self._models(data)
        if self._sync_runs(data, models):
            self._write(self._dump(data, models))
        return data, models

    @staticmethod
    def _dump(data: dict[str, Any], models: list[LibraryModel]) -> dict[str, Any]:
        return {**data, "models": [asdict(m) for m in models]}

    # ---- joining ------------------------------------------------------------------------------------------
    def _sync_runs(self, data: dict[str, Any], models: list[LibraryModel]) -> bool:
        """Add every finished run's package that is not in the library yet (nor removed from it), and drop
        entries whose package is gone (a run deleted with `runs delete`)."""
        gone = [m for m in models if not (Path(m.package) / METADATA).is_file()]
        for model in gone:
            models.remove(model)
            if model.active:
                self._promote_newest(models, model)
        known = {m.run for m in models if m.run} | set(data["removed_runs"])
        found = []
        runs = paths.runs_dir()
        if not runs.is_dir():
            return False
        for folder in runs.iterdir():
            meta_path = folder / "model" / METADATA
            if folder.name in known or not meta_path.is_file():
                continue
            try:
                meta = read_metadata(folder / "model")
            except ConfigError:
                continue
            finished = (meta.get(Key.TIMINGS) or {}).get(TimingKey.FINISHED)
            found.append((finished or meta_path.stat().st_mtime, folder, meta))
        for created, folder, meta in sorted(found, key=lambda f: f[0]):
            name = self._unique(models, str(meta.get(Key.NAME) or folder.name))
            self._add(models, LibraryModel(
                name=name, version="", task=str(meta.get(Key.TASK) or "border"), side=str(meta.get(Key.SIDE) or "both"),
                arch=str(meta.get(Key.ARCH) or "detect"), classes=[str(c) for c in meta.get(Key.CLASSES) or []],
                package=str(folder / "model"), run=folder.name, created=float(created),
                metrics=meta.get(Key.METRICS) or {}))
        return bool(found or gone)

    @staticmethod
    def _unique(models: list[LibraryModel], base: str) -> str:
        taken = {m.name for m in models}
        if base not in taken:
            return base
        n = 2
        while f"{base}-{n}" in taken:
            n += 1
        return f"{base}-{n}"

    def _add(self, models: list[LibraryModel], model: LibraryModel) -> LibraryModel:
        """Give `model` the next version of its line, and make it active if its line has none."""
        line = [m for m in models if m.line == model.line]
        newest = max(line, key=lambda m: _version_key(m.version), default=None)
        if newest is None:
            model.version = "1.0.0"
        else:
            major, minor, _patch = _version_key(newest.version)
            model.version = f"{major}.{minor + 1}.0" if newest.classes == model.classes else f"{major + 1}.0.0"
        model.active = not any(m.active for m in line)
        models.append(model)
        return model

    # ---- reading --------------------------------------------------------------------------------------
    def list(self) -> list[LibraryModel]:
        _data, models = self._load()
        return sorted(models, key=lambda m: (m.line, _version_key(m.version)))

    def find(self, ref: str) -> LibraryModel | None:
        """`name` (its newest version) or `name@version`; None when nothing is called that."""
        name, _, version = str(ref).partition("@")
        matches = [m for m in self.list() if m.name == name and (not version or m.version == version)]
        return max(matches, key=lambda m: _version_key(m.version), default=None)

    def get(self, ref: str) -> LibraryModel:
        model = self.find(ref)
        if model is None:
            names = ", ".join(m.label for m in self.list()[:8]) or "none yet"
            raise ConfigError(f"No model in the library is called {ref!r} (models: {names}); "
                              "`cardgrader models list` shows them all.", field="model")
        return model

    def active(self, task: str, side: str | None = None, arch: str | None = None) -> LibraryModel | None:
        """The active model for a task: the given side first, then a model trained on both sides."""
        candidates = [m for m in self.list() if m.active and m.task == task and (arch is None or m.arch == arch)]
        for wanted in ([side, "both"] if side else [None]):
            for model in sorted(candidates, key=lambda m: -m.created):
                if wanted is None or model.side == wanted:
                    return model
        return None

    # ---- changing -------------------------------------------------------------------------------------
    def _change(self, ref: str, change) -> LibraryModel:
        data, models = self._load()
        target = self._locate(models, ref)
        self.notes = []
        result = change(models, target)
        self._write(self._dump(data, models))
        return result

    def _locate(self, models: list[LibraryModel], ref: str) -> LibraryModel:
        name, _, version = str(ref).partition("@")
        matches = [m for m in models if m.name == name and (not version or m.version == version)]
        if not matches:
            self.get(ref)  # raises the sentence that lists what exists
        return max(matches, key=lambda m: _version_key(m.version))

    def activate(self, ref: str) -> LibraryModel:
        def change(models, target):
            for m in models:
                if m.line == target.line:
                    m.active = m is target
            return target

        return self._change(ref, change)

    def rename(self, ref: str, new_name: str) -> LibraryModel:
        new_name = str(new_name).strip()
        if not NAME_PATTERN.match(new_name):
            raise ConfigError(f"{new_name!r} cannot be a model name: use up to 80 characters, without @, / or \\, "
                              "not starting with a space.", field="name")

        def change(models, target):
            if any(m.name == new_name and m is not target for m in models):
                raise ConfigError(f"A model called {new_name!r} is already in the library; choose another name.",
                                  field="name")
            target.name = new_name
            return target

        return self._change(ref, change)

    def delete(self, ref: str) -> LibraryModel:
        data, models = self._load()
        target = self._locate(models, ref)
        self.notes = []
        models.remove(target)
        if target.run:
            data["removed_runs"] = sorted(set(data["removed_runs"]) | {target.run})
        if target.active:
            self._promote_newest(models, target)
        self._write(self._dump(data, models))
        imported = self.root / "imported"
        package = Path(target.package)
        if target.imported_from and imported in package.parents:
            shutil.rmtree(package, ignore_errors=True)  # our own copy; the user's file is never touched
        return target

    def _promote_newest(self, models: list[LibraryModel], removed: LibraryModel) -> None:
        """The active model of a line went: the newest remaining one takes over, and a note says so."""
        line = [m for m in models if m.line == removed.line]
        where = f"{removed.task} / {removed.side} / {removed.arch}"
        if line:
            newest = max(line, key=lambda m: (m.created, _version_key(m.version)))
            newest.active = True
            self.notes.append(f"{newest.label} is now the active model for {where}.")
        else:
            self.notes.append(f"No model is active for {where} any more.")

    def import_weights(self, file: str | Path, name: str | None = None, task: str | None = None,
                       side: str | None = None) -> LibraryModel:
        """Copy a `.pt` from elsewhere into the library (checked, then loaded offline to read its classes)."""
        source = Path(file).expanduser()
        if source.suffix.lower() != ".pt" or not source.is_file():
            raise ConfigError(f"{source} is not a .pt file; give the path of a PyTorch weights file.", field="file")
        read = read_weights(source)  # checks the pickle before anything loads it, then reads arch and classes
        task = task or guess_task(read.classes)
        if task is None:
            raise ConfigError(f"Cannot tell which grading task {source.name} is for from its classes "
                              f"({', '.join(read.classes)}); give --task ({', '.join(TASKS)}).", field="task")
        if task not in TASKS:
            raise ConfigError(f"--task must be one of {', '.join(TASKS)}; got {task!r}.", field="task")
        side = side or "both"
        if side not in SIDES:
            raise ConfigError(f"--side must be one of {', '.join(SIDES)}; got {side!r}.", field="side")
        data, models = self._load()
        name = (name or source.stem).strip()
        if not NAME_PATTERN.match(name):
            raise ConfigError(f"{name!r} cannot be a model name: use up to 80 characters, without @, / or \\.",
                              field="name")
        if any(m.name == name for m in models):
            raise ConfigError(f"A model called {name!r} is already in the library; give another --name.", field="name")
        folder = self.root / "imported" / re.sub(r"[^A-Za-z0-9._-]+", "_", name)
        while folder.exists():
            folder = folder.with_name(folder.name + "_")
        folder.mkdir(parents=True)
        shutil.copyfile(source, folder / WEIGHTS)
        write_imported_package(folder, name=name, arch=read.arch, task=task, side=side, classes=read.classes,
                               imgsz=read.imgsz, source=str(source))
        model = self._add(models, LibraryModel(name=name, version="", task=task, side=side, arch=read.arch,
                                               classes=list(read.classes), package=str(folder),
                                               imported_from=str(source)))
        self._write(self._dump(data, models))
        return model
