"""Every reader, round-tripped against known pixel coordinates (to a hundredth of a pixel), on files written
the way the labelling tools write them, in folders whose names have spaces and non-ASCII letters."""

from __future__ import annotations

import math

import pytest

from cardgrader.data.check import check
from cardgrader.data.model import BOX, OBB, POLYGON

from . import formats as fx
from .formats import BOX as KNOWN_BOX
from .formats import POLYGON as KNOWN_POLYGON
from .formats import H, W, box_corners, rotated_rect, same_points


def only_item(report, name):
    [item] = [i for i in report.items if i.image.endswith(name)]
    return item


@pytest.mark.parametrize("crlf,bom", [(False, False), (True, False), (True, True)])
def test_yolo_boxes_polygons_and_oriented_boxes(odd_dir, crlf, bom):
    fx.image(odd_dir / "images" / "karte 1 ü.jpg")
    (odd_dir / "classes.txt").write_text("card\ninner\ncorner\n", encoding="utf-8")
    rect = rotated_rect(degrees=12)
    fx.yolo_rows([(0, fx.yolo_box(*KNOWN_BOX)), (1, fx.norm(KNOWN_POLYGON)), (2, fx.norm(rect))],
                 odd_dir / "labels" / "karte 1 ü.txt", crlf=crlf, bom=bom)
    report = check([odd_dir])
    assert report.ok, report.findings
    assert report.sources[0].format == "yolo" and "Ultralytics layout" in report.sources[0].reason
    item = only_item(report, "karte 1 ü.jpg")
    assert (item.width, item.height) == (W, H)
    box, polygon, obb = item.shapes
    assert (box.kind, box.label, polygon.kind, polygon.label, obb.kind, obb.label) == \
        (BOX, "card", POLYGON, "inner", OBB, "corner")
    assert same_points(fx.pixels(box), box_corners(*KNOWN_BOX))
    assert same_points(fx.pixels(polygon), KNOWN_POLYGON)
    assert same_points(fx.pixels(obb), rect)


def test_yolo_labels_in_a_separate_folder_matched_by_name(odd_dir):
    fx.image(odd_dir / "photos" / "a.jpg")
    fx.yolo_rows([(0, fx.yolo_box(*KNOWN_BOX))], odd_dir / "annotations" / "a.txt")
    report = check([odd_dir])
    assert "matched to the images by file name" in report.sources[0].reason
    assert same_points(fx.pixels(only_item(report, "a.jpg").shapes[0]), box_corners(*KNOWN_BOX))


def test_yolo_data_yaml_with_splits(odd_dir):
    for split in ("train", "val"):
        fx.image(odd_dir / "images" / split / f"{split}.png")
        fx.yolo_rows([(1, fx.yolo_box(*KNOWN_BOX))], odd_dir / "labels" / split / f"{split}.txt")
    (odd_dir / "data.yaml").write_text("train: images/train\nval: images/val\nnames:\n  0: inner\n  1: outer\n",
                                       encoding="utf-8")
    report = check([odd_dir])
    assert report.sources[0].reason.startswith("data.yaml lists train, val splits and 2 class names")
    assert {i.split for i in report.items} == {"train", "val"}
    assert all(i.shapes[0].label == "outer" and i.format == "png" for i in report.items)


