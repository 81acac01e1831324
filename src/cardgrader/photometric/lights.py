"""Light descriptions: `lights.json` (ours) and DiLiGenT's text files, read and checked in one place.

`lights.json` is `{"images": [...], "directions": [[x, y, z], ...], "intensities": [...]}`, directions
from the surface to each light in the frame x right, y up, z toward the camera; an intensity is one
number or an RGB triple per light (default 1). A DiLiGenT object folder describes the same with
`filenames.txt`, `light_directions.txt` (one "x y z" line per image) and `light_intensities.txt`
(one "r g b" line per image).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cardgrader.errors import DataError

LIGHTS_FILE = "lights.json"
DILIGENT_FILES = ("filenames.txt", "light_directions.txt", "light_intensities.txt")


@dataclass
class Lights:
    """One entry per image: its file name, the direction to its light, and the light's intensity,
    (N,) for one number per light or (N, 3) for RGB."""

    images: list[str]
    directions: np.ndarray
    intensities: np.ndarray
    source: str = ""

    def to_json(self) -> dict:
        return {
            "images": list(self.images),
            "directions": np.round(np.asarray(self.directions, float), 6).tolist(),
            "intensities": np.round(np.asarray(self.intensities, float), 6).tolist(),
        }


def write_lights(path: str | Path, lights: Lights) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(lights.to_json(), indent=2), encoding="utf-8")
    return path


def _intensities(values, count: int, where: str) -> np.ndarray:
    if values is None:
        return np.ones(count)
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"'intensities' in {where} must be numbers or [r, g, b] triples, one per image.") from None
    if arr.ndim == 0:
        arr = np.full(count, float(arr))
    if arr.shape not in ((count,), (count, 3)):
        raise DataError(f"'intensities' in {where} has {len(arr)} entries for {count} images; give one number "
                        "or one [r, g, b] triple per image.")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise DataError(f"'intensities' in {where} must all be positive numbers.")
    return arr


def read_lights_json(path: str | Path) -> Lights:
    """Read and check a lights.json; unnormalised or coplanar directions are errors, not fixed silently."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"The lights file {path} does not exist; give the light directions with --lights FILE "
                        f"or put a {LIGHTS_FILE} next to the images.")
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"The lights file {path} is not valid JSON ({exc}).") from None
    if not isinstance(spec, dict) or "directions" not in spec:
        raise DataError(f"The lights file {path} has no 'directions' list; it needs "
                        '{"images": [...], "directions": [[x, y, z], ...], "intensities": [...]}.')
    try:
        directions = np.asarray(spec["directions"], dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"'directions' in {path} must be a list of [x, y, z] number triples.") from None
    if directions.ndim != 2 or directions.shape[1] != 3:
        raise DataError(f"'directions' in {path} must be a list of [x, y, z] number triples.")
    images = spec.get("images")
    if images is not None and (not isinstance(images, list) or not all(isinstance(i, str) for i in images)):
        raise DataError(f"'images' in {path} must be a list of image file names.")
    if images is not None and len(images) != len(directions):
        raise DataError(f"{path} lists {len(images)} images but {len(directions)} directions; give one direction per image.")
    return Lights(list(images or []), directions, _intensities(spec.get("intensities"), len(directions), str(path)), str(path))


def _read_rows(path: Path, columns: int) -> np.ndarray:
    try:
        rows = np.loadtxt(path, dtype=np.float64, ndmin=2)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path} cannot be read as rows of numbers ({exc}).") from None
    if rows.shape[1] != columns:
        raise DataError(f"{path} must have {columns} numbers per line; found {rows.shape[1]}.")
    return rows


def is_diligent(folder: Path) -> bool:
    return all((folder / name).is_file() for name in DILIGENT_FILES[:2])


def read_diligent(folder: str | Path) -> Lights:
    """Lights of a DiLiGenT object folder (e.g. `pmsData/ballPNG`)."""
    folder = Path(folder)
    names = [line.strip() for line in (folder / "filenames.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
    directions = _read_rows(folder / "light_directions.txt", 3)
    if len(names) != len(directions):
        raise DataError(f"{folder / 'filenames.txt'} lists {len(names)} images but light_directions.txt has "
                        f"{len(directions)} lines.")
    intensity_file = folder / "light_intensities.txt"
    intensities = _read_rows(intensity_file, 3) if intensity_file.is_file() else None
    return Lights(names, directions, _intensities(intensities, len(names), str(intensity_file)), str(folder))
