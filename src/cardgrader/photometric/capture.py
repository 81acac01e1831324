"""A photometric-stereo capture read from a folder: images as luminance, lights, mask; every check here.

The folder holds N >= 3 images of one card from a fixed camera, each lit by one light, and either a
`lights.json` (or a lights file given separately) or DiLiGenT's text files. Images may be 8- or 16-bit,
gray or colour; each is scaled to 0-1, divided by its light's intensity (per channel for RGB
intensities) and converted to luminance with the Rec. 601 weights (what MATLAB's rgb2gray and OpenCV use,
and how the DiLiGenT baseline numbers are computed on gray images). Nothing in the folder is written.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np

from cardgrader.data.layout import is_image
from cardgrader.errors import DataError
from cardgrader.photometric.lights import (
    LIGHTS_FILE,
    Lights,
    is_diligent,
    read_diligent,
    read_lights_json,
)
from cardgrader.photometric.solvers import check_directions

T, R = TypeVar("T"), TypeVar("R")

MASK_FILE = "mask.png"
LUMA = np.array([0.299, 0.587, 0.114])  # R, G, B
SATURATED_SHARE = 0.5  # an image with more than this share of the card at full scale is saturated
BLACK_LEVEL = 1.0 / 255  # an image whose card pixels are all below this is black
# Files in a capture folder that are not lit images (DiLiGenT ships its ground truth beside the images).
NOT_LIT = ("mask", "normal", "shaded", "albedo", "depth", "defects")


@dataclass
class PhotoCapture:
    """A capture's images as `planes` (N arrays (H, W)) and `scales`: image i as 0-1 luminance divided by
    its light's intensity is `planes[i] * scales[i]`. A gray image's plane is its decoded pixels as they
    are (8- or 16-bit: the l2 solve reads them so, with no float copy of the capture); a colour image's
    is its luminance, float32, already divided (scale 1). `images` is the (N, H, W) float32 stack,
    made on first use (and then the planes are its rows)."""

    folder: Path
    names: list[str]
    planes: list[np.ndarray]
    scales: np.ndarray
    directions: np.ndarray
    mask: np.ndarray | None
    lights_source: str
    _images: np.ndarray | None = field(default=None, repr=False)

    @property
    def images(self) -> np.ndarray:
        if self._images is None:
            stack = np.empty((len(self.planes),) + self.planes[0].shape, np.float32)

            def convert(i: int) -> None:
                np.multiply(self.planes[i], np.float32(self.scales[i]), out=stack[i], casting="unsafe")

            in_parallel(convert, range(len(self.planes)))
            self._images, self.planes, self.scales = stack, list(stack), np.ones(len(stack))
        return self._images

    @property
    def size(self) -> tuple[int, int]:
        return self.planes[0].shape[1], self.planes[0].shape[0]


def decode(path: Path) -> np.ndarray:
    """The file's pixels as OpenCV decodes them (BGR order, native bit depth), or a DataError."""
    data = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if data is None:
        raise DataError(f"The image {path} cannot be read; is it a PNG, TIFF or JPEG file?")
    return data


def decode_all(paths: list[Path]) -> list[np.ndarray]:
    """`decode` of each path, several at once: decoding a large PNG is most of the cost of reading a
    capture, and OpenCV releases the GIL while it decodes. The first failure in list order is raised."""
    return in_parallel(decode, paths)


