"""A photometric-stereo capture read from a folder: images as luminance, lights, mask; every check here.

The folder holds N >= 3 images of one card from a fixed camera, each lit by one light, and either a
`lights.json` (or a lights file given separately) or DiLiGenT's text files. Images may be 8- or 16-bit,
gray or colour; each is scaled to 0-1, divided by its light's intensity (per channel for RGB
intensities) and converted to luminance with the Rec. 601 weights (what MATLAB's rgb2gray and OpenCV use,
and how the DiLiGenT baseline numbers are computed on gray images). Nothing in the folder is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from cardgrader.data.layout import is_image
from cardgrader.errors import DataError
from cardgrader.photometric.lights import LIGHTS_FILE, Lights, is_diligent, read_diligent, read_lights_json
from cardgrader.photometric.solvers import check_directions

MASK_FILE = "mask.png"
LUMA = np.array([0.299, 0.587, 0.114])  # R, G, B
SATURATED_SHARE = 0.5  # an image with more than this share of the card at full scale is saturated
BLACK_LEVEL = 1.0 / 255  # an image whose card pixels are all below this is black
# Files in a capture folder that are not lit images (DiLiGenT ships its ground truth beside the images).
NOT_LIT = ("mask", "normal", "shaded", "albedo", "depth", "defects")


@dataclass
class PhotoCapture:
    """Images (N, H, W) float32 0-1 luminance, already divided by the light intensities."""

    folder: Path
    names: list[str]
    images: np.ndarray
    directions: np.ndarray
    mask: np.ndarray | None
    lights_source: str

    @property
    def size(self) -> tuple[int, int]:
        return self.images.shape[2], self.images.shape[1]


def read_image(path: Path) -> np.ndarray:
    """An image as float32 0-1, (H, W) gray or (H, W, 3) RGB, whatever its bit depth."""
    data = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if data is None:
        raise DataError(f"The image {path} cannot be read; is it a PNG, TIFF or JPEG file?")
    if data.dtype == np.uint8:
        scale = 255.0
    elif data.dtype == np.uint16:
        scale = 65535.0
    elif data.dtype in (np.float32, np.float64):
        scale = 1.0
    else:
        raise DataError(f"The image {path} has {data.dtype} pixels; use 8- or 16-bit images.")
    image = data.astype(np.float32) / np.float32(scale)
    if image.ndim == 3:
        if image.shape[2] == 4:
            image = image[:, :, :3]  # the alpha channel says nothing about light
        if image.shape[2] == 1:
            image = image[:, :, 0]
        else:
            image = image[:, :, ::-1]  # OpenCV reads BGR
    return image


def to_luminance(image: np.ndarray, intensity: np.ndarray) -> np.ndarray:
    """Divide by the light's intensity (a number or an RGB triple), then take luminance."""
    intensity = np.asarray(intensity, np.float64)
    if image.ndim == 2:
        value = float(intensity @ LUMA) if intensity.ndim else float(intensity)
        return image / np.float32(value)
    gains = (LUMA / intensity if intensity.ndim else LUMA / float(intensity)).astype(np.float32)
    return image @ gains


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


def _check_exposure(name: str, image: np.ndarray, mask: np.ndarray | None) -> None:
    """`image` is the luminance the camera recorded (before dividing by the light's intensity)."""
    values = image[mask] if mask is not None else image
    if float(values.max(initial=0.0)) < BLACK_LEVEL:
        raise DataError(f"The image {name} is black (no light reached the card); check that its light fired, "
                        "or leave it out of the lights file.")
    if float(np.mean(values >= 0.999)) > SATURATED_SHARE:
        raise DataError(f"The image {name} is saturated (most of the card is pure white); lower the exposure "
                        "or the light's power and capture it again.")


def load_capture(folder: str | Path, lights: str | Path | None = None, mask: str | Path | None = None) -> PhotoCapture:
    """Read and check a capture folder; every problem is a DataError naming the file."""
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
    directions = check_directions(spec.directions, len(names))
    mask_path = Path(mask) if mask is not None else folder / MASK_FILE
    if mask is not None and not mask_path.is_file():
        raise DataError(f"The mask file {mask_path} does not exist.")
    stack: np.ndarray | None = None
    card = None
    for i, name in enumerate(names):
        path = folder / name
        if not path.is_file():
            raise DataError(f"The image {name} named in {spec.source} is not in {folder}.")
        image = read_image(path)
        if stack is None:
            stack = np.empty((len(names),) + image.shape[:2], np.float32)
            card = read_mask(mask_path, stack.shape[1:]) if mask_path.is_file() else None
        elif image.shape[:2] != stack.shape[1:]:
            raise DataError(f"The image {name} is {image.shape[1]}x{image.shape[0]} pixels but {names[0]} is "
                            f"{stack.shape[2]}x{stack.shape[1]}; all images of a capture must be the same size.")
        _check_exposure(name, image if image.ndim == 2 else image @ LUMA.astype(np.float32), card)
        stack[i] = to_luminance(image, spec.intensities[i])
    return PhotoCapture(folder, names, stack, directions, card, spec.source)
