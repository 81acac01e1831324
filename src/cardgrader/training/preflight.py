"""Checks that need torch, run before a run is created: does the asked-for device exist, and is every
weights file a plain checkpoint (see `safe_weights`)?

The engine's process never imports torch (it would cost the window a second and a few hundred MB), so
these run in a short child process, started the same way as the training child, and only when a run
names a GPU or a weights file. A refusal is a ConfigError: exit 2, and no run is created.
"""

from __future__ import annotations

import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from cardgrader.errors import ConfigError
from cardgrader.training.safe_weights import UnsafeWeightsError, check_weights_file

PREFLIGHT_TIMEOUT = 180.0


def needs_device_check(device: str) -> bool:
    return device not in ("auto", "cpu")


def devices_here() -> list[dict]:
    """The devices torch can use in this process: cpu, then cuda:N (with names), then mps."""
    import torch

    found = [{"device": "cpu", "name": "CPU"}]
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            found.append({"device": f"cuda:{index}", "name": torch.cuda.get_device_name(index)})
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append({"device": "mps", "name": "Apple GPU"})
    return found


def _probe(weights: list[str], want_devices: bool) -> dict:
    """In the child: plain data back (messages, not exceptions, cross the process boundary)."""
    result: dict = {"weights_error": None, "devices": None}
    for path in weights:
        try:
            check_weights_file(path)
        except UnsafeWeightsError as exc:
            result["weights_error"] = str(exc)
            break
    if want_devices:
        result["devices"] = devices_here()
    return result


def missing_device(device: str, devices: list[dict]) -> str | None:
    """A sentence when `device` (a config's device field) names hardware this computer lacks."""
    have = {d["device"] for d in devices}
    gpus = sorted(d for d in have if d.startswith("cuda:"))
    if device == "mps":
        wanted = ["mps"]
    elif device == "cuda":
        wanted = ["cuda:0"]
    elif device.startswith("cuda:"):
        wanted = [device]
    elif re.fullmatch(r"\d+(,\d+)*", device):
        wanted = [f"cuda:{i}" for i in device.split(",")]
    else:
        return None
    absent = [w for w in wanted if w not in have]
    if not absent:
        return None
    listing = ", ".join(f"{d['device']} ({d['name']})" if d["device"] != "cpu" else "cpu" for d in devices)
    what = "GPU" if not gpus and device != "mps" else "device"
    return (f"Config field 'device': {', '.join(absent)} does not exist on this computer (no such {what}); "
            f"the devices here are: {listing}. Use --device auto or one of those.")


def run(weights: list[Path | str], device: str) -> None:
    """Raise ConfigError if a weights file is refused or the device does not exist; no-op when there is
    nothing to check."""
    weights = [str(w) for w in weights if w]
    want_devices = needs_device_check(device)
    if not weights and not want_devices:
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        result = pool.submit(_probe, weights, want_devices).result(timeout=PREFLIGHT_TIMEOUT)
    if result["weights_error"]:
        raise ConfigError(result["weights_error"], field="weights")
    if result["devices"] is not None:
        problem = missing_device(device, result["devices"])
        if problem:
            raise ConfigError(problem, field="device")
