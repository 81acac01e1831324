"""Scoring models on a dataset split they did not train on, through Ultralytics' own validator.

`--data` is a dataset folder (one `cardgrader data import` built, or any Ultralytics dataset with a
data.yaml) or its data.yaml. The chosen split is staged — images hard-linked (or copied), labels copied —
into a folder under the app's `evaluations/`, because Ultralytics writes label caches beside the labels
(and re-saves damaged JPEGs): the dataset folder itself is only read. Each model's outputs (its
confusion matrix, `evaluation.json`) go to `evaluations/<time>-<dataset>-<split>-<random>/<model>/`.

Metrics follow the event vocabulary: precision, recall, mAP50, mAP50_95 (mask metrics for segmentation,
with the box metrics as box_*), overall and per class.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import yaml

from cardgrader import paths
from cardgrader.data.layout import SPLITS, label_path_for, link_or_copy, list_images
from cardgrader.errors import ConfigError, DataError
from cardgrader.models.predict import check_device, load_yolo
from cardgrader.training.events import finite, metrics_from_ultralytics
from cardgrader.training.package import ModelPackage

CONFUSION_MATRIX = "confusion_matrix.png"
RESULT = "evaluation.json"


@dataclass
class EvalSplit:
    """One split of a dataset, as found on disk."""

    data: Path  # the data.yaml it was read from
    split: str
    names: list[str]
    images: list[Path]
    arch: str | None = None  # what `data import` built it for, when it says


@dataclass
class Evaluation:
    name: str
    model: str  # the weights file
    arch: str
    data: str
    split: str
    images: int
    instances: int
    metrics: dict[str, float | None]
    per_class: list[dict[str, Any]]
    confusion_matrix: str | None  # the image, under the app's evaluations folder
    folder: str
    matrix: list[list[float]] = field(default_factory=list)  # rows: predicted class (+ background), cols: true
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _names(spec: dict, where: Path) -> list[str]:
    names = spec.get("names")
    if isinstance(names, dict):
        return [str(names[k]) for k in sorted(names, key=int)]
    if isinstance(names, list) and names:
        return [str(n) for n in names]
    raise DataError(f"{where} lists no class names (its 'names' entry is missing or empty).")


def _split_images(root: Path, entry: Any, where: Path) -> list[Path]:
    found: list[Path] = []
    for item in entry if isinstance(entry, list) else [entry]:
        path = Path(str(item))
        path = path if path.is_absolute() else root / path
        if path.is_dir():
            found += list_images(path)
        elif path.is_file() and path.suffix.lower() == ".txt":  # a list of image files, one a line
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    image = Path(line.strip())
                    found.append(image if image.is_absolute() else root / image)
        elif not path.exists():
            raise DataError(f"{where} names {path} for this split, and it does not exist.")
    return found


def load_split(data: str | Path, split: str = "test") -> EvalSplit:
    """The images and class names of one split of a dataset folder or data.yaml; a sentence when absent."""
    from cardgrader.training.dataset import built_by_import

    if split not in SPLITS:
        raise ConfigError(f"--split must be one of {', '.join(SPLITS)}; got {split!r}.", field="split")
    path = Path(data).expanduser()
    yaml_path = path / "data.yaml" if path.is_dir() else path
    if not path.exists():
        raise DataError(f"The dataset {path} does not exist.")
    if not yaml_path.is_file() or yaml_path.suffix.lower() not in (".yaml", ".yml"):
        raise DataError(f"{path} is not a dataset: give a folder built by `cardgrader data import` (it has a "
                        "data.yaml) or an Ultralytics data.yaml.")
    try:
        spec = yaml.safe_load(yaml_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DataError(f"{yaml_path} cannot be read as YAML ({type(exc).__name__}).") from None
    if not isinstance(spec, dict):
        raise DataError(f"{yaml_path} is not an Ultralytics data.yaml (no mapping of train/val/test and names).")
    root = Path(str(spec.get("path") or yaml_path.parent))
    root = root if root.is_absolute() else yaml_path.parent / root
    names = _names(spec, yaml_path)
    present = [s for s in SPLITS if spec.get(s)]
    if not spec.get(split):
        others = f"it has {', '.join(present)}" if present else "it lists no splits"
        raise DataError(f"The dataset {yaml_path} has no {split} split ({others}); choose one with --split, or "
                        "build a dataset with a test share (`cardgrader data import --split 0.7,0.15,0.15`).")
    images = _split_images(root, spec[split], yaml_path)
    if not images:
        raise DataError(f"The {split} split of {yaml_path} holds no images; choose another with --split.")
    built = built_by_import(yaml_path)
    return EvalSplit(yaml_path, split, names, images, (built or {}).get("arch"))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.") or "model"


def stage(split: EvalSplit, folder: Path) -> Path:
    """The split as a dataset of our own under `folder`; returns its data.yaml."""
    root = folder / "dataset"
    images, labels = root / "images" / split.split, root / "labels" / split.split
    images.mkdir(parents=True, exist_ok=True)
    labels.mkdir(parents=True, exist_ok=True)
    used: set[str] = set()
    for image in split.images:
        stem, n = image.stem, 1
        while stem.lower() in used:
            n += 1
            stem = f"{image.stem}_{n}"
        used.add(stem.lower())
        link_or_copy(image, images / f"{stem}{image.suffix}")
        label = label_path_for(image)
        if label.is_file():
            shutil.copyfile(label, labels / f"{stem}.txt")
    spec = {"path": str(root), **{s: f"images/{split.split}" for s in ("train", "val", split.split)},
            "names": dict(enumerate(split.names))}
    data_yaml = root / "data.yaml"
    data_yaml.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return data_yaml


def check_fits(package: ModelPackage, split: EvalSplit) -> None:
    """The model must know the dataset's classes, in the same order, and read its kind of labels."""
    if package.classes != split.names:
        raise DataError(f"The model '{package.name}' detects {', '.join(package.classes)} but the dataset "
                        f"{split.data} labels {', '.join(split.names)}; evaluate it on a dataset with its classes "
                        "(in the same order).")
    if split.arch and split.arch != package.arch and not (package.arch == "detect" and split.arch == "segment"):
        raise DataError(f"The model '{package.name}' is a {package.arch} model but the dataset {split.data} was built "
                        f"for {split.arch}; build one for {package.arch} with `cardgrader data import --arch "
                        f"{package.arch}`.")


