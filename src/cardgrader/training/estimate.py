"""How long a planned training run should take on this computer, judged from the runs it finished.

A run costs a fixed part (starting the trainer, the final validation, writing the model package) plus,
for every epoch, the images it trains on (and, at a third of the cost, those it validates on) times the
work per image. The work per image grows with the pixels, (imgsz/640)², and with the model (its
compute relative to yolo11n), on top of a fixed share for reading and augmenting each photo. Finished
runs on the same kind of device give the seconds per unit of work; runs with the same model and image
size are preferred when there are any. Without any finished run, a rough figure per device kind stands
in, and says so.

Plain functions and dataclasses: the GUI reads the run folders on a worker thread and keeps the result.
"""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import yaml

from cardgrader.training.config import TrainingConfig

REFERENCE_IMGSZ = 640
VAL_COST = 1 / 3  # validating an image is a forward pass, training one a forward and a backward pass
PER_PHOTO_SHARE = 0.02  # decoding and augmenting a photo, as a share of a 640-px yolo11n image step
# Training compute relative to yolo11n (Ultralytics' GFLOPs at 640 px: 6.5, 21.5, 68.0, 86.9, 194.9).
SIZE_WORK = {"n": 1.0, "s": 3.3, "m": 10.5, "l": 13.4, "x": 30.0}
ARCH_WORK = {"detect": 1.0, "segment": 1.6, "obb": 1.05}
FAMILY_WORK = {"yolo11": 1.0, "yolov8": 1.3, "yolo26": 0.85}
# Without history: seconds per unit of work, and the fixed part of a run. The CPU's are measured on a
# 2-core CPU (yolo11n, 80 sample cards, 3-60 epochs at 160-640 px: 0.35-0.54 s per unit, 7-12 s per run);
# the GPUs' are guesses for a mid-range card, which is why every figure without history says "rough".
ROUGH_SECONDS_PER_WORK = {"cpu": 0.35, "cuda": 0.01, "mps": 0.05}
ROUGH_RUN_SECONDS = {"cpu": 10.0, "cuda": 20.0, "mps": 15.0}
RECENT_RUNS = 5
DEVICE_WORDS = {"cpu": "the CPU", "cuda": "the GPU", "mps": "the Apple GPU"}
BANNER = re.compile(r"Ultralytics .*?\b(CPU|CUDA:\d+|MPS)\b")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


@dataclass(frozen=True)
class RunTiming:
    """What one finished run says about this computer's speed."""

    run: str
    device: str  # cpu | cuda | mps
    model: tuple[str, str, str, int]  # arch, family, size, imgsz
    train_images: int
    val_images: int
    epoch_seconds: float  # the median epoch
    run_seconds: float | None  # the part that is not epochs (None when the run was paused and resumed)
    seconds_per_work: float


@dataclass(frozen=True)
class Estimate:
    seconds: float
    basis: str  # "history" (from finished runs) or "rough" (no finished run on this kind of device)
    device: str
    runs: int = 0  # how many finished runs it is judged from

    def text(self) -> str:
        where = DEVICE_WORDS.get(self.device, self.device)
        if self.basis == "history":
            runs = "your last run" if self.runs == 1 else f"your last {self.runs} runs"
            return f"Expected: about {duration_words(self.seconds)} on this computer (from {runs} on {where})"
        return (f"Expected: roughly {duration_words(self.seconds)} on this computer (a rough figure: no run "
                f"has finished on {where} here yet)")


def duration_words(seconds: float) -> str:
    """`40 s`, `2 min`, `1 h 20 min`: as precise as an estimate deserves."""
    seconds = max(0.0, float(seconds))
    if seconds < 90:
        return f"{max(10, int(round(seconds / 10.0)) * 10)} s"
    minutes = int(round(seconds / 60.0))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(int(round(seconds / 600.0)) * 10, 60)
    return f"{hours} h {minutes:02d} min" if minutes else f"{hours} h"


def work_per_image(arch: str, family: str, size: str, imgsz: int) -> float:
    model = SIZE_WORK.get(size, 1.0) * ARCH_WORK.get(arch, 1.0) * FAMILY_WORK.get(family, 1.0)
    return PER_PHOTO_SHARE + model * (imgsz / REFERENCE_IMGSZ) ** 2


def epoch_work(arch: str, family: str, size: str, imgsz: int, train_images: int, val_images: int) -> float:
    return (train_images + VAL_COST * val_images) * work_per_image(arch, family, size, imgsz)


def device_kind(device: str, available: Sequence[str] = ()) -> str:
    """cpu, cuda or mps for a config's device; `auto` is the first GPU among `available`, else the CPU."""
    device = (device or "auto").strip()
    if device == "auto":
        if any(d.startswith("cuda") for d in available):
            return "cuda"
        return "mps" if "mps" in available else "cpu"
    if device == "cpu":
        return "cpu"
    if device == "mps":
        return "mps"
    return "cuda"  # cuda, cuda:N, or a GPU list such as 0,1


