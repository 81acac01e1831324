"""`cardgrader export`: offline, verified against the .pt with onnxruntime, recorded in the package."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from cardgrader.models import resolve_model
from cardgrader.models.export import IOU_TOLERANCE, export_model, verify
from cardgrader.models.predict import Predictor
from tests.conftest import tree_digest
from tests.models.trained_models import card_models  # noqa: F401 - a fixture

CLI = [sys.executable, "-m", "cardgrader"]
EXPORT_KEYS = {"format", "path", "verified", "max_box_iou_gap", "max_conf_gap"}


def cli(*args, env=None, timeout=300):
    import os

    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


@pytest.fixture(scope="session")
def detect_onnx(card_models):
    """The tiny detect model exported to ONNX once (beside its weights, as a user's export lands)."""
    package = resolve_model(card_models("detect").package)
    return export_model(package, "onnx").path


@pytest.mark.parametrize("arch", ["detect", "segment", "obb"])
def test_export_onnx_offline_is_verified_against_the_pt_and_recorded_in_the_package(arch, card_models, tmp_path):
    model = card_models(arch)
    audit = tmp_path / "network.log"
    result = cli("export", model.package, "--format", "onnx", "--json", env={"CARDGRADER_NETWORK_AUDIT": str(audit)})
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert set(printed) == EXPORT_KEYS
    assert printed["format"] == "onnx" and printed["verified"] is True
    assert 0 <= printed["max_box_iou_gap"] <= IOU_TOLERANCE and 0 <= printed["max_conf_gap"] <= 0.02
    path = Path(printed["path"])
    assert path == model.package / "best.onnx" and path.stat().st_size > 100_000
    assert not [p for p in model.package.iterdir() if p.name.startswith(".export-")]  # no staging left behind
    entry = [e for e in json.loads((model.package / "metadata.json").read_text())["exports"] if e["path"] == "best.onnx"]
    assert len(entry) == 1 and entry[0]["verified"] is True and entry[0]["images"] == 3
    assert entry[0]["source"] == "validation images of its run's dataset" and entry[0]["candidates"] >= 20
    if arch == "segment":
        assert entry[0]["max_mask_iou_gap"] is not None and entry[0]["max_mask_iou_gap"] <= IOU_TOLERANCE
    assert not audit.exists() or audit.read_text() == "", audit.read_text()  # nothing tried the network


def _tampered(source: Path, target: Path, pick) -> Path:
    model = onnx.load(str(source))
    weights = [i for i in model.graph.initializer if i.data_type == onnx.TensorProto.FLOAT and len(i.dims) == 4]
    chosen = pick(weights)
    chosen.CopyFrom(numpy_helper.from_array(-numpy_helper.to_array(chosen), chosen.name))
    onnx.save(model, str(target))
    return target


def test_a_corrupted_onnx_fails_the_check(card_models, detect_onnx, tmp_path):
    package = resolve_model(card_models("detect").package)
    good = verify(package, detect_onnx)
    assert good.verified and good.error is None and good.images == 3

    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(detect_onnx.read_bytes()[: detect_onnx.stat().st_size // 2])
    broken = verify(package, truncated)
    assert broken.verified is False and "onnxruntime cannot load truncated.onnx" in broken.error

    # A valid file with wrong numbers: the head's last convolution negated. (The tiny test model barely
    # looks at its input, so tampering with an early layer changes nothing it computes; the head it uses.)
    tampered = verify(package, _tampered(detect_onnx, tmp_path / "tampered.onnx", lambda ws: ws[-1]))
    assert tampered.verified is False and tampered.error is None
    assert tampered.max_box_iou_gap > IOU_TOLERANCE


def test_predict_accepts_the_exported_onnx_and_finds_what_the_pt_finds(card_models, detect_onnx, tmp_path):
    model = card_models("detect")
    photos = sorted((model.data.parent / "images" / "val").iterdir())
    # 0.005: above the tiny model's many near-identical weak candidates, whose ties NMS may break either way
    result = cli("predict", detect_onnx, *photos, "--out", tmp_path / "out", "--conf", 0.005, "--json")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    expected = Predictor(resolve_model(model.package)).predict(photos, conf=0.005)
    assert len(records) == len(photos) and all(expected)
    for record, detections in zip(records, expected):
        assert [d["class"] for d in record["detections"]] == [d.class_name for d in detections]
        for got, want in zip(record["detections"], detections):
            assert np.allclose(got["box"], want.box, atol=0.5) and abs(got["confidence"] - want.confidence) < 0.001
    other_size = cli("predict", detect_onnx, photos[0], "--out", tmp_path / "out2", "--imgsz", 128, "--json")
    assert other_size.returncode == 0, other_size.stderr  # exported with dynamic input sizes


def test_an_onnx_fixed_to_one_size_refuses_another_imgsz_in_one_sentence(card_models, tmp_path):
    from cardgrader.models.predict import load_yolo

    model = card_models("detect")
    weights = tmp_path / "fixed.pt"
    shutil.copyfile(model.package / "best.pt", weights)
    fixed = Path(load_yolo(weights).export(format="onnx", imgsz=96, dynamic=False))
    photo = sorted((model.data.parent / "images" / "val").iterdir())[0]
    assert cli("predict", fixed, photo, "--out", tmp_path / "ok", "--conf", 0.005).returncode == 0
    wrong_size = cli("predict", fixed, photo, "--out", tmp_path / "out", "--imgsz", 128)
    assert wrong_size.returncode == 2 and "Traceback" not in wrong_size.stderr
    assert "cardgrader: fixed.onnx was exported for 96 px images; --imgsz 128 needs another export" in wrong_size.stderr
    assert not (tmp_path / "out").exists()


def test_torchscript_exports_and_verifies(card_models):
    package = resolve_model(card_models("obb").package)
    result = export_model(package, "torchscript")
    assert result.path == package.folder / "best.torchscript" and result.path.is_file()
    assert result.verification.verified and result.verification.max_box_iou_gap <= IOU_TOLERANCE


def test_a_bare_pt_exports_into_the_app_folder_never_beside_the_users_file(card_models, tmp_path, home):
    user = tmp_path / "downloads"
    user.mkdir()
    shutil.copyfile(card_models("segment").package / "best.pt", user / "border.pt")
    before = tree_digest(user)
    result = cli("export", user / "border.pt", "--format", "onnx", "--json")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert (home / "exports") in Path(printed["path"]).parents and printed["verified"] is True
    assert tree_digest(user) == before
    chosen = cli("export", user / "border.pt", "--format", "onnx", "--out", tmp_path / "mine" / "b.onnx", "--json")
    assert chosen.returncode == 0 and json.loads(chosen.stdout)["path"] == str(tmp_path / "mine" / "b.onnx")


@pytest.mark.skipif(importlib.util.find_spec("openvino") is not None, reason="openvino is installed here")
def test_openvino_without_its_package_is_one_sentence_with_exit_2(card_models):
    result = cli("export", card_models("detect").package, "--format", "openvino")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "cardgrader: OpenVINO export needs the openvino package, which is not installed here, and cardgrader "
        "installs nothing at run time: install it (pip install \"openvino>=2024.0.0\") into cardgrader's "
        "environment, or export to onnx, which OpenVINO can also read."]
    for args, message in ((("nothing-here", "--format", "onnx"), "No model, run"),
                          ((card_models("detect").package, "--format", "tflite"), "--format must be one of")):
        bad = cli("export", *args)
        assert bad.returncode == 2 and message in bad.stderr and "Traceback" not in bad.stderr
