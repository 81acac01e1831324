"""Acceptance 4: a grader's folders are byte for byte the same after `data check` and `data import`,
including the awkward files (a truncated JPEG, bytes after a JPEG's end, an EXIF-rotated photo)."""

from __future__ import annotations

import subprocess
import sys

from PIL import Image

from tests.conftest import tree_digest

from . import formats as fx
from .formats import BOX as KNOWN_BOX
from .formats import POLYGON as KNOWN_POLYGON


def mixed_sources(root):
    yolo, coco, voc, labelme = (root / n for n in ("yolo", "coco export", "voc ä", "labelme"))
    for i in range(4):
        fx.image(yolo / "images" / f"y{i}.jpg", seed=i)
        fx.yolo_rows([(0, fx.yolo_box(*KNOWN_BOX))], yolo / "labels" / f"y{i}.txt", crlf=i % 2 == 1)
    (yolo / "classes.txt").write_text("card\n", encoding="utf-8")
    cut = yolo / "images" / "y0.jpg"
    cut.write_bytes(cut.read_bytes()[:-100])  # truncated
    tail = yolo / "images" / "y1.jpg"
    tail.write_bytes(tail.read_bytes() + b"tail")
    exif = Image.Exif()
    exif[0x0112] = 8
    Image.new("RGB", (fx.W, fx.H), (90, 90, 90)).save(yolo / "images" / "y2.jpg", exif=exif.tobytes())
    fx.image(coco / "c.jpg", seed=7)
    fx.coco(coco / "instances.json", [{"id": 1, "file_name": "c.jpg", "width": fx.W, "height": fx.H}], ["card"],
            [{"id": 1, "image_id": 1, "category_id": 1, "segmentation": [[v for p in KNOWN_POLYGON for v in p]]}])
    fx.image(voc / "v.jpg", seed=8)
    fx.voc(voc / "v.xml", "v.jpg", [{"name": "card", "box": KNOWN_BOX}])
    fx.image(labelme / "l.jpg", seed=9)
    fx.labelme(labelme / "l.json", "l.jpg", [{"label": "card", "shape_type": "polygon", "points": KNOWN_POLYGON}])
    return [yolo, coco, voc, labelme]


def test_check_and_import_leave_sources_byte_identical(tmp_path):
    sources = mixed_sources(tmp_path / "mine")
    before = tree_digest(tmp_path / "mine")
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "mine").rglob("*")}
    cli = [sys.executable, "-m", "cardgrader", "data"]
    checked = subprocess.run([*cli, "check", *map(str, sources), "--json"], capture_output=True, text=True, timeout=120)
    assert checked.returncode == 1  # the truncated JPEG is an error
    for arch in ("detect", "segment", "obb"):
        built = subprocess.run([*cli, "import", *map(str, sources), "--out", str(tmp_path / arch), "--arch", arch,
                                "--task", "border", "--border", "outer"], capture_output=True, text=True, timeout=120)
        assert built.returncode == 0, built.stderr
    assert tree_digest(tmp_path / "mine") == before
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "mine").rglob("*")} == stamps
    assert not list((tmp_path / "mine").rglob("*.cache"))
