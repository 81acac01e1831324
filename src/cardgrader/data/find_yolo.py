"""YOLO sources: an Ultralytics `data.yaml`, or folders of images and `.txt` labels matched by name.

Labels are matched as Ultralytics does (the last `images` folder of the path becomes `labels`), then
next to the image, then anywhere in the dropped folder by the same file name.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from cardgrader.data import layout
from cardgrader.data.found import (NAME_FILES, SPECIAL_TXT, Found, Listing, Task, add_backgrounds, fail,
                                   list_folder, read_names_file, side_of, split_of, stem)
from cardgrader.data.model import ERROR, WARNING, Finding, plural

YAML_NAMES = ("data.yaml", "dataset.yaml")
RULES = {
    "layout": "in a labels/ folder beside images/ (the Ultralytics layout)",
    "flat": "next to their images with the same names",
    "stem": "in a separate folder, matched to the images by file name",
}


def dataset_yaml(root: Path, yamls: list[str]) -> Path | None:
    """The dataset YAML directly in `root`: data.yaml, dataset.yaml, or another with `names` and `train`."""
    top = [Path(p) for p in yamls if Path(p).parent == root]
    for name in YAML_NAMES:
        if root / name in top:
            return root / name
    for path in top:
        spec = _load(path)
        if isinstance(spec, dict) and "names" in spec and ("train" in spec or "val" in spec):
            return path
    return None


def _load(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_bytes().decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def names_from(values: Any) -> list[str] | None:
    """Class names from a YAML `names` entry: a list, or a mapping numbered 0, 1, 2, …"""
    if isinstance(values, list):
        return [str(v) for v in values]
    if isinstance(values, dict):
        try:
            ids = sorted(int(k) for k in values)
        except (TypeError, ValueError):
            return None
        if ids != list(range(len(ids))):
            return None
        return [str(values[k] if k in values else values[str(k)]) for k in ids]
    return None


def _resolve(root: Path, yaml_dir: Path, entry: str) -> Path | None:
    tries = [root / entry, yaml_dir / entry]
    if entry.startswith("../"):
        tries += [root / entry[3:], yaml_dir / entry[3:]]
    return next((p.resolve() for p in tries if p.exists()), None)


def from_yaml(found: Found, index: int, yaml_path: Path, listing: Listing) -> None:
    where = str(yaml_path)
    spec = _load(yaml_path)
    names = names_from(spec.get("names")) if isinstance(spec, dict) else None
    if names is None:
        fail(found, f"{where} is not a dataset YAML with a 'names' list of classes (numbered 0, 1, 2, …); fix it "
                     "or drop the folder without it.", "bad_yaml", "the dataset YAML cannot be used")
        return
    yaml_dir = yaml_path.parent.resolve()
    root = Path(spec.get("path") or yaml_dir)
    root = root if root.is_absolute() else (yaml_dir / root)
    if not root.is_dir():
        found.findings.append(Finding(WARNING, where, f"'path' in {where} points to {root}, which does not exist; "
                                                      "its folders are looked up next to the YAML instead.",
                                      "path_moved"))
        root = yaml_dir
    found.root = root
    images: list[tuple[str, str]] = []
    for split in ("train", "val", "test"):
        entries = spec.get(split)
        for entry in entries if isinstance(entries, list) else [entries] if entries else []:
            target = _resolve(root, yaml_dir, str(entry))
            if target is None:
                found.findings.append(Finding(ERROR, where, f"'{split}' in {where} points to {entry}, which does not "
                                                            "exist; fix the path.", "split_missing"))
            elif target.is_dir():
                images += [(p, split) for p in list_folder(target).images]
            else:
                images += [(str((target.parent / line).resolve()), split) for line in read_names_file(target)
                           if layout.is_image(Path(line))]
    claimed = {}
    listed: dict[str, list[str]] = {}  # image → the splits that list it; train and val may be one folder
    for image, split in images:
        listed.setdefault(image, []).append(split)
    for image, (split, *others) in listed.items():
        label = layout.label_file_for(image)
        has_label = os.path.isfile(label)
        claimed[str(label)] = True
        also_in = [s for s in dict.fromkeys(others) if s != split]
        found.tasks.append(Task(index, image, str(label) if has_label else None, "yolo" if has_label else None, split,
                                side_of(image, root), names=names, also_in=also_in))
    found.by_name = {}
    for image in listed:
        found.by_name.setdefault(os.path.basename(image).lower(), []).append(image)
    _orphans(found, [p for p in listing.txt if os.path.basename(p).lower() not in SPECIAL_TXT
                     and "labels" in Path(p).parts and p not in claimed])
    splits = sorted({s for _i, s in images}, key=["train", "val", "test"].index)
    found.info.format, found.info.title, found.info.names = "yolo", "YOLO (Ultralytics data.yaml)", names
    found.info.label_files = sum(1 for t in found.tasks if t.annotation)
    found.info.reason = (f"{yaml_path.name} lists {', '.join(splits) or 'no'} splits and "
                         f"{plural(len(names), 'class name')}")
    found.files = list(listed) + [t.annotation for t in found.tasks if t.annotation] + [str(yaml_path)]
    found.info.images = len(listed)


def from_folder(found: Found, index: int, listing: Listing) -> None:
    root = found.root
    labels = listing.txt  # classes.txt, train.txt … are only labels when an image has the same name
    label_set = set(labels)
    by_stem: dict[str, list[str]] = {}
    for path in labels:
        by_stem.setdefault(stem(path).lower(), []).append(path)
    named = _names(root, listing)
    names = named[0] if named else None
    rules: Counter = Counter()
    used: set[str] = set()
    claimed: set[str] = set()
    for image in listing.images:
        label, rule = _match(image, label_set, by_stem)
        if label is None:
            continue
        rules[rule] += 1
        used.add(label)
        claimed.add(image)
        found.tasks.append(Task(index, image, label, "yolo", split_of(image, root), side_of(image, root), names=names))
    add_backgrounds(found, index, listing.images, claimed)
    _orphans(found, [p for p in labels if p not in used and os.path.basename(p).lower() not in SPECIAL_TXT])
    if not rules and not listing.images:
        found.info.format, found.info.title = "none", "Nothing usable"
        found.info.reason = "no images were found; labels need the card photos they belong to"
        return
    if not rules:
        found.info.format, found.info.title = "images", "Images without labels"
        found.info.reason = "no label files match the images; they can only serve as backgrounds"
        return
    rule = rules.most_common(1)[0][0]
    found.info.format, found.info.title, found.info.names = "yolo", "YOLO labels", names
    found.info.label_files = len(used)
    how = f"class names from {named[1]}" if named else "no class names file, so classes are numbered"
    found.info.reason = f"{plural(len(used), '.txt label')} {RULES[rule]}; {how}"


def _match(image: str, label_set: set[str], by_stem: dict[str, list[str]]) -> tuple[str | None, str | None]:
    ultralytics = layout.label_file_for(image)
    beside = os.path.splitext(image)[0] + ".txt"
    if ultralytics != beside and ultralytics in label_set:
        return ultralytics, "layout"
    if beside in label_set:
        return beside, "flat"
    matches = by_stem.get(stem(image).lower(), [])
    return (matches[0], "stem") if len(matches) == 1 else (None, None)


def _names(root: Path, listing: Listing) -> tuple[list[str], str] | None:
    """Class names from classes.txt / obj.names / a YAML `names` list, the one nearest the dropped folder."""
    candidates = [p for p in listing.txt + listing.other if os.path.basename(p).lower() in NAME_FILES]
    candidates.sort(key=lambda p: (len(Path(p).relative_to(root).parts), p))
    for path in candidates:
        names = read_names_file(path)
        if names:
            return names, os.path.relpath(path, root)
    for path in listing.yaml:
        spec = _load(Path(path))
        names = names_from(spec.get("names")) if isinstance(spec, dict) else None
        if names:
            return names, os.path.relpath(path, root)
    return None


def _orphans(found: Found, labels: list[str]) -> None:
    for path in labels:
        found.findings.append(Finding(WARNING, path, f"{path} has no image with the same name, so its labels are "
                                                     "ignored; add the image or delete the label file.",
                                      "label_without_image"))