def test_coco_boxes_polygons_and_rle(odd_dir):
    fx.image(odd_dir / "images" / "Vorderseite 1.jpg")
    poly = [v for p in KNOWN_POLYGON for v in p]
    x0, y0, x1, y1 = KNOWN_BOX
    fx.coco(odd_dir / "annotations" / "instances_train.json",
            [{"id": 7, "file_name": "Vorderseite 1.jpg", "width": W, "height": H}], ["card", "print"],
            [{"id": 1, "image_id": 7, "category_id": 1, "bbox": [x0, y0, x1 - x0, y1 - y0], "iscrowd": 0},
             {"id": 2, "image_id": 7, "category_id": 2, "segmentation": [poly], "bbox": [0, 0, 1, 1], "iscrowd": 0},
             {"id": 3, "image_id": 7, "category_id": 1, "segmentation": {"size": [H, W], "counts": "abc"},
              "bbox": [x0, y0, x1 - x0, y1 - y0], "iscrowd": 1}])
    report = check([odd_dir])
    assert report.sources[0].format == "coco" and "'categories'" in report.sources[0].reason
    item = only_item(report, "Vorderseite 1.jpg")
    assert item.split == "train"
    box, polygon, rle = item.shapes
    assert box.kind == BOX and same_points(fx.pixels(box), box_corners(*KNOWN_BOX))
    assert polygon.kind == POLYGON and polygon.label == "print" and same_points(fx.pixels(polygon), KNOWN_POLYGON)
    assert rle.kind == BOX and same_points(fx.pixels(rle), box_corners(*KNOWN_BOX))
    [warning] = [f for f in report.findings if f.code == "rle_unsupported"]
    assert warning.severity == "warning" and "RLE" in warning.message and "Annotation 3" in warning.message


def test_voc_boxes_flags_and_rotated_boxes(odd_dir):
    fx.image(odd_dir / "Rückseite 2.jpg")
    angle = math.radians(20)
    fx.voc(odd_dir / "Rückseite 2.xml", "Rückseite 2.jpg", [
        {"name": "card", "box": KNOWN_BOX, "difficult": 1},
        {"name": "corner", "box": (150.5, 100.25, 190.0, 150.75), "truncated": 1},
        {"name": "print", "robox": (100.0, 80.0, 90.0, 50.0, angle)},
    ])
    report = check([odd_dir])
    assert report.sources[0].format == "voc" and "<annotation>" in report.sources[0].reason
    box, corner, rotated = only_item(report, "Rückseite 2.jpg").shapes
    assert same_points(fx.pixels(box), box_corners(*KNOWN_BOX)) and box.difficult and not box.truncated
    assert corner.truncated and not corner.difficult
    assert rotated.kind == OBB and same_points(fx.pixels(rotated), rotated_rect(degrees=20))


def test_labelme_polygons_rectangles_and_rotations(odd_dir):
    fx.image(odd_dir / "scan 3.jpg")
    x0, y0, x1, y1 = KNOWN_BOX
    fx.labelme(odd_dir / "scan 3.json", "scan 3.jpg", [
        {"label": "outer", "shape_type": "polygon", "points": KNOWN_POLYGON},
        {"label": "inner", "shape_type": "rectangle", "points": [[x1, y1], [x0, y0]]},  # dragged up-left
        {"label": "corner", "shape_type": "rotation", "points": rotated_rect(degrees=-9)},
        {"label": "note", "shape_type": "point", "points": [[3, 4]]},
    ])
    report = check([odd_dir])
    assert report.sources[0].format == "labelme"
    polygon, rect, rotation = only_item(report, "scan 3.jpg").shapes
    assert polygon.kind == POLYGON and same_points(fx.pixels(polygon), KNOWN_POLYGON)
    assert rect.kind == BOX and same_points(fx.pixels(rect), box_corners(*KNOWN_BOX))
    assert rotation.kind == OBB and same_points(fx.pixels(rotation), rotated_rect(degrees=-9))
    [skipped] = [f for f in report.findings if f.code == "unsupported_shape"]
    assert "point" in skipped.message and "'note'" in skipped.message


def test_annotation_sizes_scale_labels_when_the_image_was_resized(odd_dir):
    fx.image(odd_dir / "small.jpg", w=W // 2, h=H // 2)
    fx.voc(odd_dir / "small.xml", "small.jpg", [{"name": "card", "box": KNOWN_BOX}])  # labelled at full size
    report = check([odd_dir])
    [finding] = [f for f in report.findings if f.code == "size_mismatch"]
    assert "200×160" in finding.message and "100×80" in finding.message
    item = only_item(report, "small.jpg")
    assert same_points(fx.pixels(item.shapes[0], W // 2, H // 2), [[x / 2, y / 2] for x, y in box_corners(*KNOWN_BOX)])
