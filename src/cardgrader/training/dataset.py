"""What a run trains on: an Ultralytics dataset in our own data dir, never the user's folder.

Ultralytics writes into the dataset it trains on (`labels/*.cache`, and it re-saves JPEGs that lack
their end marker), so a user's Ultralytics-layout folder is mirrored first: images are hard-linked
(copied when linking fails or the JPEG is incomplete) and labels copied. Datasets already in our
data dir (built by `cardgrader data import`) are used as they are.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from cardgrader import paths
from cardgrader.data.fingerprint import fingerprint
from cardgrader.data.layout import SPLITS, jpeg_is_complete, label_path_for, list_images
from cardgrader.errors import DataError

YAML_NAMES = ("data.yaml", "dataset.yaml")


@dataclass
class DatasetSource:
    """A dataset as found: its root, split folders and class names (None when the folder has no YAML)."""

    origin: Path
    root: Path
    splits: dict[str, Path]
    names: list[str] | None
    yaml_file: Path | None = None
    images: dict[str, list[Path]] = field(default_factory=dict)


@dataclass
class PreparedDataset:
    yaml_path: Path
    names: list[str]
    counts: dict[str, int]
    fingerprint: str
    origin: str


def _names_from(values: Any, where: Path) -> list[str]:
    if isinstance(values, dict):
        try:
            return [str(values[k]) for k in sorted(values, key=int)]
        except (TypeError, ValueError):
            raise DataError(f"The class names in {where} must be numbered 0, 1, 2, ...") from None
    if isinstance(values, list):
        return [str(v) for v in values]
    raise DataError(f"{where} has no 'names' list of classes.")


def _from_yaml(yaml_file: Path) -> DatasetSource:
    try:
        spec = yaml.safe_load(yaml_file.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DataError(f"The dataset file {yaml_file} cannot be read as YAML ({type(exc).__name__}).") from None
    if not isinstance(spec, dict):
        raise DataError(f"The dataset file {yaml_file} must be a mapping with train, val and names.")
    root = Path(spec.get("path") or yaml_file.parent)
    if not root.is_absolute():
        root = (yaml_file.parent / root).resolve()
    splits = {}
    for split in SPLITS:
        entry = spec.get(split)
        if entry is None:
            continue
        if not isinstance(entry, str):
            raise DataError(f"'{split}' in {yaml_file} lists several sources; import it with `cardgrader data import` first.")
        folder = (root / entry).resolve()
        if folder.suffix == ".txt":
            raise DataError(f"'{split}' in {yaml_file} is a list file; import it with `cardgrader data import` first.")
        splits[split] = folder
    return DatasetSource(yaml_file, root, splits, _names_from(spec.get("names"), yaml_file), yaml_file)


def find_dataset(data: str | Path) -> DatasetSource:
    """Locate a dataset from a YAML file or an Ultralytics-layout folder (fast: no image is read)."""
    if not str(data).strip():
        raise DataError("No training data chosen: give --data a dataset folder or its data.yaml.")
    path = Path(data).expanduser()
    if not path.exists():
        raise DataError(f"The data path {path} does not exist.")
    if path.is_file():
        if path.suffix.lower() not in (".yaml", ".yml"):
            raise DataError(f"{path} is a file but not a dataset YAML; choose the dataset folder or its data.yaml.")
        source = _from_yaml(path.resolve())
    else:
        yaml_file = next((path / n for n in YAML_NAMES if (path / n).is_file()), None)
        if yaml_file:
            source = _from_yaml(yaml_file.resolve())
        else:
            root = path.resolve()
            splits = {s: root / "images" / s for s in SPLITS if (root / "images" / s).is_dir()}
            splits.update({s: root / s / "images" for s in SPLITS if (root / s / "images").is_dir() and s not in splits})
            if "val" not in splits and (root / "valid" / "images").is_dir():
                splits["val"] = root / "valid" / "images"
            source = DatasetSource(root, root, splits, None)
    for split in ("train", "val"):
        folder = source.splits.get(split)
        if folder is None:
            raise DataError(
                f"The dataset at {source.origin} has no {split} images (expected images/{split}); "
                "`cardgrader data import` can split a folder for you."
            )
        if not folder.is_dir():
            raise DataError(f"The {split} folder {folder} of the dataset at {source.origin} does not exist.")
    return source


def check_classes(source: DatasetSource, classes: list[str]) -> None:
    if source.names is not None and source.names != list(classes):
        raise DataError(
            f"The dataset at {source.origin} has classes {', '.join(source.names)}, but this run trains "
            f"{', '.join(classes)}. Import the data for this task and border type with `cardgrader data import`, "
            "or set the run's class list to match the dataset."
        )


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _link_or_copy(src: Path, dst: Path) -> None:
    if jpeg_is_complete(src):
        try:
            os.link(src, dst)
            return
        except OSError:
            pass
    shutil.copy2(src, dst)


def prepare(source: DatasetSource, classes: list[str], run_dir: Path,
            progress: Callable[[str], None] | None = None) -> PreparedDataset:
    """Make the dataset the run trains on and write the run's `dataset.yaml`."""
    images = {split: list_images(folder) for split, folder in source.splits.items()}
    for split in ("train", "val"):
        if not images[split]:
            raise DataError(f"The {split} folder {source.splits[split]} holds no images.")
    files = [f for split in images.values() for f in split]
    labels = [label_path_for(f) for f in files]
    print_ = progress or (lambda _m: None)
    fp = fingerprint(files + [p for p in labels if p.exists()], {"names": classes}, root=source.root)

    if _inside(source.root, paths.datasets_dir()):
        root, splits = source.root, {s: f for s, f in source.splits.items()}
    else:
        root = paths.datasets_dir() / "mirrors" / fp
        splits = {s: root / "images" / s for s in images}
        if not (root / ".complete").exists():
            print_(f"Copying {len(files)} images of {source.origin} into the app's data folder (the original is never changed)")
            shutil.rmtree(root, ignore_errors=True)
            for split, split_images in images.items():
                for image in split_images:
                    rel = image.relative_to(source.splits[split])
                    dst = root / "images" / split / rel
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    _link_or_copy(image, dst)
                    label = label_path_for(image)
                    if label.exists():
                        label_dst = label_path_for(dst)
                        label_dst.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copyfile(label, label_dst)
            (root / ".complete").write_text(fp, encoding="utf-8")
    spec = {"path": str(root), **{s: os.path.relpath(f, root) for s, f in splits.items()},
            "names": {i: n for i, n in enumerate(classes)}}
    yaml_path = run_dir / "dataset.yaml"
    yaml_path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return PreparedDataset(yaml_path, list(classes), {s: len(v) for s, v in images.items()}, fp, str(source.origin))
