"""`cardgrader doctor [--json]`: what this machine offers the app, and what is missing."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
from importlib import metadata

from cardgrader import __version__, paths
from cardgrader.commands.common import print_json


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("doctor", parents=[common], help="check Python, torch, devices, Tk/tkdnd, display, folders, offline mode")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run_doctor)


def _check(name: str, ok: bool, detail: str, required: bool = True, **extra) -> dict:
    return {"name": name, "ok": ok, "required": required, "detail": detail, **extra}


def _torch_checks() -> list[dict]:
    try:
        import torch
        import torchvision  # noqa: F401
        from torchvision import ops  # noqa: F401  (fails when torch and torchvision builds do not match)
    except Exception as exc:  # noqa: BLE001
        return [_check("torch", False, f"torch/torchvision cannot be used: {type(exc).__name__}: {exc}")]
    devices = [{"device": "cpu", "name": platform.processor() or platform.machine(), "threads": torch.get_num_threads()}]
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            devices.append({"device": f"cuda:{i}", "name": props.name, "memory_gib": round(props.total_memory / 2**30, 1)})
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append({"device": "mps", "name": "Apple GPU"})
    names = ", ".join(d["device"] for d in devices)
    return [
        _check("torch", True, f"torch {torch.__version__}, torchvision {metadata.version('torchvision')}"),
        _check("devices", True, names, devices=devices),
    ]


def _writable(folder) -> tuple[bool, str]:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
        return True, str(folder)
    except OSError as exc:
        return False, f"{folder}: {exc.strerror or exc}"


def collect() -> list[dict]:
    checks = [
        _check("cardgrader", True, __version__),
        _check("python", sys.version_info >= (3, 10), f"{platform.python_version()} ({sys.executable})"),
    ]
    checks += _torch_checks()
    try:
        checks.append(_check("ultralytics", True, metadata.version("ultralytics")))
    except metadata.PackageNotFoundError:
        checks.append(_check("ultralytics", False, "not installed"))
    from cardgrader.gui.probe import tk_status

    tk = tk_status()
    checks.append(_check("tk", tk["tk_ok"], tk["tk_detail"]))
    checks.append(_check("tkdnd", tk["tkdnd_ok"], tk["tkdnd_detail"], required=False))
    checks.append(_check("display", tk["display_ok"], tk["display_detail"], required=False))
    for label, folder in (("data dir", paths.home()), ("runs dir", paths.runs_dir()),
                          ("ultralytics settings dir", paths.ultralytics_config_dir())):
        ok, detail = _writable(folder)
        checks.append(_check(f"writable {label}", ok, detail))
    disk = shutil.disk_usage(paths.home())
    checks.append(_check("disk", disk.free > 2**30, f"{disk.free / 2**30:.1f} GiB free in {paths.home()}"))
    try:
        import psutil

        mem = psutil.virtual_memory()
        checks.append(_check("memory", mem.available > 2**30, f"{mem.available / 2**30:.1f} GiB available of {mem.total / 2**30:.1f} GiB"))
    except ImportError:
        pass
    from cardgrader.yolo_runtime import find_official_weights

    local = [n for n in ("yolo11n.pt", "yolo11n-seg.pt", "yolo11n-obb.pt", "yolov8n.pt") if find_official_weights(n)]
    checks.append(_check(
        "offline mode", True,
        "training never downloads (YOLO_OFFLINE is set for every run; fonts are local); "
        f"pretrained weights here: {', '.join(local) or 'none'} (put .pt files in {paths.weights_dir()})",
        yolo_offline=True, home_override=bool(os.environ.get("CARDGRADER_HOME")),
    ))
    return checks


def run_doctor(args: argparse.Namespace) -> int:
    checks = collect()
    ok = all(c["ok"] for c in checks if c["required"])
    if args.json:
        print_json({"ok": ok, "checks": checks})
    else:
        for c in checks:
            mark = "ok  " if c["ok"] else ("FAIL" if c["required"] else "warn")
            print(f"[{mark}] {c['name']:<26} {c['detail']}")
        print("All required checks passed." if ok else "Some required checks failed; see above.")
    return 0 if ok else 1