def _quiet_validator(base: type) -> type:
    """Ultralytics' validator for the task, drawing only the confusion matrix (no sample mosaics, no curves)."""

    class Validator(base):
        def plot_val_samples(self, *args, **kwargs) -> None:
            pass

        def plot_predictions(self, *args, **kwargs) -> None:
            pass

        def get_stats(self):
            plots, self.args.plots = self.args.plots, False  # the curves; the matrix is drawn afterwards
            try:
                return super().get_stats()
            finally:
                self.args.plots = plots

    return Validator


def _per_class(metrics: Any, arch: str, names: list[str]) -> list[dict[str, Any]]:
    primary = metrics.seg if arch == "segment" else metrics.box
    index = {int(c): i for i, c in enumerate(primary.ap_class_index)}
    counts = getattr(metrics, "nt_per_class", None)
    images = getattr(metrics, "nt_per_image", None)
    rows = []
    for c, name in enumerate(names):
        row: dict[str, Any] = {"class": name, "class_id": c,
                               "images": int(images[c]) if images is not None and c < len(images) else None,
                               "instances": int(counts[c]) if counts is not None and c < len(counts) else None}
        keys = ("precision", "recall", "mAP50", "mAP50_95")
        values = primary.class_result(index[c]) if c in index else (None,) * 4
        row.update({k: finite(v) for k, v in zip(keys, values)})
        if arch == "segment":
            box = metrics.box.class_result(index[c]) if c in index else (None,) * 4
            row.update({f"box_{k}": finite(v) for k, v in zip(keys, box)})
        rows.append(row)
    return rows


def evaluate_one(package: ModelPackage, split: EvalSplit, data_yaml: Path, save_dir: Path,
                 device: str | None = None) -> Evaluation:
    started = time.time()
    model = load_yolo(package.weights)
    validator = _quiet_validator(model.task_map[model.task]["validator"])
    args = {"data": str(data_yaml), "split": split.split, "imgsz": package.imgsz, "batch": 8, "workers": 0,
            "plots": True, "verbose": False, "project": str(save_dir.parent), "name": save_dir.name, "exist_ok": True}
    if device:
        args["device"] = device
    try:
        with contextlib.redirect_stdout(sys.stderr):
            metrics = model.val(validator=validator, **args)
    except Exception as exc:  # noqa: BLE001 - Ultralytics' failure must end in a sentence
        raise DataError(f"Evaluating '{package.name}' on {split.data} ({split.split}) failed: "
                        f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}") from None
    save_dir = Path(getattr(metrics, "save_dir", save_dir))
    matrix_png = save_dir / CONFUSION_MATRIX
    confusion = getattr(metrics, "confusion_matrix", None)
    per_class = _per_class(metrics, package.arch, split.names)
    result = Evaluation(
        name=package.name or package.weights.stem, model=str(package.weights), arch=package.arch,
        data=str(split.data), split=split.split, images=len(split.images),
        instances=sum(r["instances"] or 0 for r in per_class),
        metrics=metrics_from_ultralytics(metrics.results_dict, package.arch), per_class=per_class,
        confusion_matrix=str(matrix_png) if matrix_png.is_file() else None, folder=str(save_dir),
        matrix=confusion.matrix.round(3).tolist() if confusion is not None else [],
        seconds=round(time.time() - started, 2),
    )
    (save_dir / RESULT).write_text(json.dumps(result.to_json(), indent=2, ensure_ascii=False), encoding="utf-8")
    return result


def evaluate(packages: Sequence[ModelPackage], data: str | Path, split: str = "test", device: str | None = None,
             progress: Callable[[int, int, str], None] | None = None) -> list[Evaluation]:
    """Score each model on the same split; every model is checked against the dataset before any runs."""
    device = check_device(device)
    chosen = load_split(data, split)
    for package in packages:
        if package.weights.suffix.lower() != ".pt":
            raise ConfigError(f"{package.weights} is an exported model; evaluate the .pt it was exported from.",
                              field="model")
        check_fits(package, chosen)
    dataset_name = chosen.data.parent.name if chosen.data.name == "data.yaml" else chosen.data.stem
    base = paths.home() / "evaluations"
    base.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{time.strftime('%Y%m%d-%H%M%S')}-{_slug(dataset_name)}-{split}-", dir=base))
    data_yaml = stage(chosen, folder)
    results, used = [], set()
    for k, package in enumerate(packages):
        if progress:
            progress(k, len(packages), f"evaluating {package.name}")
        name = base_name = _slug(package.name or package.weights.stem)
        while name.lower() in used or name == "dataset":
            name = f"{base_name}-{k + 1}" if name == base_name else f"{name}-{k + 1}"
        used.add(name.lower())
        results.append(evaluate_one(package, chosen, data_yaml, folder / name, device))
    if progress:
        progress(len(packages), len(packages), "done")
    return results
