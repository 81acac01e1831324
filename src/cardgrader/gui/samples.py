"""Sample cards the app draws for a grader with no data at hand: written once into the app's data dir
(`samples/<name>/`, never a folder of the user's), reused by later sessions."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from cardgrader import paths

# What "Try with sample cards" trains: on a CPU this preset learns the 80 cards in a few minutes.
FIRST_MODEL_PRESET = "first-model"


@dataclass(frozen=True)
class SampleSet:
    name: str
    count: int
    seed: int
    size: tuple[int, int]  # photo width, height

    @property
    def folder(self) -> Path:
        return paths.home() / "samples" / self.name


FIRST_MODEL = SampleSet("first-model-cards", count=80, seed=0, size=(480, 640))  # as `data sample --count 80`
DEMO = SampleSet("demo-cards", count=32, seed=11, size=(240, 320))  # the demo's tiny measuring run


def complete(sample: SampleSet) -> bool:
    """True when the folder holds the whole set (truth.json is written last, after every photo)."""
    try:
        truths = json.loads((sample.folder / "truth.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(truths, list) and len(truths) == sample.count


def ensure(sample: SampleSet, report=None, cancel=None) -> Path:
    """The set's folder, drawn first if it is missing or unfinished (`report(fraction, text)` as it goes)."""
    from cardgrader.data.sample import generate

    folder = sample.folder
    if complete(sample):
        return folder
    shutil.rmtree(folder, ignore_errors=True)  # an unfinished set of ours: start it again
    if report:
        report(0.0, f"Drawing {sample.count} sample cards…")
    progress = (lambda done, total, _msg: report(done / max(total, 1), f"Drawing sample cards ({done}/{total})")) \
        if report else None
    generate(folder, count=sample.count, seed=sample.seed, side="both", size=sample.size, progress=progress,
             cancel=cancel)
    return folder
