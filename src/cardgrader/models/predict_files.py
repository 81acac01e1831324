"""`cardgrader predict` on files: find the photos, plan where each one's overlay and record go, then read,
predict and write them one at a time so memory stays flat however many photos there are.

Source folders are read, never written: an output folder inside one (or, for a photo named on its own,
its folder itself), or any output that would land in one or over a photo, is refused before anything is
written. An image that cannot be read is reported by name and the
rest carry on.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import cv2

from cardgrader.data.layout import IMAGE_SUFFIXES, is_image, is_inside
from cardgrader.errors import ConfigError, DataError
from cardgrader.models.overlay import MIN_OVERLAY_SIDE, draw_overlay
from cardgrader.models.predict import Predictor, read_image

JPEG_SUFFIXES = (".jpg", ".jpeg")
JPEG_QUALITY = 92


@dataclass
class ImageJob:
    source: Path  # the photo
    overlay: Path  # <out>/<relative path>/<stem>.overlay.png|jpg
    record: Path  # <out>/<relative path>/<stem>.json


def _walk(folder: Path) -> list[Path]:
    """Images under a folder, recursively, in a stable order; hidden files and folders are skipped."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [Path(root) / name for name in sorted(files) if not name.startswith(".") and is_image(Path(name))]
    return found


def plan(sources: Sequence[str | Path], out: str | Path) -> list[ImageJob]:
    """One job per photo under `sources` (files or folders), with output names unique within `out`."""
    out = Path(out)
    found: list[tuple[Path, Path]] = []  # (image, path relative to what the user named)
    folders: list[Path] = []  # folders named as sources: nothing is ever written inside them
    for source in map(Path, sources):
        if source.is_dir():
            folders.append(source)
            found += [(image, image.relative_to(source)) for image in _walk(source)]
        elif source.is_file():
            found.append((source, Path(source.name)))
            if out.resolve() == source.parent.resolve():
                raise ConfigError(f"--out {out} is the folder of {source.name}; the overlays would sit beside the "
                                  "photo. Choose an output folder of their own.", field="out")
        else:
            raise DataError(f"The source {source} does not exist.")
    if not found:
        kinds = ", ".join(sorted(IMAGE_SUFFIXES))
        raise DataError(f"No images in {', '.join(str(s) for s in sources)} (looked for {kinds} files, "
                        "in sub-folders too).")
    for folder in folders:
        if is_inside(out, folder):
            raise ConfigError(f"--out {out} is inside the source folder {folder}, which is only read; "
                              "choose an output folder outside it.", field="out")
    originals = {image.resolve() for image, _relative in found}
    jobs, used = [], set()
    for image, relative in found:
        stem = relative.with_suffix("")
        candidate, n = stem, 1
        while str(candidate).lower() in used:
            n += 1
            candidate = stem.with_name(f"{stem.name}_{n}")
        used.add(str(candidate).lower())
        kind = ".jpg" if image.suffix.lower() in JPEG_SUFFIXES else ".png"
        job = ImageJob(image, out / candidate.parent / f"{candidate.name}.overlay{kind}",
                       out / candidate.parent / f"{candidate.name}.json")
        for target in (job.overlay, job.record):
            if target.resolve() in originals or any(is_inside(target, folder) for folder in folders):
                raise ConfigError(f"Writing {target} would put a file into a source folder or over a photo; "
                                  "choose an output folder outside the sources.", field="out")
        jobs.append(job)
    return jobs


def _write_image(path: Path, rgb) -> None:
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY] if path.suffix == ".jpg" else []
    ok, encoded = cv2.imencode(path.suffix, bgr, params)
    if not ok:
        raise OSError(f"cannot encode {path.name}")
    path.parent.mkdir(parents=True, exist_ok=True)
    encoded.tofile(str(path))  # not cv2.imwrite: non-ASCII paths on Windows


def predict_files(predictor: Predictor, jobs: Sequence[ImageJob], conf: float, imgsz: int | None = None,
                  min_side: int = MIN_OVERLAY_SIDE) -> Iterator[dict]:
    """Predict each job's photo, write its overlay and JSON record, and yield the record (one at a time).

    Records are `{image, width, height, detections, overlay}`, or `{image, error}` for a photo that
    cannot be read.
    """
    for job in jobs:
        try:
            image = read_image(job.source)
        except DataError as exc:
            yield {"image": str(job.source), "error": str(exc)}
            continue
        prediction = predictor.predict_image(image, conf=conf, imgsz=imgsz)
        prediction.image = str(job.source)
        _write_image(job.overlay, draw_overlay(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), prediction.detections,
                                               min_side=min_side))
        del image
        record = prediction.to_record(overlay=job.overlay)
        job.record.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        yield record
