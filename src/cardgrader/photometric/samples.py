"""A generated surface-defect dataset: card close-ups with planted dents, scratches and creases.

Each photo is a synthetic card (`synthetic.card`) lit by one raking light from a random side, the way
surface damage is inspected, with print, noise and 8-bit quantisation; its labels are the planted
defects' boxes with the surface classes (scratch, dent, crease). It trains the small surface models the
tests and demos validate against photometric stereo.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from cardgrader.photometric import synthetic
from cardgrader.vocabulary import TASK_CLASSES

SURFACE_CLASSES = TASK_CLASSES["surface"]


def surface_photo(rng: np.random.Generator, size: int) -> tuple[np.ndarray, list[tuple[str, list[int]]]]:
    """One BGR uint8 photo of a damaged card and its defects as (class, [x0, y0, x1, y1])."""
    card = synthetic.card(size, size, dents=int(rng.integers(0, 3)), scratches=int(rng.integers(0, 3)),
                          creases=int(rng.random() < 0.3), warp=float(rng.uniform(0.02, 0.1)),
                          seed=int(rng.integers(0, 2**31 - 1)))
    light = synthetic.ring_lights(1, float(rng.uniform(20, 40)), float(rng.uniform(0, 360)))
    capture = synthetic.render(card.height, card.normals, card.mask, light, albedo=card.albedo, ambient=0.05,
                               noise=0.01, bits=8, seed=int(rng.integers(0, 2**31 - 1)))
    gray = capture.images[0]
    tint = rng.uniform(0.85, 1.0, 3).astype(np.float32)
    image = np.clip(gray[:, :, None] * tint * 255.0, 0, 255).astype(np.uint8)
    boxes = [(d.kind, [max(0, d.bbox[0]), max(0, d.bbox[1]), min(size - 1, d.bbox[2]), min(size - 1, d.bbox[3])])
             for d in card.defects]
    return image, boxes


def write_surface_training_set(out: str | Path, count: int = 24, size: int = 160, seed: int = 0,
                               val_fraction: float = 0.25) -> Path:
    """Write an Ultralytics detect dataset (images/, labels/, data.yaml) to `out`; returns data.yaml."""
    out = Path(out)
    rng = np.random.default_rng(seed)
    n_val = max(1, int(round(count * val_fraction)))
    for i in range(count):
        split = "val" if i < n_val else "train"
        image, boxes = surface_photo(rng, size)
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        (out / "labels" / split).mkdir(parents=True, exist_ok=True)
        stem = f"surface_{i:05d}"
        cv2.imwrite(str(out / "images" / split / f"{stem}.png"), image)
        lines = []
        for kind, (x0, y0, x1, y1) in boxes:
            cx, cy = (x0 + x1 + 1) / 2 / size, (y0 + y1 + 1) / 2 / size
            lines.append(f"{SURFACE_CLASSES.index(kind)} {cx:.6f} {cy:.6f} {(x1 - x0 + 1) / size:.6f} {(y1 - y0 + 1) / size:.6f}")
        (out / "labels" / split / f"{stem}.txt").write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
    names = "\n".join(f"  {i}: {n}" for i, n in enumerate(SURFACE_CLASSES))
    data_yaml = out / "data.yaml"
    data_yaml.write_text(f"path: {out.resolve()}\ntrain: images/train\nval: images/val\nnames:\n{names}\n", encoding="utf-8")
    return data_yaml