# ---- reading finished runs ----------------------------------------------------------------------------
def _scan_events(path: Path) -> tuple[str | None, int, list[float], float | None, float | None]:
    """The device from Ultralytics' banner, how often the run (re)started, its epoch seconds, and its
    first start and last finish times, from events.jsonl (only the lines that matter are parsed)."""
    device, starts, epochs, first, last = None, 0, {}, None, None
    try:
        handle = open(path, encoding="utf-8")
    except OSError:
        return None, 0, [], None, None
    with handle:
        for line in handle:
            if device is None and '"log"' in line and "Ultralytics" in line:
                found = BANNER.search(line)
                if found:
                    device = found.group(1).split(":")[0].lower()
            elif '"run_started"' in line or '"epoch"' in line or '"finished"' in line:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                kind = event.get("type")
                if kind == "run_started":
                    starts += 1
                    first = event.get("time") if first is None else first
                elif kind == "epoch" and isinstance(event.get("seconds"), (int, float)):
                    epochs[event.get("epoch")] = float(event["seconds"])
                elif kind == "finished":
                    last = event.get("time")
    return device, starts, list(epochs.values()), first, last


def _count_images(folder: Path) -> int:
    try:
        return sum(1 for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    except OSError:
        return 0


def _dataset_counts(run_dir: Path) -> tuple[int, int]:
    """Train and val image counts of the run's dataset.yaml (for runs whose package does not say)."""
    try:
        spec = yaml.safe_load((run_dir / "dataset.yaml").read_text(encoding="utf-8")) or {}
        root = Path(spec.get("path") or run_dir)
        return tuple(_count_images(root / str(spec.get(split) or "")) if spec.get(split) else 0
                     for split in ("train", "val"))
    except (OSError, yaml.YAMLError, AttributeError, TypeError):
        return 0, 0


def run_timing(run_dir: str | Path) -> RunTiming | None:
    """The timing of a finished run's folder, or None when it cannot tell (no epochs, no images)."""
    run_dir = Path(run_dir)
    try:
        values = yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8")) or {}
        config = TrainingConfig.from_dict(values, source=f"config of run {run_dir.name}")
    except Exception:  # noqa: BLE001 - a damaged run folder tells nothing about speed
        return None
    try:
        meta = json.loads((run_dir / "model" / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {}
    counts = (meta.get("dataset") or {}).get("counts") or {}
    train, val = int(counts.get("train") or 0), int(counts.get("val") or 0)
    if not train:
        train, val = _dataset_counts(run_dir)
    banner_device, starts, epoch_seconds, first, last = _scan_events(run_dir / "events.jsonl")
    device = banner_device or (device_kind(config.device) if config.device != "auto" else None)
    epoch_seconds = [s for s in epoch_seconds if s > 0]
    if not train or not epoch_seconds or device is None:
        return None
    median = statistics.median(epoch_seconds)
    rest = None
    if starts == 1 and first is not None and last is not None:  # a resumed run's clock includes the pause
        rest = max(0.0, (last - first) - sum(epoch_seconds))
    work = epoch_work(config.arch, config.family, config.size, config.imgsz, train, val)
    return RunTiming(run=run_dir.name, device=device, model=(config.arch, config.family, config.size, config.imgsz),
                     train_images=train, val_images=val, epoch_seconds=median, run_seconds=rest,
                     seconds_per_work=median / work)


def history(root: str | Path | None = None, limit: int = 20, cache: dict | None = None) -> list[RunTiming]:
    """Timings of the newest finished runs in the run store (newest first). Disk work: call it off the
    GUI's main thread. `cache` (run id → timing) spares re-reading runs that were read before."""
    from cardgrader.training.store import RunStore

    store = RunStore(Path(root) if root else None)
    out = []
    for record in store.list():
        if record.status != "finished":
            continue
        if cache is not None and record.id in cache:
            timing = cache[record.id]
        else:
            timing = run_timing(record.folder)
            if cache is not None:
                cache[record.id] = timing
        if timing is not None:
            out.append(timing)
        if len(out) >= limit:
            break
    return out


# ---- the estimate ---------------------------------------------------------------------------------------
def estimate(config: TrainingConfig, train_images: int, val_images: int = 0,
             timings: Iterable[RunTiming] = (), available_devices: Sequence[str] = ()) -> Estimate:
    """Seconds the planned run should take, from the timings of finished runs on the same kind of device."""
    kind = device_kind(config.device, available_devices)
    model = (config.arch, config.family, config.size, config.imgsz)
    same_device = [t for t in timings if t.device == kind]
    alike = [t for t in same_device if t.model == model] or same_device
    used = alike[:RECENT_RUNS]
    work = config.epochs * epoch_work(*model, max(0, train_images), max(0, val_images))
    if not used:
        seconds = ROUGH_RUN_SECONDS[kind] + ROUGH_SECONDS_PER_WORK[kind] * work
        return Estimate(seconds=seconds, basis="rough", device=kind)
    rate = statistics.median(t.seconds_per_work for t in used)
    rests = [t.run_seconds for t in used if t.run_seconds is not None]
    rest = statistics.median(rests) if rests else ROUGH_RUN_SECONDS[kind]
    return Estimate(seconds=rest + rate * work, basis="history", device=kind, runs=len(used))
