"""A `.pt` is a pickle: booby-trapped files are refused at every way in, and their payload never runs."""

from __future__ import annotations

import builtins
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cardgrader.errors import ConfigError
from cardgrader.training.safe_weights import UnsafeWeightsError, check_weights_file
from tests.photometric.surface_model import trained_surface_model

CLI = [sys.executable, "-m", "cardgrader"]


def cli(*args, timeout=300, env=None):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env)


class _System:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


class _Exec:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (builtins.exec, (f"open({self.marker!r}, 'w').write('ran')",))


class _CallsModelClass:
    """Calls an allowed class instead of rebuilding it: its constructor would parse a model description."""

    def __reduce__(self):
        from ultralytics.nn.tasks import DetectionModel

        return (DetectionModel, ({"nc": 1, "backbone": [[-1, 1, "check_requirements", ["evil"]]], "head": []},))


class _Unknown:
    pass


def _traps(folder: Path, marker: Path) -> dict[str, Path]:
    import torch
    import types

    folder.mkdir(parents=True, exist_ok=True)
    module = types.ModuleType("evil_module_for_tests")
    _Unknown.__module__, _Unknown.__qualname__ = module.__name__, "Payload"
    module.Payload = _Unknown
    sys.modules[module.__name__] = module
    files = {}
    for name, payload in (("system", _System(marker)), ("exec", _Exec(marker)), ("unknown", _Unknown()),
                          ("calls-model-class", _CallsModelClass())):
        files[name] = folder / f"{name}.pt"
        torch.save({"model": payload, "epoch": 1}, files[name])
    del sys.modules[module.__name__]
    return files


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return trained_surface_model(tmp_path_factory)


@pytest.fixture
def traps(tmp_path, model):
    marker = tmp_path / "PAYLOAD-RAN"
    files = _traps(tmp_path / "traps", marker)
    real = (model.package / "best.pt").read_bytes()
    files["truncated"] = tmp_path / "traps" / "truncated.pt"
    files["truncated"].write_bytes(real[: len(real) // 2])
    yield files, marker
    assert not marker.exists(), "a booby-trapped weights file ran its payload"


def test_the_engines_own_checkpoints_and_an_official_format_model_pass(model, tmp_path):
    check_weights_file(model.package / "best.pt")
    check_weights_file(model.home / "runs" / model.run_id / "weights" / "last.pt")
    from cardgrader.yolo_runtime import configure_environment

    configure_environment()
    from ultralytics import YOLO

    official = tmp_path / "yolo11n-seg.pt"
    YOLO("yolo11n-seg.yaml").save(official)  # Ultralytics' own published checkpoint layout
    check_weights_file(official)


@pytest.mark.parametrize("kind,needle", [("system", "posix.system"), ("exec", "builtins.exec"),
                                         ("unknown", "evil_module_for_tests.Payload"),
                                         ("calls-model-class", "calls DetectionModel"),
                                         ("truncated", "damaged")])
def test_booby_trapped_files_are_refused_by_name_without_running(traps, kind, needle):
    files, _marker = traps
    with pytest.raises(UnsafeWeightsError) as caught:
        check_weights_file(files[kind])
    assert str(files[kind]) in str(caught.value) and needle in str(caught.value)
    assert isinstance(caught.value, ConfigError) and caught.value.exit_code == 2


def test_loading_a_model_refuses_the_file_before_ultralytics_unpickles_it(traps):
    from cardgrader.models import resolve_model
    from cardgrader.models.predict import load_yolo

    files, _marker = traps
    for kind in ("system", "exec"):
        with pytest.raises(UnsafeWeightsError):
            resolve_model(files[kind])  # a bare .pt: the path ps validate, predict and export take
        with pytest.raises(UnsafeWeightsError):
            load_yolo(files[kind])


def test_train_with_trapped_weights_exits_2_and_creates_no_run(traps, card_dataset, home):
    files, _marker = traps
    data = card_dataset("detect", count=8, size=64)
    for kind in ("system", "exec"):
        result = cli("train", "--preset", "quick-test", "--data", data, "--imgsz", "64", "--weights", files[kind])
        assert result.returncode == 2, result.stderr
        assert "was refused" in result.stderr and str(files[kind]) in result.stderr
        assert "Traceback" not in result.stderr
    assert not [p for p in (home / "runs").glob("*") if p.is_dir()], "a run was created"


def test_an_official_name_resolved_from_the_weights_folder_is_checked(traps, card_dataset, home):
    files, _marker = traps
    (home / "weights").mkdir(exist_ok=True)
    shutil.copyfile(files["system"], home / "weights" / "yolo11n.pt")
    result = cli("train", "--preset", "quick-test", "--data", card_dataset("detect", count=8, size=64),
                 "--imgsz", "64", "--weights", "yolo11n.pt")
    assert result.returncode == 2, result.stderr
    assert "was refused" in result.stderr and "posix.system" in result.stderr


def test_ps_validate_refuses_a_trapped_model(traps, tmp_path):
    import cv2
    import numpy as np

    files, _marker = traps
    picture = tmp_path / "lit.png"
    cv2.imwrite(str(picture), np.full((64, 64), 128, np.uint8))
    result = cli("ps", "validate", files["exec"], picture)
    assert result.returncode == 2, result.stderr
    assert "builtins.exec" in result.stderr and "Traceback" not in result.stderr


def test_resume_refuses_a_checkpoint_swapped_for_a_trap(traps, card_dataset, home):
    files, _marker = traps
    data = card_dataset("detect", count=8, size=64)
    first = cli("train", "--preset", "quick-test", "--data", data, "--imgsz", "64", "--batch", "2", "--epochs", "1",
                "--name", "to-resume")
    assert first.returncode == 0, first.stderr
    run_dir = next(p for p in (home / "runs").iterdir() if p.is_dir())
    # a cancelled run: resumable, with its checkpoint replaced by someone else's file
    from cardgrader.training.store import RunStore

    store = RunStore()
    store.mark_running(run_dir.name)
    store.record_event(run_dir.name, {"type": "cancelled", "run": run_dir.name, "time": 0.0, "epoch": 0,
                                      "metrics": {}, "best": None})
    shutil.copyfile(files["system"], run_dir / "weights" / "last.pt")
    result = cli("runs", "resume", "to-resume")
    assert result.returncode == 2, result.stderr
    assert "posix.system" in result.stderr and "Traceback" not in result.stderr


def test_models_import_refuses_a_trapped_file(traps, home):
    files, _marker = traps
    result = cli("models", "import", files["system"], "--task", "border")
    assert result.returncode == 2, result.stderr
    assert "posix.system" in result.stderr and "Traceback" not in result.stderr
    assert not (home / "models" / "imported").exists() or not any((home / "models" / "imported").iterdir())


def test_predict_export_center_and_grade_refuse_a_trapped_model(traps, tmp_path, home):
    import cv2
    import numpy as np

    files, _marker = traps
    (tmp_path / "photos").mkdir()
    photo = tmp_path / "photos" / "card.png"
    cv2.imwrite(str(photo), np.full((96, 64, 3), 200, np.uint8))
    for argv in (["predict", files["system"], photo, "--out", tmp_path / "out"],
                 ["export", files["exec"], "--format", "onnx"],
                 ["center", files["system"], photo],
                 ["grade", "--front", photo, "--border", files["exec"], "--out", tmp_path / "reports"]):
        result = cli(*argv)
        assert result.returncode == 2, (argv, result.stderr)
        assert "was refused" in result.stderr and "Traceback" not in result.stderr, (argv, result.stderr)
