"""Which format a dropped folder or file holds, and why; and which label goes with which image."""

from __future__ import annotations

from pathlib import Path

from cardgrader.data.check import check

from . import formats as fx
from .formats import BOX as KNOWN_BOX

ROW = [(0, fx.yolo_box(*KNOWN_BOX))]


def labelled_images(report):
    return {Path(i.image).name: (Path(i.label_file).name if i.label_file else None) for i in report.items}


def test_flat_folder_of_images_with_same_name_labels(odd_dir):
    for name in ("a", "b"):
        fx.image(odd_dir / f"{name}.jpg")
        fx.yolo_rows(ROW, odd_dir / f"{name}.txt")
    fx.image(odd_dir / "c.jpg")
    report = check([odd_dir])
    source = report.sources[0]
    assert source.format == "yolo" and "next to their images" in source.reason
    assert "no class names file" in source.reason and source.names is None
    assert labelled_images(report) == {"a.jpg": "a.txt", "b.jpg": "b.txt", "c.jpg": None}
    assert report.counts["backgrounds"] == 1


def test_roboflow_export_with_a_data_yaml_of_parent_relative_paths(odd_dir):
    for split in ("train", "valid", "test"):
        fx.image(odd_dir / split / "images" / f"{split}1.jpg")
        fx.yolo_rows(ROW, odd_dir / split / "labels" / f"{split}1.txt")
    (odd_dir / "data.yaml").write_text("train: ../train/images\nval: ../valid/images\ntest: ../test/images\n"
                                       "nc: 1\nnames: ['card']\n", encoding="utf-8")
    report = check([odd_dir])
    assert report.sources[0].title.startswith("YOLO (Ultralytics data.yaml)")
    assert {Path(i.image).name: i.split for i in report.items} == {"train1.jpg": "train", "valid1.jpg": "val",
                                                                  "test1.jpg": "test"}
    assert all(i.shapes and i.shapes[0].label == "card" for i in report.items)


def test_split_folders_without_a_yaml(odd_dir):
    for split in ("train", "valid"):
        fx.image(odd_dir / split / "images" / f"{split}.jpg")
        fx.yolo_rows(ROW, odd_dir / split / "labels" / f"{split}.txt")
    report = check([odd_dir])
    assert "Ultralytics layout" in report.sources[0].reason
    assert sorted(i.split for i in report.items) == ["train", "val"]


def test_dropping_a_data_yaml_a_coco_json_a_labelme_json_or_one_image(tmp_path):
    yolo = tmp_path / "yolo"
    fx.image(yolo / "images" / "train" / "x.jpg")
    fx.yolo_rows(ROW, yolo / "labels" / "train" / "x.txt")
    (yolo / "data.yaml").write_text("path: .\ntrain: images/train\nval: images/train\nnames: [card]\n", encoding="utf-8")
    assert check([yolo / "data.yaml"]).sources[0].format == "yolo"

    coco = tmp_path / "coco"
    fx.image(coco / "pics" / "y.jpg")
    fx.coco(coco / "export.json", [{"id": 1, "file_name": "y.jpg", "width": fx.W, "height": fx.H}], ["card"],
            [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 30, 40]}])
    report = check([coco / "export.json"])
    assert report.sources[0].format == "coco" and labelled_images(report) == {"y.jpg": "export.json"}

    labelme = tmp_path / "labelme"
    fx.image(labelme / "z.jpg")
    fx.image(labelme / "other.jpg", seed=2)
    fx.labelme(labelme / "z.json", "z.jpg", [{"label": "card", "shape_type": "rectangle", "points": [[1, 2], [50, 60]]}])
    report = check([labelme / "z.json"])
    assert report.sources[0].format == "labelme" and labelled_images(report) == {"z.jpg": "z.json"}

    report = check([yolo / "images" / "train" / "x.jpg"])
    assert labelled_images(report) == {"x.jpg": "x.txt"}


def test_voc_file_named_differently_from_its_image_is_matched_by_filename(odd_dir):
    fx.image(odd_dir / "JPEGImages" / "IMG_0001.jpg")
    fx.voc(odd_dir / "Annotations" / "card-one.xml", "IMG_0001.jpg", [{"name": "card", "box": KNOWN_BOX}])
    report = check([odd_dir])
    assert labelled_images(report) == {"IMG_0001.jpg": "card-one.xml"}  # not also listed as a background
    assert report.ok


def test_the_format_with_most_annotations_wins_and_the_other_is_named(odd_dir):
    for name in ("a", "b"):
        fx.image(odd_dir / f"{name}.jpg")
        fx.voc(odd_dir / f"{name}.xml", f"{name}.jpg", [{"name": "card", "box": KNOWN_BOX}])
    fx.yolo_rows(ROW, odd_dir / "a.txt")
    report = check([odd_dir])
    assert report.sources[0].format == "voc"
    [note] = [f for f in report.findings if f.code == "other_format"]
    assert "1 YOLO annotation entries" in note.message and "only the VOC labels are read" in note.message


def test_images_without_any_labels(odd_dir):
    fx.image(odd_dir / "a.jpg")
    report = check([odd_dir])
    assert report.sources[0].format == "images" and "backgrounds" in report.sources[0].reason
    assert [f.code for f in report.errors] == ["no_labels"]


def test_broken_data_yaml_and_missing_split_folder(tmp_path):
    bad = tmp_path / "bad"
    fx.image(bad / "images" / "a.jpg")
    (bad / "data.yaml").write_text("train: images\nnames: 7\n", encoding="utf-8")
    [finding] = check([bad]).errors
    assert finding.code == "bad_yaml" and "'names' list" in finding.message

    gone = tmp_path / "gone"
    fx.image(gone / "images" / "train" / "a.jpg")
    fx.yolo_rows(ROW, gone / "labels" / "train" / "a.txt")
    (gone / "data.yaml").write_text("train: images/train\nval: images/val\nnames: [card]\n", encoding="utf-8")
    report = check([gone])
    assert [f.code for f in report.errors] == ["split_missing"] and "images/val" in report.errors[0].message


def test_ultralytics_caches_hidden_files_and_other_files_are_ignored(odd_dir):
    fx.image(odd_dir / "images" / "a.jpg")
    fx.yolo_rows(ROW, odd_dir / "labels" / "a.txt")
    (odd_dir / "labels.cache").write_bytes(b"\x80\x04cache")
    (odd_dir / ".DS_Store").write_bytes(b"\x00")
    (odd_dir / "README.pdf").write_bytes(b"%PDF-1.4")
    report = check([odd_dir])
    assert report.counts["non_image_files"] == 1
    [note] = [f for f in report.findings if f.code == "non_image_files"]
    assert "README.pdf" in note.message and note.severity == "info"


def test_sides_are_read_from_file_and_folder_names(odd_dir):
    for path in ("fronts/a.jpg", "backs/b.jpg", "card_003_back.jpg", "background.jpg"):
        fx.image(odd_dir / path)
        fx.yolo_rows(ROW, (odd_dir / path).with_suffix(".txt"))
    sides = {Path(i.image).name: i.side for i in check([odd_dir]).items}
    assert sides == {"a.jpg": "front", "b.jpg": "back", "card_003_back.jpg": "back", "background.jpg": None}
