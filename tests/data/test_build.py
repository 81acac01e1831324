"""`data import`: a training-ready Ultralytics folder, converted, mapped, split, linked — and the sources
left byte for byte as they were."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from cardgrader import paths
from cardgrader.data.build import import_dataset, trainable
from cardgrader.data.check import check
from cardgrader.data.classmap import ClassMap, save_user_map
from cardgrader.data.model import OBB, POLYGON
from cardgrader.errors import Cancelled
from cardgrader.errors import ConfigError, DataError
from tests.conftest import tree_digest

from . import formats as fx
from .formats import BOX as KNOWN_BOX
from .formats import POLYGON as KNOWN_POLYGON
from .formats import box_corners, rotated_rect, same_points


def labelme_source(root: Path, n: int = 6) -> Path:
    """LabelMe files: a card outline (rotated rectangle as polygon) and its print (an irregular polygon)."""
    for i in range(n):
        side = "front" if i % 2 == 0 else "back"
        fx.image(root / f"karte {i} {side}.jpg", seed=i)
        fx.labelme(root / f"karte {i} {side}.json", f"karte {i} {side}.jpg", [
            {"label": "card", "shape_type": "polygon", "points": rotated_rect(degrees=10 + i)},
            {"label": "print", "shape_type": "polygon", "points": KNOWN_POLYGON},
        ])
    return root


def built_shapes(result) -> dict[str, list]:
    report = check([result.root])
    assert report.ok, report.errors
    return {Path(i.image).name: i.shapes for i in report.items}


@pytest.mark.parametrize("arch", ["detect", "segment", "obb"])
def test_import_converts_to_each_architecture_with_known_coordinates(odd_dir, tmp_path, arch):
    source = labelme_source(odd_dir)
    before = tree_digest(odd_dir)
    result = import_dataset([odd_dir], tmp_path / "built", arch=arch, task="border", border="dual")
    assert tree_digest(odd_dir) == before

    spec = yaml.safe_load((tmp_path / "built" / "data.yaml").read_text(encoding="utf-8"))
    assert spec["path"] == str(tmp_path / "built") and Path(spec["path"]).is_absolute()
    assert spec["names"] == {0: "outer_border", 1: "inner_border"}
    assert sum(result.images.values()) == 6 and set(result.images) == {"train", "val"}
    assert result.labels == {"outer_border": 6, "inner_border": 6}

    shapes = built_shapes(result)
    outer, inner = shapes["karte 3 back.jpg"]
    assert (outer.label, inner.label) == ("outer_border", "inner_border")
    card = rotated_rect(degrees=13)
    xs, ys = [p[0] for p in KNOWN_POLYGON], [p[1] for p in KNOWN_POLYGON]
    if arch == "detect":
        cx, cy = [p[0] for p in card], [p[1] for p in card]
        assert same_points(fx.pixels(outer), box_corners(min(cx), min(cy), max(cx), max(cy)))
        assert same_points(fx.pixels(inner), box_corners(min(xs), min(ys), max(xs), max(ys)))
    elif arch == "segment":
        assert same_points(fx.pixels(outer), card) and same_points(fx.pixels(inner), KNOWN_POLYGON)
    else:
        assert outer.kind == OBB and same_points(fx.pixels(outer), card)
        assert inner.kind == OBB and any("smallest enclosing rotated rectangles" in n for n in result.notes)
    assert source.exists()


def test_boxes_to_polygons_are_reported_as_approximate(odd_dir, tmp_path):
    for i in range(3):
        fx.image(odd_dir / f"{i}.jpg", seed=i)
        fx.voc(odd_dir / f"{i}.xml", f"{i}.jpg", [{"name": "card", "box": KNOWN_BOX}])
    result = import_dataset([odd_dir], tmp_path / "out", arch="segment", task="border", border="outer")
    assert result.notes == ["3 boxes became four-corner polygons; a box cannot follow a rotated card, so the "
                            "outline is approximate."]
    assert all(same_points(fx.pixels(s[0]), box_corners(*KNOWN_BOX)) and s[0].kind in (POLYGON, OBB)
               for s in built_shapes(result).values())


def test_images_are_hard_linked_but_incomplete_jpegs_are_copied(odd_dir, tmp_path):
    labelme_source(odd_dir, n=3)
    trailer = odd_dir / "karte 1 back.jpg"
    trailer.write_bytes(trailer.read_bytes() + b"trailing bytes")
    result = import_dataset([odd_dir], tmp_path / "out", arch="detect", task="border")
    built = {p.name: p for p in Path(result.root).glob("images/*/*.jpg")}
    assert os.path.samefile(built["karte 0 front.jpg"], odd_dir / "karte 0 front.jpg")
    assert not os.path.samefile(built["karte 1 back.jpg"], trailer)
    assert built["karte 1 back.jpg"].read_bytes() == trailer.read_bytes()


def test_unchanged_sources_and_settings_reuse_the_build(odd_dir, tmp_path):
    labelme_source(odd_dir, n=4)
    first = import_dataset([odd_dir], tmp_path / "out", arch="obb", task="border")
    stamp = (tmp_path / "out" / "data.yaml").stat().st_mtime_ns
    again = import_dataset([odd_dir], tmp_path / "out", arch="obb", task="border")
    assert again.reused and again.fingerprint == first.fingerprint and again.images == first.images
    assert (tmp_path / "out" / "data.yaml").stat().st_mtime_ns == stamp
    other_seed = import_dataset([odd_dir], tmp_path / "out", arch="obb", task="border", seed=3)
    assert not other_seed.reused and other_seed.fingerprint != first.fingerprint
    fx.labelme(odd_dir / "karte 0 front.json", "karte 0 front.jpg",
               [{"label": "card", "shape_type": "rectangle", "points": [[5, 5], [60, 70]]}])
    changed = import_dataset([odd_dir], tmp_path / "out", arch="obb", task="border", seed=3)
    assert not changed.reused
    assert not list(tmp_path.glob(".out.building-*"))  # the staging folder is gone


def test_destination_must_not_be_a_source_or_someone_elses_folder(odd_dir, tmp_path):
    labelme_source(odd_dir, n=2)
    with pytest.raises(ConfigError, match="inside the source"):
        import_dataset([odd_dir], odd_dir / "built", arch="detect", task="border")
    with pytest.raises(ConfigError, match="is inside --out"):
        import_dataset([odd_dir], odd_dir.parent, arch="detect", task="border")
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "thesis.docx").write_bytes(b"important")
    with pytest.raises(ConfigError, match="did not make"):
        import_dataset([odd_dir], theirs, arch="detect", task="border")
    assert (theirs / "thesis.docx").read_bytes() == b"important"


def test_border_type_class_map_and_side_select_what_is_kept(odd_dir, tmp_path):
    labelme_source(odd_dir, n=6)
    outer = import_dataset([odd_dir], tmp_path / "outer", arch="detect", task="border", border="outer")
    assert outer.classes == ["outer_border"] and outer.labels == {"outer_border": 6}
    assert any(f.code == "classes_border" for f in outer.report.findings)

    fronts = import_dataset([odd_dir], tmp_path / "fronts", arch="detect", task="border", side="front")
    assert sum(fronts.images.values()) == 3 and fronts.left_out == 3

    save_user_map({"card": "inner_border", "print": None})
    remapped = import_dataset([odd_dir], tmp_path / "remapped", arch="detect", task="border", border="inner")
    assert remapped.labels == {"inner_border": 6}
    assert any(f.code == "classes_dropped" for f in remapped.report.findings)


def test_trainable_counts_what_an_import_would_train_on(odd_dir):
    labelme_source(odd_dir, n=6)
    fx.image(odd_dir / "plain table.jpg", seed=9)  # a background: kept, but not counted as labelled
    report = check([odd_dir], task="border")
    assert trainable(report) == 6
    assert trainable(report, ["outer_border"], side="back") == 3
    assert trainable(report, ["scratch"]) == 0


def test_unknown_classes_are_named_and_nothing_to_import_is_an_error(odd_dir, tmp_path):
    labelme_source(odd_dir, n=2)
    with pytest.raises(DataError, match="no usable image has labels of the classes scratch, dent, crease"):
        import_dataset([odd_dir], tmp_path / "out", arch="detect", task="surface")
    report = check([odd_dir], task="surface")
    assert [f.code for f in report.errors] == ["no_task_classes"]
    assert "map them in the class map" in report.errors[0].message
    assert not (tmp_path / "out").exists()


def test_bad_images_are_left_out_and_duplicates_kept_together(odd_dir, tmp_path):
    labelme_source(odd_dir, n=6)
    (odd_dir / "karte 2 front.jpg").write_bytes(b"")
    copy = odd_dir / "copy of karte 4 front.jpg"
    copy.write_bytes((odd_dir / "karte 4 front.jpg").read_bytes())
    fx.labelme(odd_dir / "copy of karte 4 front.json", copy.name,
               [{"label": "card", "shape_type": "polygon", "points": rotated_rect(degrees=14)}])
    result = import_dataset([odd_dir], tmp_path / "out", arch="detect", task="border", split_ratios="0.5,0.5,0")
    names = {p.name: p.parent.name for p in Path(result.root).glob("images/*/*.jpg")}
    assert "karte 2 front.jpg" not in names and result.left_out == 1
    assert names["karte 4 front.jpg"] == names["copy of karte 4 front.jpg"]


def test_an_image_listed_in_two_splits_is_imported_once(odd_dir, tmp_path):
    for i in range(3):
        fx.image(odd_dir / "images" / f"{i}.jpg", seed=i)
        fx.yolo_rows([(0, fx.yolo_box(*KNOWN_BOX))], odd_dir / "labels" / f"{i}.txt")
    (odd_dir / "data.yaml").write_text("train: images\nval: images\nnames: [card]\n", encoding="utf-8")
    report = check([odd_dir])
    assert [f.code for f in report.warnings] == ["listed_in_several_splits"] * 3
    assert "is listed in both train and val" in report.warnings[0].message
    assert report.counts["images"] == 3 and report.counts["duplicates"] == 0
    result = import_dataset([odd_dir], tmp_path / "out", arch="detect", task="border", border="outer")
    assert sum(result.images.values()) == 3


def test_default_destination_is_the_apps_datasets_folder(odd_dir):
    labelme_source(odd_dir, n=2)
    result = import_dataset([odd_dir], arch="segment", task="centering")
    assert Path(result.root).parent == paths.datasets_dir()
    assert Path(result.root).name.endswith("centering-dual-segment")


def test_cancel_stops_before_anything_is_written_and_progress_counts_up(odd_dir, tmp_path):
    labelme_source(odd_dir, n=4)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        import_dataset([odd_dir], tmp_path / "out", arch="detect", task="border", cancel=cancel)
    assert not (tmp_path / "out").exists()

    seen = []
    import_dataset([odd_dir], tmp_path / "out", arch="detect", task="border",
                   progress=lambda done, total, message: seen.append((done, total, message)))
    reading = [d for d, t, m in seen if m.startswith("Reading")]
    assert reading == sorted(reading) and reading[-1] == 4
    assert seen[-1][0] == seen[-1][1]


def test_cli_import_json_and_text(odd_dir, tmp_path):
    labelme_source(odd_dir, n=4)
    cmd = [sys.executable, "-m", "cardgrader", "data", "import", str(odd_dir), "--out", str(tmp_path / "out"),
           "--arch", "obb", "--task", "border", "--border", "outer", "--split", "0.5,0.5,0", "--seed", "2"]
    result = subprocess.run([*cmd, "--json"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["images"] == {"train": 2, "val": 2} and out["classes"] == ["outer_border"]
    assert out["report"]["sources"][0]["format"] == "labelme" and not out["reused"]
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "Nothing changed since the last import" in again.stdout
    assert f"cardgrader train --config {tmp_path / 'out' / 'train.yaml'}" in again.stdout
    missing = subprocess.run([*cmd[:5], str(tmp_path / "nowhere"), *cmd[6:]], capture_output=True, text=True)
    assert missing.returncode == 1 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr


def test_class_map_file_errors_are_config_errors(tmp_path):
    bad = tmp_path / "map.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ConfigError, match="JSON object"):
        ClassMap.load(bad)
