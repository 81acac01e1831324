"""Sample cards: synthetic card photos with exact labels, the app's built-in data.

`generate` writes `images/card_NNNNN_<side>.jpg`, YOLO polygon labels in `labels/` (outer and inner
borders, the four corners as sharp or worn, edge wear, scratches, dents, creases; class ids follow
`classes.txt`), and `truth.json` with each card's exact border widths and centering. The same seed
gives the same files, however many threads draw them. `write_training_set` turns a sample into a
ready-to-train dataset through `data import`, so samples and users' data go through one converter.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from cardgrader.data.cards import CARD_WIDTH_MM
from cardgrader.data.classmap import ALL_CLASSES, ClassMap
from cardgrader.data.progress import ProgressFn, Reporter, parallel_map
from cardgrader.data.readers import yolo
from cardgrader.data.scene import photograph
from cardgrader.errors import ConfigError
from cardgrader.vocabulary import SIDES, TASKS, default_classes

SAMPLE_CLASSES = list(ALL_CLASSES)  # borders, then corner_sharp/_worn, edge_wear, scratch, dent, crease


@dataclass
class CardTruth:
    image: str  # relative to the sample folder
    side: str
    width: int
    height: int
    outer: list[list[float]]  # the card's four corners in the photo, pixels, clockwise from top-left
    inner: list[list[float]]  # the printed frame's four corners
    border_px: dict[str, float]  # left, right, top, bottom in the card's own frame (flat-card pixels)
    centering_lr: float  # 100·max(L, R)/(L + R): 55 means 55/45
    centering_tb: float
    rotation_deg: float
    card_px: list[int] = field(default_factory=list)  # width, height of the flat card the widths are measured on
    border_mm: dict[str, float] = field(default_factory=dict)  # the same widths on a 63 mm wide card
    outline: list[list[float]] = field(default_factory=list)  # the rounded physical edge, pixels
    corners: dict[str, str] = field(default_factory=dict)  # top_left … → sharp | worn
    defects: list[dict] = field(default_factory=list)  # {"class": …, "polygon": pixels}: edge wear and surface


def render(rng: np.random.Generator, side: str, size: tuple[int, int],
           defect_rate: float = 0.0) -> tuple[np.ndarray, CardTruth, list[tuple[str, list[list[float]]]]]:
    """One photo (BGR uint8), its truth, and its labels as (class, polygon in pixels)."""
    photo, card, to_photo, angle = photograph(rng, side, size, defect_rate)
    b = card.borders
    lr = 100 * max(b["left"], b["right"]) / (b["left"] + b["right"])
    tb = 100 * max(b["top"], b["bottom"]) / (b["top"] + b["bottom"])
    mm = CARD_WIDTH_MM / card.alpha.shape[1]
    parts = [(cls, to_photo(poly)) for cls, poly in card.parts]
    truth = CardTruth(
        image="", side=side, width=size[0], height=size[1], outer=to_photo(card.outer), inner=to_photo(card.inner),
        border_px=b, centering_lr=round(lr, 3), centering_tb=round(tb, 3), rotation_deg=round(angle, 3),
        card_px=[card.alpha.shape[1], card.alpha.shape[0]], border_mm={k: round(v * mm, 3) for k, v in b.items()},
        outline=to_photo(card.outline), corners=card.corners,
        defects=[{"class": cls, "polygon": poly} for cls, poly in parts if not cls.startswith("corner_")],
    )
    labels = [("outer_border", truth.outline), ("inner_border", truth.inner)] + parts
    return photo, truth, labels


def _side(side: str, index: int) -> str:
    return side if side != "both" else ("front" if index % 2 == 0 else "back")


def generate(out: str | Path, count: int = 20, seed: int = 0, side: str = "both", size: tuple[int, int] = (480, 640),
             defect_rate: float = 0.5, progress: ProgressFn | None = None, cancel: threading.Event | None = None,
             workers: int | None = None) -> list[CardTruth]:
    """Write `count` card photos with labels, `classes.txt` and `truth.json` into `out`; returns the truths."""
    if side not in SIDES:
        raise ConfigError(f"--side must be one of {', '.join(SIDES)}; got {side!r}.", field="side")
    out = Path(out)
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "labels").mkdir(parents=True, exist_ok=True)
    w, h = size

    def one(index: int) -> CardTruth:
        card_side = _side(side, index)
        photo, truth, labels = render(np.random.default_rng([seed, index]), card_side, size, defect_rate)
        stem = f"card_{index:05d}_{card_side}"
        truth.image = f"images/{stem}.jpg"
        cv2.imwrite(str(out / truth.image), photo, [cv2.IMWRITE_JPEG_QUALITY, 92])
        rows = [(SAMPLE_CLASSES.index(cls), [min(1.0, max(0.0, c)) for x, y in poly for c in (x / w, y / h)])
                for cls, poly in labels]
        yolo.write(out / "labels" / f"{stem}.txt", rows)
        return truth

    threads = workers or min(8, os.cpu_count() or 2)  # drawing is numpy and OpenCV work, which frees the GIL
    truths = parallel_map(one, list(range(count)), Reporter(progress, cancel), "Drawing sample cards", threads)
    (out / "classes.txt").write_text("\n".join(SAMPLE_CLASSES) + "\n", encoding="utf-8")
    (out / "truth.json").write_text(json.dumps([asdict(t) for t in truths], indent=1), encoding="utf-8")
    return truths


def _task_for(classes: list[str]) -> str:
    for task in TASKS:
        if set(classes) <= set(default_classes(task, "dual")):
            return task
    raise ConfigError(f"Sample cards have no labels for {', '.join(classes)}; they label {', '.join(SAMPLE_CLASSES)}.",
                      field="classes")


def write_training_set(out: str | Path, arch: str = "detect", count: int = 12, seed: int = 0,
                       size: tuple[int, int] = (160, 160), classes: tuple[str, ...] = ("outer_border", "inner_border"),
                       val_fraction: float = 0.25, side: str = "both") -> Path:
    """A ready-to-train Ultralytics dataset of sample cards for `arch` in `out`; returns its data.yaml.

    The sample is drawn in a scratch folder beside `out`, imported (hard links, so the images survive
    the scratch folder), and deleted.
    """
    from cardgrader.data.build import import_dataset

    out = Path(out).absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}-sample-", dir=out.parent))
    try:
        generate(scratch, count=count, seed=seed, side=side, size=size)
        result = import_dataset([scratch], out, arch=arch, task=_task_for(list(classes)), classes=list(classes),
                                split_ratios=(1 - val_fraction, val_fraction, 0.0), seed=seed, force=True,
                                class_map=ClassMap())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return Path(result.data_yaml)
