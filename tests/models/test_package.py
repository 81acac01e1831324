"""Finding a model from a run, a package folder or a weights file, and predicting with it."""

from __future__ import annotations

import os

import cv2
import numpy as np
import pytest

from cardgrader.errors import ConfigError, DataError
from cardgrader.models import resolve_model
from cardgrader.models.predict import Detection, Predictor, predict
from cardgrader.photometric.samples import surface_photo
from cardgrader.training.config import TrainingConfig
from cardgrader.training.store import RunStore


def check_surface_package(package):
    assert package.weights.is_file() and package.weights.suffix == ".pt"
    assert package.classes == ["scratch", "dent", "crease"]
    assert package.arch == "detect"


def test_every_way_of_naming_a_model_finds_the_same_package(surface_model, monkeypatch):
    monkeypatch.setenv("CARDGRADER_HOME", str(surface_model.home))
    record = RunStore().get(surface_model.run_id)
    refs = [surface_model.package, surface_model.package.parent, surface_model.package / "metadata.json",
            surface_model.run_id, surface_model.run_id[:17], record.name]
    for ref in refs:
        package = resolve_model(str(ref))
        check_surface_package(package)
        assert package.run_id == surface_model.run_id and package.task == "surface" and package.imgsz == 96
        assert package.folder == surface_model.package


def test_a_bare_weights_file_reads_its_classes_from_the_checkpoint(surface_model):
    package = resolve_model(surface_model.package / "best.pt")
    check_surface_package(package)
    assert package.run_id is None and package.folder is None
    assert os.environ.get("YOLO_OFFLINE") == "1"  # loading never tries the network


def test_what_is_not_a_model_is_named(tmp_path):
    with pytest.raises(ConfigError, match="No model, run, model package or weights file matches 'nothing-here'"):
        resolve_model("nothing-here")
    with pytest.raises(ConfigError, match="is not a model package"):
        resolve_model(tmp_path)
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(ConfigError, match="is not a model"):
        resolve_model(tmp_path / "notes.txt")
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ConfigError, match="broken.pt is damaged or not a PyTorch checkpoint"):
        resolve_model(tmp_path / "broken.pt")


def test_a_run_without_a_package_yet_says_so():
    record = RunStore().create(TrainingConfig(task="surface", name="half-done"))
    with pytest.raises(ConfigError, match="'half-done' .* has no model package yet \\(it is running\\)"):
        resolve_model("half-done")
    assert record.status == "running"


def test_predict_returns_plain_detections_for_paths_and_arrays(surface_model, tmp_path):
    package = resolve_model(surface_model.package)
    photo, _boxes = surface_photo(np.random.default_rng(0), 96)
    path = tmp_path / "photo.png"
    cv2.imwrite(str(path), photo)
    gray16 = (cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY).astype(np.uint16) * 257)
    results = predict(package, [path, photo, gray16], conf=0.001)
    assert len(results) == 3
    assert all(results), [len(r) for r in results]  # at conf 0.001 even a one-epoch model answers: checked below
    for detections in results:
        for d in detections:
            assert isinstance(d, Detection) and d.class_name in package.classes
            assert 0.001 <= d.confidence <= 1.0
            x0, y0, x1, y1 = d.box
            assert -1 <= x0 <= x1 <= 97 and -1 <= y0 <= y1 <= 97
            assert d.polygon is None and d.corners is None
            assert set(d.to_json()) == {"class_id", "class_name", "confidence", "box"}
    assert [len(r) for r in results[:2]] == [len(results[0])] * 2  # the same photo, as a file or an array


def test_predict_rejects_bad_arguments(surface_model, tmp_path):
    predictor = Predictor(resolve_model(surface_model.package))
    with pytest.raises(ConfigError, match="from 0 to 1"):
        predictor.predict([np.zeros((32, 32), np.uint8)], conf=1.5)
    with pytest.raises(DataError, match="does not exist"):
        predictor.predict([tmp_path / "missing.png"])
    assert predictor.predict([]) == []
