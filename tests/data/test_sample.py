"""Sample cards: deterministic photos whose labels and truth.json agree to a fraction of a pixel."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import yaml

from cardgrader.data.check import check
from cardgrader.data.geometry import area
from cardgrader.data.readers import yolo
from cardgrader.data.sample import SAMPLE_CLASSES, generate, write_training_set
from tests.conftest import tree_digest

from .formats import same_points

SIZE = (240, 320)


def labels_of(folder: Path, truth) -> dict[str, list]:
    ann = yolo.read(folder / truth.image.replace("images/", "labels/").replace(".jpg", ".txt"), SAMPLE_CLASSES)
    out: dict[str, list] = {}
    for shape in ann.shapes:
        out.setdefault(shape.label, []).append(np.asarray(shape.points) * SIZE)
    return out


def test_same_seed_same_files_whatever_the_thread_count(tmp_path):
    generate(tmp_path / "a", count=6, seed=4, size=SIZE, workers=1)
    generate(tmp_path / "b", count=6, seed=4, size=SIZE, workers=4)
    generate(tmp_path / "c", count=6, seed=5, size=SIZE)
    assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b")
    assert tree_digest(tmp_path / "a") != tree_digest(tmp_path / "c")


def test_labels_agree_with_truth_and_centering(tmp_path):
    truths = generate(tmp_path, count=10, seed=1, size=SIZE, defect_rate=0.5)
    saved = json.loads((tmp_path / "truth.json").read_text(encoding="utf-8"))
    assert [t["image"] for t in saved] == [t.image for t in truths]
    assert (tmp_path / "classes.txt").read_text(encoding="utf-8").split() == SAMPLE_CLASSES
    for truth in truths:
        labels = labels_of(tmp_path, truth)
        assert same_points(labels["outer_border"][0], truth.outline, tol=1e-3)
        assert same_points(labels["inner_border"][0], truth.inner, tol=1e-3)
        b = truth.border_px
        assert np.isclose(truth.centering_lr, 100 * max(b["left"], b["right"]) / (b["left"] + b["right"]), atol=1e-3)
        assert np.isclose(truth.centering_tb, 100 * max(b["top"], b["bottom"]) / (b["top"] + b["bottom"]), atol=1e-3)
        assert 50 <= truth.centering_lr <= 82 and 50 <= truth.centering_tb <= 82
        assert abs(truth.rotation_deg) <= 4
        assert all(np.isclose(truth.border_mm[k], b[k] * 63.0 / truth.card_px[0], atol=1e-3) for k in b)
        top_edge = np.hypot(*np.subtract(truth.outer[1], truth.outer[0]))
        assert abs(top_edge - truth.card_px[0]) < 0.05 * truth.card_px[0]  # photographed at about its drawn size
        corners = Counter(state for state in truth.corners.values())
        assert len(labels.get("corner_sharp", [])) == corners["sharp"]
        assert len(labels.get("corner_worn", [])) == corners["worn"]
        assert Counter(d["class"] for d in truth.defects) == Counter(
            {k: len(v) for k, v in labels.items() if k in ("edge_wear", "scratch", "dent", "crease")})
        card_share = area(truth.outline) / (SIZE[0] * SIZE[1])
        assert 0.15 < card_share < 0.85


def test_defect_rate_and_sides(tmp_path):
    clean = generate(tmp_path / "clean", count=6, seed=2, size=SIZE, defect_rate=0.0)
    assert all(not t.defects and set(t.corners.values()) == {"sharp"} for t in clean)
    worn = generate(tmp_path / "worn", count=6, seed=2, size=SIZE, defect_rate=1.0, side="back")
    assert all(any(d["class"] in ("scratch", "dent", "crease") for d in t.defects) for t in worn)
    assert {t.side for t in worn} == {"back"} and all("_back" in t.image for t in worn)
    assert [t.side for t in clean[:4]] == ["front", "back", "front", "back"]


def test_a_sample_checks_clean_for_every_task(tmp_path):
    generate(tmp_path, count=8, seed=3, size=SIZE, defect_rate=1.0)
    for task in ("border", "corners", "edges", "surface"):
        report = check([tmp_path], task=task)
        assert report.ok, report.errors
        assert all(report.counts["classes"].values()) or task == "surface", (task, report.counts["classes"])
    assert {i.side for i in report.items} == {"front", "back"}


def test_photos_look_like_a_card_on_a_background(tmp_path):
    truth = generate(tmp_path, count=1, seed=7, size=SIZE)[0]
    import cv2

    photo = cv2.imread(str(tmp_path / truth.image)).astype(np.float32)
    mask = np.zeros(photo.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(np.asarray(truth.outline)).astype(np.int32)], 1)
    inside, outside = photo[mask == 1].mean(0), photo[cv2.dilate(mask, np.ones((15, 15))) == 0].mean(0)
    assert np.abs(inside - outside).max() > 5  # the card stands out from the background
    assert photo.std() > 10  # not a flat image


def test_write_training_set_goes_through_import(tmp_path):
    data = write_training_set(tmp_path / "ds", "obb", count=8, seed=0, size=(96, 96), classes=("outer_border",),
                              val_fraction=0.25)
    spec = yaml.safe_load(data.read_text(encoding="utf-8"))
    assert spec["names"] == {0: "outer_border"} and spec["path"] == str(tmp_path / "ds")
    assert len(list((tmp_path / "ds" / "images" / "val").iterdir())) == 2
    assert not list(tmp_path.glob(".ds-sample-*"))  # the scratch sample is gone
    rows = [line.split() for f in (tmp_path / "ds" / "labels").rglob("*.txt") for line in f.read_text().splitlines()]
    assert rows and all(len(r) == 9 and r[0] == "0" for r in rows)


def test_cli_sample(tmp_path):
    out = tmp_path / "sample cards"
    result = subprocess.run([sys.executable, "-m", "cardgrader", "data", "sample", str(out), "--count", "3",
                             "--seed", "1", "--side", "front", "--size", "200x150", "--json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"out": str(out), "images": 3, "sides": {"front": 3, "back": 0}}
    import cv2

    assert cv2.imread(str(out / "images" / "card_00002_front.jpg")).shape == (150, 200, 3)
