"""Look at one image file without decoding its pixels: size, format, EXIF orientation, completeness and a
content key. JPEG and PNG headers are parsed directly from the file's first and last bytes (the common
case, and fast); other formats go through Pillow.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from cardgrader.data.model import ERROR, WARNING, Finding

MIN_SIDE = 10  # Ultralytics rejects images smaller than this
PEEK = 16 * 1024  # bytes read from each end of a file when that is enough
HEADER_LIMIT = 512 * 1024  # JPEG headers with large EXIF blocks and thumbnails fit in this
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
    """Size, format, orientation, hash and problems of one image file; never raises for bad files.

    Only the first and last 16 KiB are read when they tell everything (the usual case, even for
    multi-megabyte phone photos); the hash is then a fast key over size, head and tail, and `validate`
    compares the full bytes of any files that share one before calling them duplicates.
    """
    name = str(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(PEEK)
            size = os.fstat(handle.fileno()).st_size
            if size > len(head):
                handle.seek(-PEEK, os.SEEK_END)
                tail = handle.read(PEEK)
            else:
                tail = head
    except OSError as exc:
        return _bad(name, "unreadable_image", f"{name} cannot be read ({exc.strerror or type(exc).__name__}); "
                                              "check its permissions or remove it.")
    if not head:
        return _bad(name, "empty_image", f"{name} is empty (0 bytes); copy the photo again or remove the file.")
    whole = head if len(head) >= size else None

    def load(limit: int = -1) -> bytes:
        """More of the file: its first `limit` bytes, or all of it."""
        nonlocal whole
        if whole is not None:
            return whole
        with open(path, "rb") as again:
            data = again.read(limit)
        if limit < 0 or len(data) >= size:
            whole = data
        return data

    crc = zlib.crc32(head) if tail is head else zlib.crc32(tail, zlib.crc32(head))
    result = ImageProbe(digest=f"{size:x}-{crc:08x}", findings=[])
    if head[:2] == b"\xff\xd8":
        _jpeg(head, tail, load, name, result)
    elif head[:8] == _PNG_SIGNATURE:
        _png(head, tail, name, result)
    else:
        _other(load(), name, result)
    if result.width and (result.width < MIN_SIDE or result.height < MIN_SIDE):
        result.findings.append(Finding(ERROR, name, f"{name} is only {result.width}×{result.height} pixels; "
                                                    f"images need at least {MIN_SIDE} pixels a side.", "tiny_image"))
    if result.orientation not in (0, 1):
        result.findings.append(Finding(
            WARNING, name, f"{name} is stored rotated (EXIF orientation {result.orientation}); check that its labels "
                           "line up with the photo as the labelling tool showed it.", "exif_rotated"))
    return result


def same_bytes(paths: list[str]) -> list[list[str]]:
    """Files grouped by identical content (for confirming duplicates that share a fast key)."""
    groups: dict[str, list[str]] = {}
    for path in paths:
        try:
            with open(path, "rb") as handle:
                key = hashlib.sha1(handle.read()).hexdigest()
        except OSError:
            key = path
        groups.setdefault(key, []).append(path)
    return list(groups.values())


def _bad(name: str, code: str, message: str, digest: str = "") -> ImageProbe:
    return ImageProbe(digest=digest, complete=False, findings=[Finding(ERROR, name, message, code)])


def _jpeg_header(data: bytes, result: ImageProbe) -> int:
    """Read size and orientation from the markers before the scan data; returns where the scan starts, or -1."""
    n, i = len(data), 2
    while i + 4 <= n:
        if data[i] != 0xFF:
            return -1
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
            return i
        i += 2 + length
    return -1


def _jpeg(head: bytes, tail: bytes, load, name: str, result: ImageProbe) -> None:
    result.format = "jpeg"
    sos = _jpeg_header(head, result)
    for limit in (HEADER_LIMIT, -1):  # large EXIF blocks: the header goes on past the first bytes read
        if sos >= 0 or tail is head:
            break
        sos = _jpeg_header(load(limit), result)
    if sos < 0 or not result.width:
        result.findings.append(Finding(ERROR, name, f"{name} is not a readable JPEG (its header is damaged or cut "
                                                    "short); export the photo again or remove it.", "unreadable_image"))
        result.width = result.height = 0
        result.complete = False
        return
    if tail.endswith(b"\xff\xd9"):
        return
    result.complete = False
    if load().rfind(b"\xff\xd9", sos) > 0:
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


def _png(head: bytes, tail: bytes, name: str, result: ImageProbe) -> None:
    result.format = "png"
    if len(head) < 24 or head[12:16] != b"IHDR":
        result.findings.append(Finding(ERROR, name, f"{name} is not a readable PNG (its header is damaged); "
                                                    "export it again or remove it.", "unreadable_image"))
        result.complete = False
        return
    result.width, result.height = struct.unpack(">II", head[16:24])
    if not tail.rstrip(b"\x00").endswith(_PNG_END):
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
