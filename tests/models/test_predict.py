"""`cardgrader predict` as a user runs it (a subprocess), and the Python API the GUI calls."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from cardgrader.models import resolve_model
from cardgrader.models.overlay import MIN_OVERLAY_SIDE, class_colour, draw_overlay
from cardgrader.models.predict import Prediction, Predictor, above
from tests.conftest import tree_digest
from tests.models.trained_models import CLASSES, card_models  # noqa: F401 - a fixture

CLI = [sys.executable, "-m", "cardgrader"]
RECORD_KEYS = {"image", "width", "height", "detections", "overlay"}
DETECTION_KEYS = {"detect": {"class", "class_id", "confidence", "box"},
                  "segment": {"class", "class_id", "confidence", "box", "polygon"},
                  "obb": {"class", "class_id", "confidence", "box", "corners"}}


def cli(*args, timeout=300):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def photo_folder(model, root: Path) -> tuple[Path, list[Path], Path]:
    """A user's folder: two card photos, one more in a sub-folder, and a damaged one. → (folder, good, bad)."""
    folder = root / "my photos"
    (folder / "binder 2").mkdir(parents=True)
    val = sorted((model.data.parent / "images" / "val").iterdir())
    good = [folder / val[0].name, folder / val[1].name, folder / "binder 2" / val[2].name]
    for src, dst in zip(val, good):
        shutil.copyfile(src, dst)
    bad = folder / "torn.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    (folder / "notes.txt").write_text("not a photo")
    return folder, good, bad


