"""The corrupt-input corpus of issue 3: every case gets its finding and a sentence a grader can act on,
nothing crashes, and `cardgrader data check` exits as README says (0 clean or warnings, 1 errors)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cardgrader.data.build import import_dataset
from cardgrader.data.check import check

from . import formats as fx
from .formats import BOX as KNOWN_BOX

CLI = [sys.executable, "-m", "cardgrader"]


def cli(*args):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=120)


def yolo_case(root: Path, name: str, label: str | None = None, image_bytes: bytes | None = None) -> Path:
    """A YOLO folder with one good image and one bad case."""
    fx.image(root / "images" / "good.jpg")
    fx.yolo_rows([(0, fx.yolo_box(*KNOWN_BOX))], root / "labels" / "good.txt")
    (root / "classes.txt").write_text("outer_border\ninner_border\n", encoding="utf-8")
    image = root / "images" / f"{name}.jpg"
    if image_bytes is None:
        fx.image(image, seed=1)
    else:
        image.write_bytes(image_bytes)
    (root / "labels" / f"{name}.txt").write_text(label or "0 0.5 0.5 0.25 0.25\n", encoding="utf-8")
    return root


def truncated(root):
    data = fx.image(root / "whole.jpg").read_bytes()
    (root / "whole.jpg").unlink()
    return yolo_case(root, "truncated", image_bytes=data[: len(data) // 2])


def zero_bytes(root):
    return yolo_case(root, "empty", image_bytes=b"")


def text_named_jpg(root):
    return yolo_case(root, "notes", image_bytes=b"These are my notes about the Charizard card.\n")


def class_id_9(root):
    return yolo_case(root, "classid", label="9 0.5 0.5 0.2 0.2\n")


def coordinate_1_7(root):
    return yolo_case(root, "coord", label="0 1.7 0.5 0.2 0.2\n")


def polygon_of_2_points(root):
    fx.image(root / "two.jpg")
    fx.labelme(root / "two.json", "two.jpg", [{"label": "outer", "shape_type": "polygon",
                                               "points": [[10.5, 20.5], [80.25, 90.0]]}])
    return root


def coco_missing_image(root):
    fx.image(root / "images" / "present.jpg")
    fx.coco(root / "annotations.json",
            [{"id": 1, "file_name": "present.jpg", "width": fx.W, "height": fx.H},
             {"id": 2, "file_name": "missing.jpg", "width": fx.W, "height": fx.H}], ["card"],
            [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 50, 60]},
             {"id": 2, "image_id": 2, "category_id": 1, "bbox": [10, 10, 50, 60]},
             {"id": 3, "image_id": 99, "category_id": 1, "bbox": [10, 10, 50, 60]}])
    return root


def voc_no_objects(root):
    fx.image(root / "card.jpg")
    fx.voc(root / "card.xml", "card.jpg", [{"name": "card", "box": KNOWN_BOX}])
    fx.image(root / "blank.jpg", seed=3)
    fx.voc(root / "blank.xml", "blank.jpg", [])
    return root


def empty_folder(root):
    return root


def file_instead_of_folder(root):
    path = root / "my cards.txt"
    path.write_text("card 1: PSA 9\n", encoding="utf-8")
    return path


# case → (finding code, severity, words the sentence must contain, exit code of `data check`)
CORPUS = {
    truncated: ("truncated_image", "error", ["truncated.jpg", "truncated", "export it again"], 1),
    zero_bytes: ("empty_image", "error", ["empty.jpg", "0 bytes"], 1),
    text_named_jpg: ("not_an_image", "error", ["notes.jpg", "holds text"], 1),
    class_id_9: ("class_out_of_range", "error", ["classid.txt", "class id 9", "only 2 classes"], 1),
    coordinate_1_7: ("coords_out_of_range", "error", ["coord.txt line 1", "x+w/2 = 1.8", "outside the image"], 1),
    polygon_of_2_points: ("degenerate_shape", "error", ["two.json", "polygon of only 2 points"], 1),
    coco_missing_image: ("missing_image", "error", ["annotations.json", "missing.jpg", "not in"], 1),
    voc_no_objects: ("no_objects", "warning", ["blank.xml", "no objects", "background"], 0),
    empty_folder: ("no_images", "error", ["is empty"], 1),
    file_instead_of_folder: ("not_a_folder", "error", ["my cards.txt", "is a file", "drop the folder"], 1),
}


@pytest.mark.parametrize("make", list(CORPUS), ids=[f.__name__ for f in CORPUS])
def test_each_case_gets_its_finding_and_exit_code(make, odd_dir):
    code, severity, words, exit_code = CORPUS[make]
    source = make(odd_dir)
    report = check([source])
    found = [f for f in report.findings if f.code == code]
    assert found, f"no {code} finding; got {[(f.code, f.message) for f in report.findings]}"
    assert found[0].severity == severity
    for word in words:
        assert word in found[0].message, found[0].message
    assert found[0].message[0].isupper() or found[0].message.startswith("/")
    assert report.ok == (exit_code == 0)

    result = cli("data", "check", source, "--json")
    assert result.returncode == exit_code, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert code in {f["code"] for f in json.loads(result.stdout)["findings"]}


def test_coco_annotation_of_an_image_the_file_does_not_list(odd_dir):
    [finding] = [f for f in check([coco_missing_image(odd_dir)]).findings if f.code == "unknown_image_id"]
    assert finding.severity == "error" and "image id 99" in finding.message and "Annotation 3" in finding.message


def test_bad_files_are_left_out_and_good_ones_kept(odd_dir):
    report = check([truncated(odd_dir)])
    usable = {Path(i.image).name: i.usable for i in report.items}
    assert usable == {"good.jpg": True, "truncated.jpg": False}
    assert report.quality.components["integrity"].score == 50.0
    assert any("Fix or remove" in r for r in report.recommendations)


def test_the_whole_corpus_at_once_in_text_form(tmp_path):
    sources = []
    for make in CORPUS:
        folder = tmp_path / make.__name__
        folder.mkdir()
        sources.append(make(folder))
    result = cli("data", "check", *sources)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    for _code, _severity, words, _exit in CORPUS.values():
        assert words[-1] in result.stdout
    assert "Errors (left out of training until fixed)" in result.stdout
    assert "Quality" in result.stdout and "Recommendations" in result.stdout


def test_clipping_fixes_small_overshoots_with_a_warning(odd_dir):
    yolo_case(odd_dir, "edge", label="0 0.9 0.5 0.23 0.2\n")  # reaches x = 1.015, 3 px past a 200 px image
    report = check([odd_dir])
    [finding] = [f for f in report.findings if f.code == "coords_clipped"]
    assert finding.severity == "warning" and "clipping to the edge fixes it" in finding.message
    assert "x+w/2 = 1.015" in finding.message and finding.line == 1
    assert report.ok


def test_pixel_coordinates_in_yolo_files_are_named(odd_dir):
    yolo_case(odd_dir, "pixels", label="0 100 80 40 30\n")
    [finding] = [f for f in check([odd_dir]).findings if f.code == "coords_out_of_range"]
    assert "x+w/2 = 120 is outside the image" in finding.message
    assert "pixel coordinates in a normalised file?" in finding.message


def two_good_and(root: Path, name: str, label: str) -> Path:
    """Two good YOLO images (so an import has something to train and validate on) and one case."""
    yolo_case(root, name, label=label)
    fx.image(root / "images" / "good2.jpg", seed=2)
    fx.yolo_rows([(0, fx.yolo_box(*KNOWN_BOX))], root / "labels" / "good2.txt")
    return root


def test_a_box_far_wider_than_the_image_is_an_error_and_is_not_imported(odd_dir, tmp_path):
    two_good_and(odd_dir, "wide", "0 0.5 0.5 1.7 0.2\n")  # 1.7 image widths: edges at -0.35 and 1.35
    report = check([odd_dir])
    [finding] = [f for f in report.findings if f.file.endswith("wide.txt")]
    assert (finding.severity, finding.code, finding.line) == ("error", "coords_out_of_range", 1)
    assert "wide.txt line 1" in finding.message and "x+w/2 = 1.35 is outside the image" in finding.message
    assert "allowed up to 1.02" in finding.message
    assert {Path(i.image).name for i in report.items if not i.usable} == {"wide.jpg"}
    assert cli("data", "check", odd_dir).returncode == 1

    result = import_dataset([odd_dir], tmp_path / "out", arch="detect", task="border", border="outer")
    built = {p.name for p in Path(result.root).glob("images/*/*.jpg")}
    assert built == {"good.jpg", "good2.jpg"} and result.left_out == 1


def test_a_pixel_past_the_edge_is_clipped_silently_and_imports_inside_the_image(odd_dir, tmp_path):
    two_good_and(odd_dir, "edge", "0 0.9975 0.5 0.015 0.2\n")  # right edge 1.005: 1 px past a 200 px image
    report = check([odd_dir])
    assert report.ok and not [f for f in report.findings if f.file.endswith("edge.txt")], report.findings
    result = import_dataset([odd_dir], tmp_path / "out", arch="detect", task="border", border="outer")
    [label] = Path(result.root).glob("labels/*/edge.txt")
    _cls, cx, _cy, w, _h = map(float, label.read_text(encoding="utf-8").split())
    assert cx + w / 2 == pytest.approx(1.0, abs=1e-6) and cx - w / 2 == pytest.approx(0.99, abs=1e-6)


def clipped_or_error(root: Path, make) -> str:
    """The severity of the one finding about the case `make` writes into `root` ('none' when clean)."""
    make(root)
    found = [f for f in check([root]).findings if f.code in ("coords_clipped", "coords_out_of_range")]
    assert len(found) <= 1, found
    return found[0].severity if found else "none"


def yolo_polygon(x):
    return lambda root: yolo_case(root, "poly", label=f"0 0.2 0.2 0.6 0.2 {x} 0.7 0.2 0.7\n")


def yolo_obb(y):  # an axis-aligned oriented box whose bottom corners reach y
    return lambda root: yolo_case(root, "obb", label=f"0 0.2 0.5 0.6 0.5 0.6 {y} 0.2 {y}\n")


def voc_box(xmax):
    def make(root):
        fx.image(root / "card.jpg")
        fx.voc(root / "card.xml", "card.jpg", [{"name": "card", "box": (10, 10, xmax, 150)}])
    return make


def labelme_polygon(y):
    def make(root):
        fx.image(root / "card.jpg")
        fx.labelme(root / "card.json", "card.jpg", [{"label": "card", "shape_type": "polygon",
                                                     "points": [[20, y], [150, 10], [180, 140], [30, 150]]}])
    return make


def coco_box(x):
    def make(root):
        fx.image(root / "images" / "card.jpg")
        fx.coco(root / "annotations.json", [{"id": 1, "file_name": "card.jpg", "width": fx.W, "height": fx.H}],
                ["card"], [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [x, 10, 100, 100]}])
    return make


# One rule for every format: up to 2 % of the image past an edge is clipped, beyond it is an error
# (W, H = 200, 160 px: 2 % is 4 px across and 3.2 px down).
EDGE_CASES = {
    "yolo polygon x 1.015": (yolo_polygon(1.015), "warning"),
    "yolo polygon x 1.03": (yolo_polygon(1.03), "error"),
    "yolo obb y 1.004": (yolo_obb(1.004), "none"),
    "yolo obb y 1.03": (yolo_obb(1.03), "error"),
    "voc xmax +1 px": (voc_box(fx.W + 1), "none"),
    "voc xmax +3 px": (voc_box(fx.W + 3), "warning"),
    "voc xmax +7 px": (voc_box(fx.W + 7), "error"),
    "labelme y -3 px": (labelme_polygon(-3), "warning"),
    "labelme y -6 px": (labelme_polygon(-6), "error"),
    "coco x -6 px": (coco_box(-6), "error"),
}


@pytest.mark.parametrize("case", list(EDGE_CASES))
def test_the_edge_tolerance_is_the_same_for_every_format_and_shape(odd_dir, case):
    make, severity = EDGE_CASES[case]
    assert clipped_or_error(odd_dir, make) == severity


def test_pixel_formats_quote_the_value_in_pixels(odd_dir):
    voc_box(400)(odd_dir)
    [finding] = [f for f in check([odd_dir]).findings if f.code == "coords_out_of_range"]
    assert "card.xml object 1 ('card'): the right edge x = 400 px is outside the image" in finding.message
    assert "allowed up to 204 px" in finding.message


def test_malformed_rows_and_labels_without_images(odd_dir):
    yolo_case(odd_dir, "rows", label="0 0.5 0.5\nx 0.1 0.1 0.2 0.2\n1.5 0.5 0.5 0.1 0.1\n")
    (odd_dir / "labels" / "orphan.txt").write_text("0 0.5 0.5 0.1 0.1\n", encoding="utf-8")
    codes = [(f.code, f.line) for f in check([odd_dir]).findings]
    assert ("malformed_row", 1) in codes and ("malformed_row", 2) in codes and ("bad_class_id", 3) in codes
    assert ("label_without_image", None) in codes


def test_usage_errors_exit_2(tmp_path):
    result = cli("data", "check", tmp_path, "--task", "nonsense")
    assert result.returncode == 2
    result = cli("data", "import", tmp_path, "--out", tmp_path / "out", "--arch", "detect", "--task", "border",
                 "--split", "0.8,zero")
    assert result.returncode == 2 and "--split" in result.stderr and "Traceback" not in result.stderr
    result = cli("data", "sample", tmp_path / "s", "--size", "big")
    assert result.returncode == 2 and "--size" in result.stderr
