"""Before a run starts: is there disk for its checkpoints and memory for training? Figures in the message.

GPU memory is checked in the training process itself (it is the one that imports torch), with the
estimate `gpu_need_bytes` computed here.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from cardgrader.training.config import TrainingConfig

GIB = 1 << 30
MIB = 1 << 20
# Approximate parameters (millions) per model size; checkpoints keep fp16 weights, EMA and optimizer state.
PARAMS_M = {"n": 2.7, "s": 9.5, "m": 20.5, "l": 25.5, "x": 57.0}
CHECKPOINT_BYTES_PER_PARAM = 8
CHECKPOINT_COPIES = 4  # last.pt, last.safe.pt, best.pt and the model package's copy
PROCESS_BASE_RAM = int(1.5 * GIB)  # a Python process with torch and Ultralytics imported


@dataclass
class ResourceReport:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)


def disk_need_bytes(config: TrainingConfig) -> int:
    checkpoint = PARAMS_M[config.size] * 1e6 * CHECKPOINT_BYTES_PER_PARAM
    return int(checkpoint * CHECKPOINT_COPIES + 300 * MIB)


def ram_need_bytes(config: TrainingConfig) -> int:
    batch = config.batch if config.batch > 0 else 16
    activations = batch * (config.imgsz / 640) ** 2 * 0.35 * GIB * (PARAMS_M[config.size] / PARAMS_M["n"]) ** 0.5
    on_cpu = config.device in ("cpu", "auto")
    return int(PROCESS_BASE_RAM + (activations if on_cpu else 0.5 * GIB))


def gpu_need_bytes(config: TrainingConfig) -> int:
    batch = config.batch if config.batch > 0 else 16
    scale = (PARAMS_M[config.size] / PARAMS_M["n"]) ** 0.5
    return int(0.5 * GIB + batch * (config.imgsz / 640) ** 2 * 0.25 * GIB * scale)


def check(config: TrainingConfig, where: Path) -> ResourceReport:
    """Errors refuse the start; warnings are shown and the run goes ahead."""
    import psutil

    report = ResourceReport()
    free_disk = shutil.disk_usage(where).free
    need_disk = disk_need_bytes(config)
    report.figures.update(free_disk_gib=free_disk / GIB, need_disk_gib=need_disk / GIB)
    if free_disk < need_disk:
        report.errors.append(
            f"Only {free_disk / GIB:.2f} GiB of disk is free in {where}; this run needs about "
            f"{need_disk / GIB:.2f} GiB for its checkpoints. Free some space or delete old runs."
        )
    elif free_disk < 3 * need_disk:
        report.warnings.append(f"Disk is nearly full: {free_disk / GIB:.2f} GiB free in {where}.")

    available = psutil.virtual_memory().available
    need_ram = ram_need_bytes(config)
    report.figures.update(free_ram_gib=available / GIB, need_ram_gib=need_ram / GIB)
    if available < min(need_ram, 2 * GIB) * 0.5:
        report.errors.append(
            f"Only {available / GIB:.1f} GiB of memory is available; training needs about {need_ram / GIB:.1f} GiB. "
            "Close other programs or lower the batch size or image size."
        )
    elif available < need_ram:
        report.warnings.append(
            f"Memory is tight: {available / GIB:.1f} GiB available, the run needs about {need_ram / GIB:.1f} GiB "
            f"(batch {config.batch}, image size {config.imgsz}); it may slow down or fail."
        )
    return report
