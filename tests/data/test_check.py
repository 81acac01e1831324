"""The check the GUI calls: progress from the caller's thread, cancel from another, plain data out,
a quality score with its parts, and the class map a grader edits."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from cardgrader.data.check import check
from cardgrader.data.classmap import ClassMap, save_user_map, user_map_file
from cardgrader.errors import Cancelled
from cardgrader.data.report import format_text
from cardgrader.data.sample import generate
from cardgrader.errors import ConfigError


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("check-sample")
    generate(folder, count=40, seed=9, size=(96, 128), defect_rate=0.5)
    return folder


def test_progress_is_called_on_the_callers_thread_and_counts_to_the_end(sample):
    calls = []
    caller = threading.get_ident()
    report = check([sample], progress=lambda d, t, m: calls.append((d, t, m, threading.get_ident())))
    assert {c[3] for c in calls} == {caller}
    reading = [(d, t) for d, t, m, _ in calls if m.startswith("Reading")]
    assert reading[-1] == (40, 40) and [d for d, _ in reading] == sorted(d for d, _ in reading)
    assert len(report.items) == 40


def test_cancel_from_another_thread_stops_the_check(sample):
    cancel = threading.Event()

    def progress(done, total, message):  # the GUI's Stop button, pressed once reading has begun
        if message.startswith("Reading") and not cancel.is_set():
            stop = threading.Thread(target=cancel.set)
            stop.start()
            stop.join()

    with pytest.raises(Cancelled) as raised:
        check([sample], progress=progress, cancel=cancel, workers=2)
    assert raised.value.exit_code == 130


def test_the_report_is_plain_data_the_gui_can_draw(sample):
    report = check([sample], task="corners")
    data = json.loads(json.dumps(report.to_dict()))
    item = data["items"][0]
    assert set(item) >= {"image", "width", "height", "shapes", "side", "split", "usable", "digest", "label_file"}
    shape = item["shapes"][0]
    assert shape["kind"] in ("box", "polygon", "obb") and isinstance(shape["label"], str)
    assert all(0 <= v <= 1 for point in shape["points"] for v in point)
    assert report.items[0].shapes[0].pixels(item["width"], item["height"])[0][0] == shape["points"][0][0] * item["width"]
    components = data["quality"]["components"]
    assert set(components) == {"integrity", "labels", "coverage", "balance", "uniqueness", "quantity"}
    assert 0 <= data["quality"]["score"] <= 100 and data["recommendations"]
    assert data["counts"]["classes"].keys() == {"corner_sharp", "corner_worn"}
    assert data["counts"]["left_out_classes"]["outer_border"] == 40


def test_text_report_names_format_counts_quality_and_findings(sample):
    text = format_text(check([sample], task="border"))
    assert "YOLO labels" in text and "Ultralytics layout" in text
    assert "Images  40 (40 usable" in text and "Quality" in text and "Recommendations" in text
    assert "belong to other tasks than border" in text


def test_class_map_aliases_user_entries_and_numbered_classes(home):
    builtin = ClassMap()
    assert builtin.target("Card") == "outer_border" and builtin.target("outer-border") == "outer_border"
    assert builtin.target("Print Border") == "inner_border" and builtin.target("whitening") == "edge_wear"
    assert builtin.resolve("1", ["outer_border", "inner_border"], numbered=True) == "inner_border"
    assert builtin.resolve("7", ["outer_border"], numbered=True) is None
    save_user_map({"Rand außen": "outer_border", "card": None})
    assert json.loads(user_map_file().read_text(encoding="utf-8")) == {"Rand außen": "outer_border", "card": None}
    mine = ClassMap.load()
    assert mine.target("rand außen") == "outer_border" and mine.target("card") is None
    assert mine.explicitly_dropped("card") and mine.why_left_out("card", ["outer_border"], "outer") == "dropped"
    assert mine.why_left_out("inner", ["outer_border"], "outer") == "border"
    assert mine.why_left_out("scratch", ["outer_border"], "outer") == "other_task"
    assert mine.why_left_out("banana", ["outer_border"], "outer") == "unknown"
    with pytest.raises(ConfigError, match="must map to a class name or null"):
        save_user_map({"card": 3})


def test_bad_arguments_are_config_errors(sample):
    with pytest.raises(ConfigError, match="--task"):
        check([sample], task="grading")
    with pytest.raises(ConfigError, match="at least one"):
        check([])


def test_duplicates_are_identical_bytes_not_just_equal_keys(tmp_path):
    from . import formats as fx

    big = fx.image(tmp_path / "a.png", w=400, h=300)
    (tmp_path / "b.png").write_bytes(big.read_bytes())
    data = bytearray(big.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, head and tail: the fast key collides, the bytes do not
    (tmp_path / "c.png").write_bytes(bytes(data))
    for name in ("a", "b", "c"):
        fx.yolo_rows([(0, [0.5, 0.5, 0.2, 0.2])], tmp_path / f"{name}.txt")
    report = check([tmp_path])
    [finding] = [f for f in report.findings if f.code == "duplicate_image"]
    assert finding.file.endswith("b.png") and "a.png" in finding.message
    digests = {i.image[-5:]: i.digest for i in report.items}
    assert digests["a.png"] == digests["b.png"] != digests["c.png"]


def yaml_dataset(root, yaml_text: str, broken: str = "1"):
    """Three labelled images in one folder, one of them with a broken label row, and a data.yaml."""
    from . import formats as fx

    for i in range(3):
        fx.image(root / "images" / f"{i}.jpg", seed=i)
        fx.yolo_rows([(0, fx.yolo_box(*fx.BOX))], root / "labels" / f"{i}.txt")
    (root / "labels" / f"{broken}.txt").write_text("0 0.5 0.5 0.2\n", encoding="utf-8")  # 3 numbers after the class
    (root / "data.yaml").write_text(yaml_text, encoding="utf-8")
    return root


def test_train_and_val_the_same_folder_gives_each_finding_once_with_both_splits(odd_dir):
    yaml_dataset(odd_dir, "train: images\nval: images\nnames: [card]\n")
    report = check([odd_dir])
    [finding] = [f for f in report.findings if f.code == "malformed_row"]
    assert finding.file.endswith("1.txt") and finding.splits == ["train", "val"]
    assert len(report.items) == 3
    counts = report.counts
    assert (counts["images"], counts["usable"], counts["shapes"], counts["errors"], counts["duplicates"]) == \
        (3, 2, 2, 1, 0)
    assert report.quality.components["labels"].detail == "2 of 3 labels are usable"
    assert report.quality.components["uniqueness"].score == 100.0
    assert not any("duplicate photo" in r for r in report.recommendations)

    text = format_text(report)
    [line] = [x for x in text.splitlines() if "1.txt has 4 numbers" in x]
    assert line.endswith("(train, val)")
    assert "Errors (left out of training until fixed): 1" in text


def test_cli_check_json_lists_each_finding_once_with_its_splits(odd_dir):
    import subprocess
    import sys

    yaml_dataset(odd_dir, "train: images\nval: images\nnames: [card]\n")
    result = subprocess.run([sys.executable, "-m", "cardgrader", "data", "check", str(odd_dir), "--json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    [finding] = [f for f in data["findings"] if f["code"] == "malformed_row"]
    assert set(finding) >= {"severity", "file", "message", "code", "line"}
    assert finding["splits"] == ["train", "val"] and finding["line"] == 1
    assert data["counts"]["images"] == 3 and data["counts"]["errors"] == 1

    text = subprocess.run([sys.executable, "-m", "cardgrader", "data", "check", str(odd_dir)],
                          capture_output=True, text=True, timeout=120).stdout
    assert text.count("1.txt has 4 numbers") == 1


def test_images_listed_in_two_split_files_are_read_once_and_say_which_splits(odd_dir):
    (odd_dir / "train.txt").write_text("images/0.jpg\nimages/1.jpg\n", encoding="utf-8")
    (odd_dir / "val.txt").write_text("images/0.jpg\nimages/1.jpg\nimages/2.jpg\n", encoding="utf-8")
    yaml_dataset(odd_dir, "train: train.txt\nval: val.txt\nnames: [card]\n", broken="1")
    report = check([odd_dir])
    about_files = sorted((f.code, Path(f.file).name, f.splits) for f in report.findings if f.file.endswith(
        (".jpg", ".txt")))
    assert about_files == [("listed_in_several_splits", "0.jpg", ["train", "val"]),
                           ("malformed_row", "1.txt", ["train", "val"])]
    assert {Path(i.image).name: (i.split, i.also_in) for i in report.items} == \
        {"0.jpg": ("train", ["val"]), "1.jpg": ("train", ["val"]), "2.jpg": ("val", [])}
    assert report.counts["images"] == 3 and report.counts["splits"] == {"train": 1, "val": 1}
