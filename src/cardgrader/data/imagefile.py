"""Look at one image file without decoding its pixels: size, format, EXIF orientation, completeness and a
content hash. JPEG and PNG headers are parsed directly (the common case, and fast); other formats go
through Pillow. A file is read once, so hashing and checking cost one read.
"""

from __future__ import annotations

import hashlib
import io
import struct
from dataclasses import dataclass
from pathlib import Path

from cardgrader.data.model import ERROR, WARNING, Finding

MIN_SIDE = 10  # Ultralytics rejects images smaller than this
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_END = b"IEND\xaeB`\x82"


@dataclass
class ImageProbe:
    width: int = 0
    height: int = 0
    format: str = ""
    orientation: int = 1
    digest: str = ""
    complete: bool = True  # False: the file ends early or has bytes after its end marker (never hard-link it)
    findings: list[Finding] | None = None

    @property
    def readable(self) -> bool:
        return self.width > 0 and not any(f.severity == ERROR for f in self.findings or [])


def probe(path: str | Path) -> ImageProbe:
    """Size, format, orientation, hash and problems of one image file; never raises for bad files."""
    name = str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        return _bad(name, "unreadable_image", f"{name} cannot be read ({exc.strerror or type(exc).__name__}); "
                                              "check its permissions or remove it.")
    if not data:
        return _bad(name, "empty_image", f"{name} is empty (0 bytes); copy the photo again or remove the file.")
    result = ImageProbe(digest=hashlib.sha1(data).hexdigest(), findings=[])
    if data[:2] == b"\xff\xd8":
        _jpeg(data, name, result)
    elif data[:8] == _PNG_SIGNATURE:
        _png(data, name, result)
    else:
        _other(data, name, result)
    if result.width and (result.width < MIN_SIDE or result.height < MIN_SIDE):
        result.findings.append(Finding(ERROR, name, f"{name} is only {result.width}×{result.height} pixels; "
                                                    f"images need at least {MIN_SIDE} pixels a side.", "tiny_image"))
    if result.orientation not in (0, 1):
        result.findings.append(Finding(
            WARNING, name, f"{name} is stored rotated (EXIF orientation {result.orientation}); check that its labels "
                           "line up with the photo as the labelling tool showed it.", "exif_rotated"))
    return result


def _bad(name: str, code: str, message: str, digest: str = "") -> ImageProbe:
    return ImageProbe(digest=digest, complete=False, findings=[Finding(ERROR, name, message, code)])


def _jpeg(data: bytes, name: str, result: ImageProbe) -> None:
    result.format = "jpeg"
    n, i, sos = len(data), 2, -1
    while i + 4 <= n:
        if data[i] != 0xFF:
            break
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = (data[i + 2] << 8) | data[i + 3]
        if marker in _SOF and i + 9 <= n:
            result.height, result.width = struct.unpack(">HH", data[i + 5:i + 9])
        elif marker == 0xE1 and data[i + 4:i + 10] == b"Exif\x00\x00":
            result.orientation = _exif_orientation(data[i + 10:i + 2 + length])
        elif marker == 0xDA:
            sos = i
            break
        i += 2 + length
    if sos < 0 or not result.width:
        result.findings.append(Finding(ERROR, name, f"{name} is not a readable JPEG (its header is damaged or cut "
                                                    "short); export the photo again or remove it.", "unreadable_image"))
        result.width = result.height = 0
        result.complete = False
        return
    if data.endswith(b"\xff\xd9"):
        return
    result.complete = False
    if data.rfind(b"\xff\xd9", sos) > 0:
        result.findings.append(Finding(
            WARNING, name, f"{name} has extra bytes after the end of its JPEG data; it is copied, not linked, "
                           "when a dataset is built.", "jpeg_trailing_data"))
    else:
        result.findings.append(Finding(
            ERROR, name, f"{name} is truncated (the JPEG ends before its end marker, so part of the photo is "
                         "missing); copy or export it again.", "truncated_image"))


def _exif_orientation(tiff: bytes) -> int:
    try:
        order = {b"II": "<", b"MM": ">"}[tiff[:2]]
        (offset,) = struct.unpack(order + "I", tiff[4:8])
        (count,) = struct.unpack(order + "H", tiff[offset:offset + 2])
        for k in range(count):
            entry = tiff[offset + 2 + 12 * k: offset + 14 + 12 * k]
            tag, kind = struct.unpack(order + "HH", entry[:4])
            if tag == 0x0112 and kind == 3:
                return struct.unpack(order + "H", entry[8:10])[0]
    except (KeyError, struct.error, IndexError):
        pass
    return 1


def _png(data: bytes, name: str, result: ImageProbe) -> None:
    result.format = "png"
    if len(data) < 24 or data[12:16] != b"IHDR":
        result.findings.append(Finding(ERROR, name, f"{name} is not a readable PNG (its header is damaged); "
                                                    "export it again or remove it.", "unreadable_image"))
        result.complete = False
        return
    result.width, result.height = struct.unpack(">II", data[16:24])
    if not data.rstrip(b"\x00").endswith(_PNG_END):
        result.complete = False
        result.findings.append(Finding(ERROR, name, f"{name} is truncated (the PNG ends before its end chunk); "
                                                    "copy or export it again.", "truncated_image"))


def _other(data: bytes, name: str, result: ImageProbe) -> None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            result.format = (image.format or "").lower()
            result.width, result.height = image.size
            result.orientation = int(image.getexif().get(0x0112, 1) or 1)
            image.verify()
    except UnidentifiedImageError:
        what = "text" if _looks_like_text(data) else "data Pillow does not recognise"
        result.findings.append(Finding(ERROR, name, f"{name} is named like an image but holds {what}; "
                                                    "replace it with the real photo or remove it.", "not_an_image"))
        result.complete = False
    except Exception as exc:  # noqa: BLE001 - any decoder failure is a bad file, not a crash
        result.findings.append(Finding(ERROR, name, f"{name} cannot be read as an image ({type(exc).__name__}); "
                                                    "export it again or remove it.", "unreadable_image"))
        result.width = result.height = 0
        result.complete = False


def _looks_like_text(data: bytes) -> bool:
    head = data[:512]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(b >= 9 for b in head)
