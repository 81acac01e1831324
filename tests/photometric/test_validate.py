"""`ps validate`: a surface model trained by the engine, checked against photometric stereo; which models
it accepts (border, corners and edges models are checked in test_validate_border/_corners)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import pytest

from cardgrader.cli import main
from cardgrader.errors import ConfigError
from cardgrader.photometric import synthetic
from cardgrader.photometric.validate import validate
from tests.conftest import tree_digest
from tests.photometric.surface_model import trained_surface_model


@pytest.fixture
def capture_dir(tmp_path):
    card = synthetic.card(128, 96, dents=2, scratches=1, seed=8)
    capture = synthetic.render(card.height, card.normals, card.mask, synthetic.ring_lights(6, 30, 10),
                               albedo=card.albedo, noise=0.004)
    return synthetic.write_capture(tmp_path / "capture", capture)


def test_validate_end_to_end_writes_json_and_overlay_under_the_run_never_into_the_capture(surface_model, capture_dir, capsys):
    before = tree_digest(capture_dir)
    assert main(["ps", "validate", str(surface_model.package), str(capture_dir), "--json", "--conf", "0.01"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert tree_digest(capture_dir) == before
    assert report["model"]["classes"] == ["scratch", "dent", "crease"] and report["model"]["run"] == surface_model.run_id
    assert report["kind"] == "surface" and report["evidence"] == "defect regions"
    assert report["ps_regions"] == 3 and report["model_input"] == "albedo"
    assert set(report["definitions"]) == {"precision", "recall", "overlap"} and "IoU >= 0.2" in report["definitions"]["overlap"]
    assert len(report["pairs"]) <= min(report["supported_detections"], report["found_regions"])
    assert len(report["missed_regions"]) == report["ps_regions"] - report["found_regions"]
    assert len(report["unsupported_detections"]) == report["detections"] - report["supported_detections"]
    assert report["recall"] == pytest.approx(report["found_regions"] / 3, abs=1e-3)
    out = Path(report["outputs"]["report"]).parent
    assert out.parent == surface_model.package.parent / "validations"
    assert json.loads(Path(report["outputs"]["report"]).read_text())["ps_regions"] == 3
    assert cv2.imread(report["outputs"]["overlay"]).shape == (640, 480, 3)  # 5x, so labels stay readable


def test_validate_by_run_id_on_a_lit_image_prints_where_it_wrote(surface_model, capture_dir, capsys, monkeypatch):
    monkeypatch.setenv("CARDGRADER_HOME", str(surface_model.home))
    assert main(["ps", "validate", surface_model.run_id, str(capture_dir), "--image", "light_00.png"]) == 0
    text = capsys.readouterr().out
    assert "photometric stereo found 3 defect regions" in text
    assert "Report: " in text and "Overlay: " in text and str(surface_model.home) in text


def test_a_bare_weights_file_validates_into_the_data_dir(surface_model, capture_dir, home):
    result = validate(surface_model.package / "best.pt", capture_dir, image="shaded")
    assert result.folder.parent == home / "validations"
    assert result.json_path.is_file() and result.overlay_path.is_file()
    assert result.report["model"]["classes"] == ["scratch", "dent", "crease"]


@pytest.mark.parametrize("task, classes, message", [
    ("border", ["inner_border"], "detects only the inner border; photometric stereo sees the card's cut edge"),
    (None, ["logo", "hologram"], "none of these is a surface defect, border, corner or edge class"),
    (None, ["dent", "corner_worn"], "classes of several tasks (surface, corners)"),
    ("corners", ["dent"], "is a corners model but detects dent, none of the corners classes"),
])
def test_a_model_photometric_stereo_cannot_check_is_refused_in_a_sentence(surface_model, capture_dir, tmp_path,
                                                                         capsys, task, classes, message):
    other = tmp_path / "other-model"
    shutil.copytree(surface_model.package, other)
    meta = json.loads((other / "metadata.json").read_text())
    meta.update(task=task, classes=classes)
    (other / "metadata.json").write_text(json.dumps(meta))
    assert main(["ps", "validate", str(other), str(capture_dir)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_border_model_on_a_card_that_fills_the_frame_says_why_nothing_is_assessed(surface_model, capture_dir,
                                                                                   tmp_path, capsys):
    """The model's kind comes from its package: named a border model, it is checked as one; this capture
    shows no table around the card, so there is no outline and nothing is counted."""
    border = tmp_path / "border-model"
    shutil.copytree(surface_model.package, border)
    meta = json.loads((border / "metadata.json").read_text())
    meta.update(task="border", classes=["outer_border", "inner_border", "dent"])
    (border / "metadata.json").write_text(json.dumps(meta))
    assert main(["ps", "validate", str(border), str(capture_dir), "--json", "--conf", "0.001"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["kind"] == "border" and report["outline"] is None and report["ps_regions"] == 0
    assert (report["precision"], report["recall"], report["detections"]) == (None, None, 0)
    assert "no closed card edge" in report["outline_note"] and "no card outline" in report["not_assessed"]["reason"]


def test_unknown_models_and_pictures_are_named(surface_model, capture_dir, capsys):
    assert main(["ps", "validate", "no-such-run", str(capture_dir)]) == 2
    assert "No model, run, model package or weights file matches 'no-such-run'" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="albedo, shaded or one of the capture's images"):
        validate(surface_model.package, capture_dir, image="nope.png")


@pytest.mark.slow
def test_a_better_trained_model_agrees_with_photometric_stereo(tmp_path_factory, tmp_path):
    """Trained longer on more generated photos (about 5 minutes on 2 CPU cores), the model finds most
    defects PS finds under raking light, and PS backs a fair share of what it reports."""
    model = trained_surface_model(tmp_path_factory, epochs=60, count=120, size=160, batch=16)
    found = supported = regions = detections = 0
    for seed in range(4):
        card = synthetic.card(160, 160, dents=2, scratches=2, seed=100 + seed)
        capture = synthetic.render(card.height, card.normals, card.mask, synthetic.ring_lights(8, 30, 10),
                                   albedo=card.albedo, noise=0.005, seed=seed)
        folder = synthetic.write_capture(tmp_path / f"capture{seed}", capture)
        report = validate(model.package, folder, image="light_00.png").report
        found += report["found_regions"]
        supported += report["supported_detections"]
        regions += report["ps_regions"]
        detections += report["detections"]
    assert found / regions >= 0.5 and supported / max(detections, 1) >= 0.5


def test_without_a_model_named_the_active_surface_model_is_used(surface_model, capture_dir, capsys, monkeypatch):
    assert main(["ps", "validate", str(capture_dir)]) == 2  # a fresh data folder has no surface model
    assert "No surface model is active" in capsys.readouterr().err
    monkeypatch.setenv("CARDGRADER_HOME", str(surface_model.home))
    assert main(["ps", "validate", str(capture_dir), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["model"]["run"] == surface_model.run_id
