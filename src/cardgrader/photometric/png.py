"""8-bit PNG files stored without compression, written in one pass over the picture.

`ps solve` stores its pictures uncompressed (a scan's normal map is mostly noise; see `report`).
libpng, asked for that, still feeds each row through zlib's deflate on its own: a 2000 x 2800 BGR picture
takes 30 ms to a file. Here the rows are laid out once with their filter byte (colour order swapped in the
same copy), the zlib stream is stored blocks around that one buffer, and its two checksums, Adler-32 of the
rows and CRC-32 of the chunk, are taken at the same time on two threads (zlib lets go of the GIL): 12 ms.
A `PngPicture` is drawn on where it lies in those rows, so `defects.png` is written with no copy at all.
Any PNG reader opens the result; the path may hold any characters (cv2.imwrite's may not, on Windows).
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from cardgrader.photometric.outfile import rewritten

SIGNATURE = b"\x89PNG\r\n\x1a\n"
STORED_MOST = 65535  # bytes in one stored deflate block
ZLIB_HEADER = b"\x78\x01"  # deflate, 32 KiB window, no dictionary, "fastest"
TWO_THREADS_FROM = 1 << 20  # bytes of rows from which the checksums are worth a second thread
WRITEV_MOST = 1024  # buffers per os.writev call (IOV_MAX on Linux and macOS)
COLOUR_TYPE = {1: 0, 3: 2}  # channels -> PNG colour type: gray, RGB


class PngPicture:
    """A picture held as a PNG's rows, each a filter byte then its pixels (RGB order, or gray): draw on
    `pixels`, then `write`, which stores the rows as they are."""

    def __init__(self, height: int, width: int, channels: int = 3, black: bool = True):
        """`black=False` leaves the pixels as they come (for a caller that fills every one): a fresh
        picture not zeroed first is made in half the time."""
        if channels not in COLOUR_TYPE or height <= 0 or width <= 0:
            raise ValueError(f"a PNG picture is at least 1 x 1 px, gray or RGB, not {width} x {height} x {channels}")
        self.rows = (np.zeros if black else np.empty)((height, 1 + width * channels), np.uint8)
        self.rows[:, 0] = 0  # each row's filter byte: "none"
        self.channels = channels
        shape = (height, width, 3) if channels == 3 else (height, width)
        self.pixels = self.rows[:, 1:].reshape(shape)  # a view: OpenCV draws on it in place

    @classmethod
    def from_image(cls, image: np.ndarray) -> PngPicture:
        """`image`, (H, W) gray or (H, W, 3) BGR uint8, laid out as PNG rows."""
        image = np.asarray(image)
        channels = 1 if image.ndim == 2 else image.shape[2] if image.ndim == 3 else 0
        if image.dtype != np.uint8 or channels not in COLOUR_TYPE or image.size == 0:
            raise ValueError(f"a PNG picture is made from a non-empty (H, W) or (H, W, 3) uint8 image, not "
                             f"{image.dtype} {image.shape}")
        picture = cls(image.shape[0], image.shape[1], channels, black=False)
        if channels == 3:
            cv2.cvtColor(image, cv2.COLOR_BGR2RGB, dst=picture.pixels)
        else:
            picture.pixels[...] = image
        return picture

    @classmethod
    def gray_in_colour(cls, gray: np.ndarray) -> PngPicture:
        """A gray uint8 picture as RGB rows, to draw on in colour (a colour given in BGR, reversed)."""
        picture = cls(gray.shape[0], gray.shape[1], 3, black=False)
        cv2.cvtColor(np.ascontiguousarray(gray, np.uint8), cv2.COLOR_GRAY2RGB, dst=picture.pixels)
        return picture

    def write(self, path: str | Path) -> None:
        """The picture as an uncompressed PNG file at `path`."""
        h, w = self.pixels.shape[:2]
        stream = memoryview(self.rows).cast("B")
        blocks = [(_stored_header(stream, start), stream[start:start + STORED_MOST])
                  for start in range(0, len(stream), STORED_MOST)]
        if len(stream) >= TWO_THREADS_FROM:
            with ThreadPoolExecutor(1) as pool:
                adler = pool.submit(zlib.adler32, stream)
                crc = _crc(blocks)
                adler32 = adler.result()
        else:
            adler32, crc = zlib.adler32(stream), _crc(blocks)
        trailer = struct.pack(">I", adler32)
        crc = zlib.crc32(trailer, crc)
        length = len(ZLIB_HEADER) + sum(len(header) + len(data) for header, data in blocks) + len(trailer)
        if length >= 1 << 31:  # a PNG chunk's length is a 31-bit number
            raise ValueError(f"a {w} x {h} picture is too large for one PNG data chunk ({length} bytes)")
        header = struct.pack(">IIBBBBB", w, h, 8, COLOUR_TYPE[self.channels], 0, 0, 0)
        pieces = [SIGNATURE, _chunk(b"IHDR", header), struct.pack(">I", length) + b"IDAT" + ZLIB_HEADER,
                  *(part for block in blocks for part in block), trailer + struct.pack(">I", crc),
                  _chunk(b"IEND", b"")]
        with rewritten(path) as f:
            _write_all(f, pieces)


def write_png(path: str | Path, image: np.ndarray) -> None:
    """Write `image`, (H, W) gray or (H, W, 3) BGR uint8, as an uncompressed PNG at `path`."""
    PngPicture.from_image(image).write(path)


def _stored_header(stream: memoryview, start: int) -> bytes:
    size = min(STORED_MOST, len(stream) - start)
    last = start + size == len(stream)
    return struct.pack("<BHH", int(last), size, size ^ 0xFFFF)


def _crc(blocks: list[tuple[bytes, memoryview]]) -> int:
    """CRC-32 of the IDAT chunk so far: its type, the zlib header and every stored block."""
    crc = zlib.crc32(ZLIB_HEADER, zlib.crc32(b"IDAT"))
    for header, data in blocks:
        crc = zlib.crc32(data, zlib.crc32(header, crc))
    return crc


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))


def _write_all(f, pieces: list) -> None:
    """All `pieces` in order, a batch of buffers per system call where the OS has writev."""
    if not hasattr(os, "writev"):
        for piece in pieces:
            view = memoryview(piece).cast("B")
            while view:  # an unbuffered file may take part of a write
                view = view[f.write(view):]
        return
    fd = f.fileno()
    for batch in _batches(pieces, WRITEV_MOST):
        views = [memoryview(p).cast("B") for p in batch]
        while views:
            written = os.writev(fd, views)
            while views and written >= len(views[0]):  # a short write: go on after the bytes that went
                written -= len(views[0])
                views.pop(0)
            if views and written:
                views[0] = views[0][written:]


def _batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
