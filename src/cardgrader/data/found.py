"""What `find` works with and hands on: `Found` (one dropped path), `Task` (one image and its annotation
file), `Listing` (a folder's files by kind), and the helpers on paths and folders that `find` and
`find_yolo` both use. Nothing here knows a label format; `find` decides which one a folder holds and
`find_yolo` reads the YOLO ones.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from cardgrader.data import layout
from cardgrader.data.model import ERROR, Finding, SourceInfo
from cardgrader.data.readers import Annotation

SPECIAL_TXT = {"classes.txt", "labels.txt", "predefined_classes.txt", "readme.txt", "notes.txt", "license.txt",
               "train.txt", "val.txt", "valid.txt", "test.txt", "readme.roboflow.txt", "readme.dataset.txt"}
NAME_FILES = ("classes.txt", "obj.names", "predefined_classes.txt", "labels.txt")
SPLIT_WORDS = {"train": "train", "training": "train", "val": "val", "valid": "val", "validation": "val",
               "test": "test", "testing": "test"}
SIDE_WORDS = {"front": "front", "fronts": "front", "obverse": "front", "back": "back", "backs": "back",
              "reverse": "back"}
SKIP_DIRS = {"__MACOSX", ".git", ".DS_Store"}
IGNORED_SUFFIXES = {".cache", ".ds_store"}
_WORDS = re.compile(r"[a-z]+")


@dataclass
class Task:
    """One image and the annotation file that labels it, to be read by a worker."""

    source: int
    image: str | None  # None: the worker finds it from the annotation's image name
    annotation: str | None = None
    reader: str | None = None  # yolo | voc | labelme; None when `ann` is already read (COCO) or unlabelled
    split: str | None = None
    side: str | None = None
    ann: Annotation | None = None
    also_in: list[str] = field(default_factory=list)  # other splits that list the same image (one read, one item)
    names: list[str] | None = None


@dataclass
class Found:
    info: SourceInfo
    root: Path
    tasks: list[Task] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    by_name: dict[str, list[str]] = field(default_factory=dict)  # image file name (lower case) → paths
    files: list[str] = field(default_factory=list)  # every file that shapes the dataset, for fingerprints


@dataclass
class Listing:
    images: list[str] = field(default_factory=list)
    txt: list[str] = field(default_factory=list)
    json: list[str] = field(default_factory=list)
    xml: list[str] = field(default_factory=list)
    yaml: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)


def words(path: str | Path) -> list[str]:
    return _WORDS.findall(str(path).lower())


def relative(path: str | Path, root: str | Path) -> str:
    """`path` relative to `root` (a plain string cut when it lies inside, which is the common case)."""
    path, root = str(path), str(root).rstrip(os.sep)
    if path.startswith(root + os.sep):
        return path[len(root) + 1:]
    return os.path.relpath(path, root)


def split_of(path: str | Path, root: Path) -> str | None:
    """The split a file's folders name (`train`, `valid`, `test`…), relative to the dropped folder."""
    for part in reversed(relative(path, root).split(os.sep)[:-1]):
        if part.lower() in SPLIT_WORDS:
            return SPLIT_WORDS[part.lower()]
    return None


def side_of(path: str | Path, root: Path) -> str | None:
    """`front` or `back` when the file or folder name says so (`card_001_back.jpg`, `fronts/…`)."""
    found = {SIDE_WORDS[w] for w in words(relative(path, root)) if w in SIDE_WORDS}
    return found.pop() if len(found) == 1 else None


def stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def list_folder(root: Path, recursive: bool = True) -> Listing:
    """The files under a folder by kind, in a stable order (hidden files and folders are skipped)."""
    out = Listing()
    buckets = {".txt": out.txt, ".json": out.json, ".xml": out.xml, ".yaml": out.yaml, ".yml": out.yaml}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = os.path.join(folder, name)
            suffix = os.path.splitext(name)[1].lower()
            if suffix in layout.IMAGE_SUFFIXES:
                out.images.append(path)
            elif suffix in buckets:
                buckets[suffix].append(path)
            elif suffix not in IGNORED_SUFFIXES:
                out.other.append(path)
        if not recursive:
            break
    return out


def fail(found: Found, message: str, code: str, reason: str) -> None:
    found.info.reason = reason
    found.findings.append(Finding(ERROR, found.info.path, message, code))


def add_backgrounds(found: Found, index: int, images: list[str], claimed: set[str]) -> None:
    for image in images:
        if image not in claimed:
            found.tasks.append(Task(index, image, None, None, split_of(image, found.root), side_of(image, found.root)))


def read_names_file(path: str | Path) -> list[str]:
    text = Path(path).read_bytes().decode("utf-8-sig", "replace")
    return [line.strip() for line in text.splitlines() if line.strip()]
