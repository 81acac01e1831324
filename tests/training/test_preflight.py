"""A device that does not exist is a configuration error found before a run is created."""

from __future__ import annotations

import subprocess
import sys

from cardgrader.training.preflight import missing_device

CPU_ONLY = [{"device": "cpu", "name": "CPU"}]
TWO_GPUS = CPU_ONLY + [{"device": "cuda:0", "name": "GPU A"}, {"device": "cuda:1", "name": "GPU B"}]


def test_missing_devices_are_named_with_the_ones_that_exist():
    problem = missing_device("cuda:7", TWO_GPUS)
    assert "cuda:7 does not exist" in problem and "cuda:0 (GPU A), cuda:1 (GPU B)" in problem
    assert missing_device("0,3", TWO_GPUS).startswith("Config field 'device': cuda:3 does not exist")
    assert "cuda:0" in missing_device("cuda", CPU_ONLY) and "no such GPU" in missing_device("cuda", CPU_ONLY)
    assert "mps" in missing_device("mps", CPU_ONLY)
    for fine in ("cuda:1", "0,1", "cuda", "cpu", "auto"):
        assert missing_device(fine, TWO_GPUS) is None, fine


def test_train_on_a_gpu_this_machine_lacks_exits_2_without_creating_a_run(card_dataset, home):
    import torch

    device = f"cuda:{torch.cuda.device_count() + 3}"
    data = card_dataset("detect", count=8, size=64)
    result = subprocess.run([sys.executable, "-m", "cardgrader", "train", "--preset", "quick-test", "--data", str(data),
                             "--device", device], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr
    assert f"{device} does not exist on this computer" in result.stderr and "cpu" in result.stderr
    assert "Traceback" not in result.stderr and "Invalid CUDA" not in result.stderr
    assert not [p for p in (home / "runs").glob("*") if p.is_dir()], "a run was created"
