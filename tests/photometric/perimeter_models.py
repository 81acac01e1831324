"""Border and corners models trained for real by the engine on generated sample cards, once per session,
for checking them against photometric stereo.

Both learn from close-ups: sample card photos cropped to the card with a little table around it (the
way a grader frames a card for grading, and the way `perimeter_cards` frames its captures), in gray: the
picture `ps validate` shows a model is the capture's albedo, which is luminance, as a monochrome camera
sees the card (trained on colour, a model this small finds the card far less well on it). A corner's box
is 0.14 of the card's width; in a whole sample photo at a CPU-friendly 128 px that is about 11 px, too
small for a from-scratch model to learn in a minute or two, and a close-up makes it about 15 px.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from cardgrader.training.config import TrainingConfig
from tests.photometric.perimeter_cards import closeup
from tests.photometric.surface_model import TrainedModel, train_in_own_home

CLOSEUP = (96, 128)  # w, h of the training photos and of the captures the models are checked on
MARGINS = (0.08, 0.25)  # the table around the card in a close-up, a share of its width (a grader frames loosely)
_TRAINED: dict[str, TrainedModel] = {}


def write_closeup_training_set(out: Path, classes: tuple[str, ...], count: int, seed: int = 0) -> Path:
    """Sample cards (fronts, half of them worn) drawn at twice the close-up size, cropped to the card with
    some table around it, made gray and imported as a detect dataset for `classes`; returns its data.yaml."""
    from cardgrader.data.build import import_dataset
    from cardgrader.data.classmap import ClassMap
    from cardgrader.data.sample import generate
    scratch = out.parent / f".{out.name}-closeups"
    truths = generate(scratch, count=count, seed=seed, side="front", size=(CLOSEUP[0] * 2, CLOSEUP[1] * 2))
    margins = np.random.default_rng(seed).uniform(*MARGINS, len(truths))
    for truth, margin in zip(truths, margins):
        path = scratch / truth.image
        photo = cv2.imread(str(path))
        image, _moved, (x0, y0, sx, sy) = closeup(photo, truth, CLOSEUP, float(margin))
        cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), [cv2.IMWRITE_JPEG_QUALITY, 92])
        label = scratch / "labels" / f"{path.stem}.txt"
        rows = []
        for line in label.read_text(encoding="utf-8").splitlines():
            cls, *coords = line.split()
            xy = np.array(coords, float).reshape(-1, 2) * [truth.width, truth.height]
            moved = np.clip((xy - [x0, y0]) * [sx, sy] / CLOSEUP, 0.0, 1.0)
            rows.append(f"{cls} " + " ".join(f"{v:.6f}" for v in moved.ravel()))
        label.write_text("\n".join(rows) + "\n", encoding="utf-8")
    task = "corners" if classes[0].startswith("corner_") else "border"
    try:
        result = import_dataset([scratch], out, arch="detect", task=task, classes=list(classes),
                                split_ratios=(0.75, 0.25, 0.0), seed=seed, force=True, class_map=ClassMap())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return Path(result.data_yaml)


def trained_closeup_model(tmp_path_factory: pytest.TempPathFactory, task: str, classes: tuple[str, ...],
                          count: int, epochs: int) -> TrainedModel:
    """Train (or reuse) a detect model for `task` on `count` close-ups for `epochs` epochs at 128 px."""
    key = f"{task}-{count}-{epochs}"
    if key not in _TRAINED:
        root = tmp_path_factory.mktemp(f"closeup-{key}")
        data = write_closeup_training_set(root / "dataset", classes, count)
        config = TrainingConfig(task=task, side="front", arch="detect", classes=list(classes), data=str(data),
                                epochs=epochs, imgsz=CLOSEUP[1], batch=4, workers=0, plots=False, augment="light",
                                patience=0, name=f"closeup {task}")
        _TRAINED[key] = train_in_own_home(root / "home", config)
    return _TRAINED[key]
