"""What a run trains on: a dataset `cardgrader.data` built in our own data dir, never the user's folder.

The sources of a run request (`--data`, repeatable, or what was dropped in the GUI) may be anything
`data import` reads (an Ultralytics folder or YAML, COCO, VOC, LabelMe, flat
folders of images and labels). It is imported for the run's architecture, task, border type, side and
classes: converted, validated, split without leakage, hard-linked or copied (Ultralytics writes caches
into the dataset it trains on, and re-saves JPEGs that lack their end marker). The build is reused while
its sources and settings are unchanged. A dataset `data import` built already is used as it is.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import yaml

from cardgrader.errors import DataError
from cardgrader.training.config import TrainingConfig
from cardgrader.training.request import RunRequest


@dataclass
class PreparedDataset:
    yaml_path: Path  # the run's own dataset.yaml
    names: list[str]
    counts: dict[str, int]  # images per split
    fingerprint: str
    origin: str  # what the grader gave as --data


def built_by_import(path: Path) -> dict | None:
    """The import result recorded beside a dataset `data import` built (None for any other folder)."""
    from cardgrader.data.build import MANIFEST  # the data package loads numpy: only when a run needs it

    root = path.parent if path.is_file() else path
    try:
        return json.loads((root / MANIFEST).read_text(encoding="utf-8"))["result"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def check_source(request: RunRequest) -> None:
    """Fast checks in the caller's thread, so a wrong --data never becomes a run."""
    request.check()
    from cardgrader.data.find import find

    config = request.config
    for source in request.sources:
        path = Path(source)
        built = built_by_import(path)
        if built is not None:
            if len(request.sources) == 1 and (built.get("arch") != config.arch or built.get("classes") != config.class_names):
                raise DataError(
                    f"The dataset at {path} was built for {built.get('arch')} with classes "
                    f"{', '.join(built.get('classes') or [])}, but this run trains {config.arch} with classes "
                    f"{', '.join(config.class_names)}. Give the original photos as --data (they are imported for this "
                    "run), or build a dataset for it with `cardgrader data import`."
                )
            continue
        found = find([path])
        if not any(f.tasks for f in found):
            errors = [x.message for f in found for x in f.findings if x.severity == "error"]
            raise DataError(errors[0] if errors else f"{path} holds no images to train on.")


def run_dataset(run_dir: Path) -> dict | None:
    """The dataset a run already trained on, when its files are still there (what a resume continues on)."""
    try:
        spec = yaml.safe_load((run_dir / "dataset.yaml").read_text(encoding="utf-8"))
        root = Path(spec["path"])
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return None
    built = built_by_import(root)
    return built if built is not None and (root / "data.yaml").is_file() else None


def check_resumable(request: RunRequest, run_dir: Path) -> None:
    """A resume continues on the run's own dataset; only when that is gone must the original data be there."""
    if run_dataset(run_dir) is None:
        check_source(request)


def prepare(request: RunRequest, run_dir: Path, progress: Callable[[str], None] | None = None,
            cancel: threading.Event | None = None, resuming: bool = False) -> PreparedDataset:
    """Build (or reuse) the dataset for this run and write the run's `dataset.yaml`."""
    if resuming and (built := run_dataset(run_dir)) is not None:
        return _written(request.config, run_dir, built, request)
    return _written(request.config, run_dir, build(request, progress, cancel), request)


def build(request: RunRequest, progress: Callable[[str], None] | None = None,
          cancel: threading.Event | None = None) -> dict:
    """The dataset of a request: a lone dataset `data import` built is used as it is; anything else is
    imported (or an unchanged earlier import reused). Returns the import's result as a dict."""
    from cardgrader.data.build import import_dataset

    config = request.config
    built = built_by_import(Path(request.sources[0])) if len(request.sources) == 1 else None
    if built is not None:
        return built
    stages: list[str] = []

    def report(_done: int, _total: int, message: str) -> None:
        if progress and message not in stages:  # one line per stage, not per file
            stages.append(message)
            progress(f"Preparing the dataset: {message.lower()}")

    result = import_dataset(request.sources, arch=config.arch, task=config.task, border=config.border,
                            side=config.side, split_ratios=request.split, seed=request.seed,
                            classes=config.class_names, class_map=request.class_mapping(), progress=report,
                            cancel=cancel)
    if progress:
        reused = " (reused: the sources are unchanged)" if result.reused else ""
        counts = ", ".join(f"{n} {s}" for s, n in result.images.items())
        progress(f"Dataset ready{reused}: {counts} images in {result.root}")
        for note in result.notes:
            progress(note)
    return {"data_yaml": result.data_yaml, "images": result.images, "fingerprint": result.fingerprint}


def _written(config: TrainingConfig, run_dir: Path, built: dict, request: RunRequest) -> PreparedDataset:
    spec = yaml.safe_load(Path(built["data_yaml"]).read_text(encoding="utf-8"))
    spec["path"] = str(Path(built["data_yaml"]).parent)
    yaml_path = run_dir / "dataset.yaml"
    yaml_path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return PreparedDataset(yaml_path, list(config.class_names), dict(built["images"]), built["fingerprint"],
                           ", ".join(request.sources))