def one_sentence(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("cardgrader:")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize("arch", ["detect", "segment", "obb"])
def test_predict_names_the_damaged_photo_and_writes_overlays_and_records_for_the_rest(arch, card_models, tmp_path):
    model = card_models(arch)
    folder, good, bad = photo_folder(model, tmp_path)
    before = tree_digest(folder)
    out = tmp_path / "predictions"
    result = cli("predict", model.package, folder, "--out", out, "--conf", 0.001, "--device", "cpu", "--json")
    assert result.returncode == 1, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert {r["image"] for r in records} == {str(p) for p in [*good, bad]}
    failed = [r for r in records if "error" in r]
    assert failed == [{"image": str(bad), "error": failed[0]["error"]}]
    assert "torn.jpg" in failed[0]["error"] and "cannot be read" in failed[0]["error"]

    for record in (r for r in records if "error" not in r):
        assert set(record) == RECORD_KEYS
        assert (record["width"], record["height"]) == (96, 96)
        assert record["detections"], "the tiny model still proposes boxes at conf 0.001"
        for d in record["detections"]:
            assert set(d) == DETECTION_KEYS[arch]
            assert d["class"] == CLASSES[d["class_id"]] and 0.001 <= d["confidence"] <= 1
            assert len(d["box"]) == 4 and d["box"][0] <= d["box"][2] and d["box"][1] <= d["box"][3]
            if arch == "obb":
                assert len(d["corners"]) == 4 and all(len(p) == 2 for p in d["corners"])
            if arch == "segment":
                assert len(d["polygon"]) >= 3 and all(len(p) == 2 for p in d["polygon"])
        overlay = Path(record["overlay"])
        assert overlay.is_file() and out in overlay.parents and overlay.suffix == ".jpg"
        picture = cv2.imread(str(overlay))
        assert picture is not None and min(picture.shape[:2]) >= MIN_OVERLAY_SIDE  # small photos drawn enlarged
        assert json.loads(overlay.with_name(overlay.name.replace(".overlay.jpg", ".json")).read_text()) == record
    assert (out / "binder 2" / good[2].name.replace(".jpg", ".overlay.jpg")).is_file()  # sub-folders mirrored
    assert tree_digest(folder) == before  # the source folder is only read


def test_predict_in_a_terminal_prints_a_summary_and_the_damaged_photo_on_stderr(card_models, tmp_path):
    model = card_models("detect")
    folder, good, bad = photo_folder(model, tmp_path)
    result = cli("predict", model.package, folder, "--out", tmp_path / "out", "--conf", 0.001)
    assert result.returncode == 1
    assert one_sentence(result.stderr) == f"cardgrader: The image {bad} cannot be read: it is damaged or not an image."
    assert "Predicted 3 of 4 photos with 'tiny detect' (conf 0.001)" in result.stdout
    assert "1 photo could not be read" in result.stdout
    only_good = cli("predict", model.package, *good, "--out", tmp_path / "out2", "--conf", 0.5)
    assert only_good.returncode == 0, only_good.stderr
    assert "Predicted 3 of 3 photos" in only_good.stdout and "found nothing" in only_good.stdout


def test_an_output_folder_inside_a_source_folder_is_refused_before_anything_is_written(card_models, tmp_path):
    model = card_models("detect")
    folder, good, _bad = photo_folder(model, tmp_path)
    before = tree_digest(folder)
    cases = ((folder / "out", folder, "is inside the source folder"), (folder, good[0], "the overlays would sit beside"),
             (folder / "binder 2", good[2], "the overlays would sit beside"),
             (folder / "binder 2", folder, "is inside the source folder"))
    for out, source, message in cases:
        result = cli("predict", model.package, source, "--out", out)
        assert result.returncode == 2, result.stderr
        assert message in one_sentence(result.stderr)
    assert tree_digest(folder) == before
    # A photo named on its own: its folder is not a source, so a folder of the outputs' own beside it is fine.
    beside = cli("predict", model.package, good[0], "--out", folder / "predictions", "--conf", 0.5)
    assert beside.returncode == 0, beside.stderr
    assert (folder / "predictions" / good[0].name.replace(".jpg", ".overlay.jpg")).is_file()


def test_bad_inputs_end_in_one_sentence(card_models, tmp_path):
    model = card_models("detect")
    folder, _good, _bad = photo_folder(model, tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = [
        (("nothing-here", folder), 2, "No model, run, model package or weights file matches 'nothing-here'"),
        ((model.package, empty), 1, f"No images in {empty}"),
        ((model.package, tmp_path / "missing"), 1, f"The source {tmp_path / 'missing'} does not exist."),
        ((model.package, folder, "--conf", "1.5"), 2, "--conf must be a number from 0 to 1; got '1.5'."),
        ((model.package, folder, "--conf", "high"), 2, "--conf must be a number from 0 to 1; got 'high'."),
        ((model.package, folder, "--imgsz", "big"), 2, "--imgsz must be a whole number from 32 to 8192"),
        ((model.package, folder, "--device", "cuda:7"), 2, "cuda:7 does not exist on this computer"),
    ]
    for args, code, message in cases:
        result = cli("predict", *args, "--out", tmp_path / "out")
        assert result.returncode == code, (args, result.stderr)
        assert message in one_sentence(result.stderr), result.stderr
    assert not (tmp_path / "out").exists()


def test_predict_once_at_a_low_threshold_then_filter_is_what_predicting_at_the_threshold_gives(card_models):
    """The GUI's slider: one prediction at a low confidence, re-filtered, from a worker thread."""
    model = card_models("segment")
    predictor = Predictor(resolve_model(model.package))
    photo = sorted((model.data.parent / "images" / "val").iterdir())[0]
    results: dict[str, Prediction] = {}
    worker = threading.Thread(target=lambda: results.update(all=predictor.predict_image(photo, conf=0.001)))
    worker.start()
    worker.join(timeout=120)
    everything = results["all"]
    assert (everything.image, everything.width, everything.height) == (str(photo), 96, 96)
    threshold = 0.005  # between the tiny model's strongest candidates and the rest
    direct = predictor.predict_image(photo, conf=threshold).detections
    assert direct, "some detection above the threshold"
    assert len(everything.detections) > len(direct)
    assert everything.above(threshold) == direct == above(everything.detections, threshold)


def test_draw_overlay_returns_rgb_in_class_colours_and_leaves_the_image_alone(card_models):
    model = card_models("obb")
    predictor = Predictor(resolve_model(model.package))
    photo = sorted((model.data.parent / "images" / "val").iterdir())[0]
    prediction = predictor.predict_image(photo, conf=0.001)
    rgb = cv2.cvtColor(cv2.imread(str(photo)), cv2.COLOR_BGR2RGB)
    original = rgb.copy()
    drawn = draw_overlay(rgb, prediction.detections)
    assert np.array_equal(rgb, original)
    assert drawn.shape == rgb.shape and drawn.dtype == np.uint8
    ids = {d.class_id for d in prediction.detections}
    for class_id in ids:  # the label tabs are filled with the class colour, in RGB order
        colour = np.array(class_colour(class_id), np.uint8)
        assert (drawn == colour).all(axis=2).sum() > 20
        assert not (drawn == colour[::-1]).all(axis=2).any()
    nothing = draw_overlay(rgb, prediction.detections, conf=1.0)  # the slider above every detection
    assert np.array_equal(nothing, rgb)
    big = draw_overlay(photo, prediction.detections, min_side=480)  # a file works too, enlarged 5x
    assert big.shape == (480, 480, 3)
