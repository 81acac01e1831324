"""What the Grade panel hands to other threads and processes.

`grade_photos` runs in a child process (`offload.run_in_process`): the border and finding models load
torch. `save_report` and `save_training_labels` run on a worker thread: they read and write photos.
Everything crossing over is plain data (str, dict, list). Nothing here writes next to a grader's photo:
reports go to the app's `grades/` folder (or one the grader picks outside the photo's folder), corrected
lines to the app's `corrections/` folder.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from cardgrader import paths
from cardgrader.errors import DataError, UserError

CORRECTION_CLASSES = ("outer_border", "inner_border")  # class 0 and class 1 of the training labels


def grade_photos(front: str, back: str | None, models: dict[str, str | None], report) -> dict[str, Any]:
    """In the child: load the models (the active ones unless named), grade the card and return its report.

    `grade_card` also writes a report; it goes to a scratch folder that is thrown away, since the panel
    saves only when the grader asks (after any correction)."""
    from cardgrader.grading.grade import grade_card, load_models

    report("Loading the models…")
    loaded = load_models(**models, back=back is not None)
    with tempfile.TemporaryDirectory(prefix="cardgrader-grade-") as scratch:
        graded, _json, _html = grade_card(loaded, Path(front), Path(scratch), back=Path(back) if back else None,
                                          progress=lambda message: report(f"Grading the {message}…"))
    return graded


def grades_dir() -> Path:
    path = paths.home() / "grades"
    path.mkdir(parents=True, exist_ok=True)
    return path


def corrections_dir() -> Path:
    """The app's own set of hand-corrected border labels (YOLO: images/, labels/, classes.txt)."""
    return paths.home() / "corrections"


def _photos(report: dict[str, Any]) -> list[Path]:
    return [Path(report[side]["image"]) for side in ("front", "back") if report.get(side)]


def report_folder(report: dict[str, Any]) -> Path:
    """Where a card's report is saved by default: `grades/<card>`, or `<card>-2` … when that folder holds
    the report of another photo with the same name."""
    base, card = grades_dir(), str(report.get("card") or "card")
    front = str(report["front"]["image"])
    for n in range(1, 1000):
        folder = base / (card if n == 1 else f"{card}-{n}")
        try:
            saved = json.loads((folder / "report.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return folder  # nothing there (or nothing readable) yet
        if str((saved.get("front") or {}).get("image")) == front:
            return folder
    raise DataError(f"The folder {base} already holds 999 reports of cards called {card}; choose a folder.")


def refuse_photo_folder(report: dict[str, Any], folder: Path) -> None:
    """A report never goes into (or under) the folder of a photo it grades: those are the grader's."""
    target = folder.resolve()
    for photo in _photos(report):
        source = photo.resolve().parent
        if target == source or source in target.parents:
            raise DataError(f"{folder} is the folder of the photo {photo.name}; reports are not written next to "
                            "your photos. Choose another folder (or save into the app's data folder).")


def save_report(report: dict[str, Any], folder: str | None) -> dict[str, str]:
    """report.json + report.html (with the lines as they are now) into `folder`, or the card's folder in
    the app's data folder; returns where they went."""
    from cardgrader.grading.grade import write_graded

    out = Path(folder) if folder else report_folder(report)
    refuse_photo_folder(report, out)
    try:
        json_path, html_path = write_graded(report, out)
    except OSError as exc:
        raise DataError(f"Cannot write the report into {out} ({exc.strerror or exc}); choose another folder.") from None
    return {"folder": str(out), "json": str(json_path), "html": str(html_path)}


# ---- corrected lines as training labels -------------------------------------------------------------
def label_rows(centering: dict[str, Any], width: int, height: int) -> list[str]:
    """Two YOLO polygon rows: class 0 the outer border's four corners, class 1 the inner's, normalised to
    the photo (the corners are where the eight lines meet)."""
    from cardgrader.grading.centering import from_lines

    measured = from_lines(centering["lines"])
    rows = []
    for class_id, quad in enumerate((measured.outer, measured.inner)):
        points = " ".join(f"{min(max(x / width, 0.0), 1.0):.6f} {min(max(y / height, 0.0), 1.0):.6f}"
                          for x, y in quad.corners)
        rows.append(f"{class_id} {points}")
    return rows


def _photo_bytes(photo: Path) -> tuple[bytes, str]:
    """What goes into the corrections' images/: the file as it is, or, when its EXIF turns it, the upright
    pixels as PNG, so the labels and the pixels agree for every reader."""
    from cardgrader.data.imagefile import probe

    if probe(photo).orientation in (0, 1):
        return photo.read_bytes(), photo.suffix.lower()
    import cv2

    from cardgrader.models.predict import read_image

    ok, encoded = cv2.imencode(".png", read_image(photo))
    if not ok:
        raise DataError(f"The photo {photo} could not be written as PNG.")
    return encoded.tobytes(), ".png"


def _place_photo(photo: Path, images: Path) -> Path:
    """A copy of the photo in images/ (a copy, not a link, so nothing done to the training set can reach
    the grader's file). The same photo saved again keeps its name; another with the same name gets -2 …"""
    data, suffix = _photo_bytes(photo)
    for n in range(1, 1000):
        target = images / (f"{photo.stem}{suffix}" if n == 1 else f"{photo.stem}-{n}{suffix}")
        if not target.exists():
            target.write_bytes(data)
            return target
        if target.stat().st_size == len(data) and target.read_bytes() == data:
            return target
    raise DataError(f"{images} already holds 999 photos called {photo.stem}; rename the photo.")


def save_training_labels(report: dict[str, Any], folder: str | None = None) -> dict[str, Any]:
    """Each side whose eight lines were measured (and perhaps corrected): the photo into images/ and its
    outer and inner border as a YOLO polygon label into labels/, with classes.txt; returns what was written."""
    root = Path(folder) if folder else corrections_dir()
    refuse_photo_folder(report, root)
    images, labels = root / "images", root / "labels"
    written = []
    try:
        images.mkdir(parents=True, exist_ok=True)
        labels.mkdir(parents=True, exist_ok=True)
        (root / "classes.txt").write_text("\n".join(CORRECTION_CLASSES) + "\n", encoding="utf-8")
        for side in ("front", "back"):
            info = report.get(side) or {}
            centering = info.get("centering") or {}
            if "lines" not in centering:
                continue
            rows = label_rows(centering, int(info["width"]), int(info["height"]))
            image = _place_photo(Path(info["image"]), images)
            label = labels / f"{image.stem}.txt"
            label.write_text("\n".join(rows) + "\n", encoding="utf-8")
            written.append({"side": side, "image": str(image), "label": str(label),
                            "manual": list(centering.get("manual") or [])})
    except OSError as exc:
        raise DataError(f"Cannot write the training labels into {root} ({exc.strerror or exc}).") from None
    if not written:
        raise UserError("There are no border lines to save: the borders were not found on this card.")
    return {"folder": str(root), "written": written}
