"""The event vocabulary: plain JSON-able dicts, one per line of a run's `events.jsonl`.

| type          | keys beyond type, run, time                                                   |
|---------------|-------------------------------------------------------------------------------|
| run_started   | config, epochs, resumed_from_epoch                                            |
| batch         | epoch (1-based), epochs, batch, batches, losses                               |
| epoch         | epoch, epochs, train_losses, val_losses, metrics, lr, seconds                 |
| checkpoint    | epoch, path                                                                   |
| log           | level, message                                                                |
| finished / failed / cancelled | metrics, best, error (failed), epoch reached                  |
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any, Iterable

RUN_STARTED = "run_started"
BATCH = "batch"
EPOCH = "epoch"
CHECKPOINT = "checkpoint"
LOG = "log"
FINISHED = "finished"
FAILED = "failed"
CANCELLED = "cancelled"

TYPES = (RUN_STARTED, BATCH, EPOCH, CHECKPOINT, LOG, FINISHED, FAILED, CANCELLED)
TERMINAL = (FINISHED, FAILED, CANCELLED)
METRIC_KEYS = ("precision", "recall", "mAP50", "mAP50_95")


def make(type_: str, run: str, **fields: Any) -> dict[str, Any]:
    """A new event stamped with the run id and the wall-clock time (seconds since the epoch)."""
    return {"type": type_, "run": run, "time": round(time.time(), 3), **fields}


def log(run: str, message: str, level: str = "info") -> dict[str, Any]:
    return make(LOG, run, level=level, message=message)


def dumps(event: dict[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=str)


def append(path: Path, events: Iterable[dict[str, Any]]) -> None:
    """Append events as JSON lines and flush them to the OS, so a crash keeps everything written."""
    text = "".join(dumps(e) + "\n" for e in events)
    if text:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)


def read(path: Path) -> list[dict[str, Any]]:
    """All events of a run; a half-written last line (the app was killed mid-write) is skipped."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(event, dict) and event.get("type") in TYPES:
            out.append(event)
    return out


def epoch_history(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One `epoch` event per epoch number, the latest kept, in epoch order: what a chart draws."""
    by_epoch: dict[int, dict[str, Any]] = {}
    for event in events:
        if event.get("type") == EPOCH:
            by_epoch[int(event["epoch"])] = event
    return [by_epoch[k] for k in sorted(by_epoch)]


def status_of(events: list[dict[str, Any]]) -> str | None:
    """finished / failed / cancelled from the last terminal event after the last start, else None."""
    for event in reversed(events):
        if event["type"] in TERMINAL:
            return event["type"]
        if event["type"] == RUN_STARTED:
            return None
    return None


def best_metric(events: Iterable[dict[str, Any]], key: str = "mAP50_95") -> float | None:
    values = [e["metrics"].get(key) for e in events if e.get("type") in (EPOCH, FINISHED) and e.get("metrics")]
    values = [v for v in values if isinstance(v, (int, float))]
    return max(values) if values else None


def finite(value) -> float | None:
    """A JSON-safe number: NaN and infinity (a diverging loss) become None."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return round(number, 6) if math.isfinite(number) else None


def float_items(values: dict, prefix: str) -> dict[str, float | None]:
    """Ultralytics' `prefix/name` entries as {name: float}, e.g. train/box_loss → box_loss."""
    return {key[len(prefix):]: finite(value) for key, value in values.items() if key.startswith(prefix)}


def metrics_from_ultralytics(values: dict, arch: str) -> dict[str, float]:
    """Ultralytics' metric keys → ours. Segmentation reports mask metrics, with box metrics as box_*."""
    primary = "M" if arch == "segment" else "B"
    names = {"precision": "precision", "recall": "recall", "mAP50": "mAP50", "mAP50_95": "mAP50-95"}
    out = {}
    for ours, theirs in names.items():
        value = values.get(f"metrics/{theirs}({primary})")
        if value is not None:
            out[ours] = finite(value)
    if arch == "segment":
        for ours, theirs in names.items():
            value = values.get(f"metrics/{theirs}(B)")
            if value is not None:
                out[f"box_{ours}"] = finite(value)
    return out
