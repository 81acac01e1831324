"""TrainingConfig: every bad value names its field; derived classes; real Ultralytics arguments."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from cardgrader.errors import ConfigError
from cardgrader.training.config import AUGMENT_ARGS, TrainingConfig

BAD_VALUES = [
    ("arch", "yolo", "detect, segment, obb"),
    ("family", "yolov5", "yolo11, yolov8"),
    ("size", "xl", "n, s, m, l, x"),
    ("task", "grading", "border, corners"),
    ("side", "top", "front, back, both"),
    ("border", "middle", "outer, inner, dual"),
    ("classes", ["outer_border", "outer_border"], "unique"),
    ("classes", ["bad name!"], "letters"),
    ("weights", "model.onnx", "scratch, a .pt file"),
    ("weights", "/nowhere/model.pt", "does not exist"),
    ("weights", "yolo11n-seg.pt", "different architecture"),
    ("epochs", 0, "from 1 to 10000"),
    ("epochs", "many", "whole number"),
    ("batch", 0, "from 1 to 4096"),
    ("imgsz", 100, "multiple of 32"),
    ("imgsz", 8, "from 32 to 4096"),
    ("lr0", 0, "greater than 0"),
    ("lr0", "fast", "greater than 0"),
    ("optimizer", "adam", "SGD"),
    ("patience", -1, "from 0"),
    ("freeze_backbone", "yes", "true or false"),
    ("augment", "extreme", "light, medium, heavy"),
    ("device", "gpu", "auto, cpu"),
    ("workers", 100, "from 0 to 64"),
    ("seed", -5, "from 0"),
    ("plots", 1, "true or false"),
    ("download_weights", "no", "true or false"),
]


@pytest.mark.parametrize("field,value,allowed", BAD_VALUES)
def test_every_bad_field_is_named_with_its_allowed_values(field, value, allowed):
    with pytest.raises(ConfigError) as err:
        TrainingConfig.from_dict({field: value})
    assert err.value.field == field
    assert f"'{field}'" in str(err.value)
    assert allowed in str(err.value)


def test_unknown_field_is_refused_with_the_allowed_list():
    with pytest.raises(ConfigError, match="Unknown field 'epoch'.*epochs"):
        TrainingConfig.from_dict({"epoch": 3})


def test_centering_needs_both_borders():
    with pytest.raises(ConfigError, match="dual"):
        TrainingConfig.from_dict({"task": "centering", "border": "outer"})


@pytest.mark.parametrize("border,classes", [
    ("outer", ["outer_border"]), ("inner", ["inner_border"]), ("dual", ["outer_border", "inner_border"]),
])
def test_border_classes_are_derived_from_border_type(border, classes):
    assert TrainingConfig.from_dict({"task": "border", "border": border}).class_names == classes


def test_classes_are_editable_one_or_two():
    config = TrainingConfig.from_dict({"task": "border", "border": "dual", "classes": ["card_edge"]})
    assert config.class_names == ["card_edge"]
    assert TrainingConfig.from_dict({"task": "surface"}).class_names == ["scratch", "dent", "crease"]


def test_strings_from_the_command_line_are_coerced():
    config = TrainingConfig.from_dict({"epochs": "5", "imgsz": "320", "lr0": "0.02"})
    assert (config.epochs, config.imgsz, config.lr0) == (5, 320, 0.02)


def test_augmentation_strengths_map_to_real_ultralytics_arguments():
    from ultralytics.cfg import DEFAULT_CFG_DICT

    for strength, args in AUGMENT_ARGS.items():
        assert set(args) <= set(DEFAULT_CFG_DICT), strength
    light, heavy = AUGMENT_ARGS["light"], AUGMENT_ARGS["heavy"]
    assert heavy["degrees"] > light["degrees"] and heavy["scale"] > light["scale"]
    args = TrainingConfig(augment="heavy", arch="segment").ultralytics_args("d.yaml", "/tmp/runs/x")
    assert args["degrees"] == heavy["degrees"] and args["copy_paste"] > 0
    assert set(args) - {"copy_paste"} <= set(DEFAULT_CFG_DICT)


@pytest.mark.parametrize("family", ["yolo11", "yolov8", "yolo26"])
@pytest.mark.parametrize("arch", ["detect", "segment", "obb"])
def test_every_family_and_architecture_names_a_real_model_definition(family, arch):
    from ultralytics.nn.tasks import guess_model_task, yaml_model_load

    config = TrainingConfig(family=family, arch=arch, size="s")
    spec = yaml_model_load(config.model_yaml)
    assert spec["scale"] == "s"
    assert guess_model_task(spec) == arch


@pytest.mark.parametrize("device,expected", [("auto", None), ("cpu", "cpu"), ("cuda:1", "1"), ("0,1", "0,1"), ("cuda", "0")])
def test_devices_map_to_ultralytics(device, expected):
    assert TrainingConfig(device=device).ultralytics_device() == expected


def test_freeze_and_weights_kinds(tmp_path):
    pt = tmp_path / "mine.pt"
    pt.write_bytes(b"x")
    assert TrainingConfig.from_dict({"weights": str(pt)}).weights_kind == "file"
    assert TrainingConfig.from_dict({"weights": "yolo11n.pt"}).weights_kind == "official"
    assert TrainingConfig().weights_kind == "scratch"


@pytest.mark.parametrize("field,value", [(f, v) for f, v, _ in BAD_VALUES if f not in ("weights",)][:12])
def test_cli_exits_2_naming_the_bad_field(tmp_path, field, value):
    config = tmp_path / "bad.yaml"
    config.write_text(yaml.safe_dump({"data": str(tmp_path), field: value}), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "cardgrader", "train", "--config", str(config)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert f"'{field}'" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_rejects_a_bad_override_and_a_broken_config_file(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("epochs: [1\n", encoding="utf-8")
    cases = [
        (["train", "--preset", "quick-test", "--imgsz", "100", "--data", str(tmp_path)], "imgsz"),
        (["train", "--config", str(broken)], "not valid YAML"),
        (["train", "--config", str(tmp_path / "missing.yaml")], "does not exist"),
        (["train", "--preset", "no-such-preset"], "no preset named"),
    ]
    for argv, needle in cases:
        result = subprocess.run([sys.executable, "-m", "cardgrader", *argv], capture_output=True, text=True, timeout=60)
        assert result.returncode == 2, (argv, result.stderr)
        assert needle in result.stderr and "Traceback" not in result.stderr
