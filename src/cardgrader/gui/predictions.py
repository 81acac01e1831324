"""What the Predict panel shows, without Tk: the photos of one prediction, every detection the model
made down to `FLOOR` confidence (plain `Detection`s), and the confidence the grader looks at.

The model runs once per set of photos; moving the confidence only filters what is already here."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cardgrader.models.predict import ALL_CONF, DEFAULT_CONF, Detection, above

FLOOR = ALL_CONF  # the confidence the model is run at: everything above it comes back once
__all__ = ["DEFAULT_CONF", "FLOOR", "PhotoPrediction", "PredictionSet"]


@dataclass
class PhotoPrediction:
    image: str
    width: int | None = None
    height: int | None = None
    detections: list[Detection] = field(default_factory=list)
    error: str | None = None

    @property
    def name(self) -> str:
        return Path(self.image).name

    def shown(self, conf: float) -> list[Detection]:
        return above(self.detections, conf)

    @classmethod
    def from_report(cls, report: dict[str, Any]) -> PhotoPrediction:
        """What the prediction job reports per photo: `{image, prediction}` or `{image, error}`."""
        found = report.get("prediction")
        if found is None:
            return cls(image=str(report["image"]), error=str(report.get("error") or "no result"))
        return cls(image=str(report["image"]), width=found.width, height=found.height,
                   detections=list(found.detections))


class PredictionSet:
    """One model run on some photos; results arrive one photo at a time."""

    def __init__(self, model: str, photos: list[str], conf: float = DEFAULT_CONF):
        self.model = model
        self.photos = list(photos)
        self.conf = conf
        self.results: dict[str, PhotoPrediction] = {}
        self.finished = False
        self.stopped = False

    def add(self, report: dict[str, Any]) -> PhotoPrediction:
        result = PhotoPrediction.from_report(report)
        self.results[result.image] = result
        return result

    def get(self, photo: str) -> PhotoPrediction | None:
        return self.results.get(photo)

    @property
    def done(self) -> int:
        return len(self.results)

    @property
    def failed(self) -> list[PhotoPrediction]:
        return [r for r in self.results.values() if r.error]

    def counts(self) -> tuple[int, int]:
        """Detections shown at the current confidence, and all that came back, over every photo."""
        shown = sum(len(r.shown(self.conf)) for r in self.results.values())
        return shown, sum(len(r.detections) for r in self.results.values())

    def summary(self) -> str:
        n = len(self.photos)
        shown, total = self.counts()
        text = (f"{self.done} of {n} photo{'s' if n != 1 else ''} · {shown} of {total} detections at confidence "
                f"≥ {self.conf:.2f}")
        failed = self.failed
        if failed:
            names = ", ".join(r.name for r in failed[:4]) + (f" and {len(failed) - 4} more" if len(failed) > 4 else "")
            text += f" · {len(failed)} could not be read: {names}"
        return text
