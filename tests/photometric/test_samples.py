"""The generated surface-defect dataset the surface models train on."""

from __future__ import annotations

import cv2
import numpy as np
import yaml

from cardgrader.photometric.samples import write_surface_training_set


def test_surface_dataset_has_the_surface_classes_and_boxes_on_the_defects(tmp_path):
    data = write_surface_training_set(tmp_path / "surface", count=8, size=96, seed=3)
    spec = yaml.safe_load(data.read_text())
    assert spec["names"] == {0: "scratch", 1: "dent", 2: "crease"}
    images = sorted((tmp_path / "surface" / "images").rglob("*.png"))
    assert len(images) == 8 and {p.parent.name for p in images} == {"train", "val"}
    lines = []
    for image in images:
        label = tmp_path / "surface" / "labels" / image.parent.name / f"{image.stem}.txt"
        assert cv2.imread(str(image)).shape == (96, 96, 3)
        for line in label.read_text().splitlines():
            cls, *box = line.split()
            values = np.array(box, float)
            assert cls in {"0", "1", "2"} and np.all((values >= 0) & (values <= 1))
            lines.append(cls)
    assert {"0", "1"} <= set(lines)  # scratches and dents both appear in a handful of photos
