"""Facts about the Ultralytics dataset layout that every part of cardgrader shares."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

# The image suffixes Ultralytics trains on (ultralytics.data.utils.IMG_FORMATS), lower case, with the dot.
IMAGE_SUFFIXES = frozenset({".bmp", ".dng", ".jpeg", ".jpg", ".mpo", ".png", ".tif", ".tiff", ".webp", ".pfm", ".heic"})
SPLITS = ("train", "val", "test")


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def label_path_for(image: Path) -> Path:
    """Where Ultralytics looks for an image's label: the last `images` folder becomes `labels`, `.txt` suffix."""
    return Path(label_file_for(str(image)))


def label_file_for(image: str) -> str:
    """`label_path_for` on plain strings, for scanning thousands of paths."""
    folder, name = os.path.split(image)
    marker = os.sep + "images"
    if folder == "images" or folder.endswith(marker):
        folder = folder[: len(folder) - len("images")] + "labels"
    else:
        cut = folder.rfind(marker + os.sep)
        if cut < 0 and folder.startswith("images" + os.sep):
            folder = "labels" + folder[len("images"):]
        elif cut >= 0:
            folder = folder[:cut] + os.sep + "labels" + folder[cut + len(marker):]
    return os.path.join(folder, os.path.splitext(name)[0] + ".txt")


def list_images(folder: Path) -> list[Path]:
    """Images under a folder, recursively, in a stable order."""
    found = []
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(root) / name
            if is_image(path):
                found.append(path)
    return sorted(found)


def is_inside(path: Path, folder: Path) -> bool:
    """Whether `path` is `folder` or lies under it (links resolved)."""
    try:
        Path(path).resolve().relative_to(Path(folder).resolve())
        return True
    except ValueError:
        return False


def link_or_copy(src: str | Path, dst: str | Path) -> None:
    """Hard-link an image into a dataset we train on, or copy it: across devices, and always for a JPEG
    without its end marker (Ultralytics re-saves those, which must never reach the user's original)."""
    if jpeg_is_complete(Path(src)):
        try:
            os.link(src, dst)
            return
        except OSError:
            pass
    shutil.copyfile(src, dst)


def jpeg_is_complete(path: Path) -> bool:
    """A JPEG ends with the EOI marker. Ultralytics rewrites JPEGs without it in place, so such a file
    must never be linked (only copied) into a dataset we train on: the user's original would change."""
    if path.suffix.lower() not in (".jpg", ".jpeg"):
        return True
    try:
        with open(path, "rb") as handle:
            handle.seek(-2, os.SEEK_END)
            return handle.read(2) == b"\xff\xd9"
    except OSError:
        return False