def in_parallel(work: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """`work(item)` for each item on a thread per core (at most one per item), results in order; the
    first failure in order is raised. For work that releases the GIL: decoding, converting pixels."""
    with ThreadPoolExecutor(max(1, min(len(items), os.cpu_count() or 1))) as pool:
        return list(pool.map(work, items))


def full_scale(data: np.ndarray, path: Path) -> float:
    """The value of a fully exposed pixel: 255 for 8-bit, 65535 for 16-bit, 1 for float images."""
    if data.dtype == np.uint8:
        return 255.0
    if data.dtype == np.uint16:
        return 65535.0
    if data.dtype in (np.float32, np.float64):
        return 1.0
    raise DataError(f"The image {path} has {data.dtype} pixels; use 8- or 16-bit images.")


def _colour(data: np.ndarray) -> np.ndarray | None:
    """(H, W, 3) BGR of a colour image, or None for gray (also a single-channel (H, W, 1) one)."""
    if data.ndim == 3 and data.shape[2] >= 3:
        return data[:, :, :3]  # an alpha channel says nothing about light
    return None


def _gray(data: np.ndarray) -> np.ndarray:
    return data[:, :, 0] if data.ndim == 3 else data


def read_image(path: Path) -> np.ndarray:
    """An image as float32 0-1, (H, W) gray or (H, W, 3) RGB, whatever its bit depth."""
    data = decode(path)
    scale = np.float32(1.0 / full_scale(data, path))
    colour = _colour(data)
    if colour is None:
        return np.multiply(_gray(data), scale, dtype=np.float32)
    return np.multiply(colour[:, :, ::-1], scale, dtype=np.float32)  # OpenCV reads BGR


def to_luminance(data: np.ndarray, intensity: np.ndarray, top: float) -> tuple[np.ndarray, float, np.ndarray]:
    """Decoded pixels (`top` = full scale) and the light's intensity (a number or an RGB triple) as
    (plane, scale, recorded): luminance 0-1 divided by the intensity is plane x scale; `recorded` is the
    luminance before that division, in decoded units, for the exposure check. A gray image is its own
    plane and its own record: no float copy of it is made here."""
    intensity = np.asarray(intensity, np.float64)
    colour = _colour(data)
    if colour is None:
        value = float(intensity @ LUMA) if intensity.ndim else float(intensity)
        gray = _gray(data)
        return gray, 1.0 / (top * value), gray
    pixels = colour.astype(np.float32)
    bgr = LUMA[::-1]
    gains = bgr / (intensity[::-1] if intensity.ndim else float(intensity)) / top
    return cv2.transform(pixels, gains.reshape(1, 3)), 1.0, cv2.transform(pixels, bgr.reshape(1, 3))


def read_mask(path: Path, shape: tuple[int, int]) -> np.ndarray:
    data = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if data is None:
        raise DataError(f"The mask {path} cannot be read as an image.")
    if data.ndim == 3:
        data = data.max(axis=2)
    if data.shape != shape:
        raise DataError(f"The mask {path} is {data.shape[1]}x{data.shape[0]} pixels but the images are "
                        f"{shape[1]}x{shape[0]}; they must be the same size.")
    mask = data > 0
    if not mask.any():
        raise DataError(f"The mask {path} is empty (all black); non-zero pixels mark the card.")
    return mask


def _find_lights(folder: Path, lights: str | Path | None) -> Lights:
    if lights is not None:
        return read_lights_json(lights)
    if (folder / LIGHTS_FILE).is_file():
        return read_lights_json(folder / LIGHTS_FILE)
    if is_diligent(folder):
        return read_diligent(folder)
    raise DataError(f"{folder} has no {LIGHTS_FILE} (or DiLiGenT light_directions.txt); give the light "
                    "directions with --lights FILE.")


def lit_images(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()
                  if p.is_file() and is_image(p) and not p.stem.lower().startswith(NOT_LIT))


def _check_exposure(name: str, luminance: np.ndarray, top: float, mask: np.ndarray | None) -> None:
    """`luminance` is what the camera recorded (before dividing by the light's intensity), full scale `top`."""
    values = luminance[mask] if mask is not None else luminance
    peak = float(values.max()) if values.size else 0.0
    if peak < BLACK_LEVEL * top:
        raise DataError(f"The image {name} is black (no light reached the card); check that its light fired, "
                        "or leave it out of the lights file.")
    if peak >= 0.999 * top and np.count_nonzero(values >= 0.999 * top) > SATURATED_SHARE * values.size:
        raise DataError(f"The image {name} is saturated (most of the card is pure white); lower the exposure "
                        "or the light's power and capture it again.")


def capture_plan(folder: str | Path, lights: str | Path | None = None) -> tuple[Lights, list[str]]:
    """What a capture folder holds, checked without reading a pixel (quick enough to run when a folder is
    chosen): its lights and the names of its lit images. Every problem is a DataError naming the file."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"The capture folder {folder} does not exist or is not a folder.")
    spec = _find_lights(folder, lights)
    names = spec.images or lit_images(folder)
    if len(names) != len(spec.directions):
        raise DataError(f"{folder} has {len(names)} images but the lights file ({spec.source}) has "
                        f"{len(spec.directions)} directions; list the images in its 'images' field.")
    if len(names) < 3:
        raise DataError(f"Photometric stereo needs at least 3 images under different lights; {folder} has {len(names)}.")
    for name in names:
        if not (folder / name).is_file():
            raise DataError(f"The image {name} named in {spec.source} is not in {folder}.")
    return spec, names


def load_capture(folder: str | Path, lights: str | Path | None = None, mask: str | Path | None = None) -> PhotoCapture:
    """Read and check a capture folder; every problem is a DataError naming the file."""
    folder = Path(folder)
    spec, names = capture_plan(folder, lights)
    directions = check_directions(spec.directions, len(names))
    mask_path = Path(mask) if mask is not None else folder / MASK_FILE
    if mask is not None and not mask_path.is_file():
        raise DataError(f"The mask file {mask_path} does not exist.")
    decoded = decode_all([folder / name for name in names])
    shape = decoded[0].shape[:2]
    for name, data in zip(names, decoded):
        if data.shape[:2] != shape:
            raise DataError(f"The image {name} is {data.shape[1]}x{data.shape[0]} pixels but {names[0]} is "
                            f"{shape[1]}x{shape[0]}; all images of a capture must be the same size.")
    card = read_mask(mask_path, shape) if mask_path.is_file() else None

    def convert(i: int) -> tuple[np.ndarray, float]:
        top = full_scale(decoded[i], folder / names[i])
        plane, scale, recorded = to_luminance(decoded[i], spec.intensities[i], top)
        _check_exposure(names[i], recorded, top, card)
        return plane, scale

    planes, scales = zip(*in_parallel(convert, range(len(names))))
    return PhotoCapture(folder, names, list(planes), np.array(scales), directions, card, spec.source)
