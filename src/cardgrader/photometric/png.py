"""8-bit PNG files stored without compression, written in one pass over the picture.

`ps solve` stores its pictures uncompressed (a scan's normal map is mostly noise; see `report`).
libpng, asked for that, still feeds each row through zlib's deflate on its own: a 2000 x 2800 BGR picture
takes 30 ms to a file. Here the rows are laid out with their filter byte (colour order swapped in the
same copy), the zlib stream is stored blocks around them, and its two checksums, Adler-32 of the rows and
CRC-32 of the chunk, are carried on as the rows go out. A picture made only to be written (`write_png`,
`write_png_bands`) is laid out a band of rows at a time in one small buffer, checksummed and written while
in the cache; a `PngPicture` is drawn on where it lies in its rows, so `defects.png` is written with no
copy at all. Adler-32 is worked out from two sums OpenCV takes (`adler32`), at several times zlib's speed.
Any PNG reader opens the result; the path may hold any characters (cv2.imwrite's may not, on Windows).
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np

from cardgrader.photometric.outfile import rewritten

SIGNATURE = b"\x89PNG\r\n\x1a\n"
STORED_MOST = 65535  # bytes in one stored deflate block
ZLIB_HEADER = b"\x78\x01"  # deflate, 32 KiB window, no dictionary, "fastest"
ADLER_BASE = 65521  # Adler-32's modulus
ADLER_ROW = 4096  # bytes per row of the layout Adler-32's sums are taken over (a row sum fits 32 bits)
BAND_ROWS = 64  # rows per band of a picture made as it is written
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
    def gray_in_colour(cls, gray: np.ndarray) -> PngPicture:
        """A gray uint8 picture as RGB rows, to draw on in colour (a colour given in BGR, reversed)."""
        picture = cls(gray.shape[0], gray.shape[1], 3, black=False)
        cv2.cvtColor(np.ascontiguousarray(gray, np.uint8), cv2.COLOR_GRAY2RGB, dst=picture.pixels)
        return picture

    def write(self, path: str | Path) -> None:
        """The picture as an uncompressed PNG file at `path`."""
        h, w = self.pixels.shape[:2]
        _write_rows(path, w, h, self.channels, [memoryview(self.rows).cast("B")])


def write_png(path: str | Path, image: np.ndarray) -> None:
    """Write `image`, (H, W) gray or (H, W, 3) BGR uint8, as an uncompressed PNG at `path`."""
    image = np.asarray(image)
    channels = 1 if image.ndim == 2 else image.shape[2] if image.ndim == 3 else 0
    if image.dtype != np.uint8 or channels not in COLOUR_TYPE or image.size == 0:
        raise ValueError(f"a PNG picture is made from a non-empty (H, W) or (H, W, 3) uint8 image, not "
                         f"{image.dtype} {image.shape}")

    def fill(top: int, pixels: np.ndarray) -> None:
        rows = image[top:top + len(pixels)]
        if channels == 3:
            cv2.cvtColor(rows, cv2.COLOR_BGR2RGB, dst=pixels)
        else:
            pixels[...] = rows

    write_png_bands(path, image.shape[0], image.shape[1], channels, fill)


def write_png_bands(path: str | Path, height: int, width: int, channels: int,
                    fill: Callable[[int, np.ndarray], None], band_rows: int = BAND_ROWS) -> None:
    """An uncompressed PNG at `path` whose pixels are made a band of rows at a time: `fill(top, pixels)`
    puts rows top .. top + len(pixels) - 1 into `pixels`, (n, W, 3) RGB or (n, W) gray uint8. The band is
    checksummed and written while it is in the cache, and no picture-size array is made."""
    picture = PngPicture(min(height, band_rows), width, channels, black=False)

    def bands() -> Iterator[memoryview]:
        for top in range(0, height, band_rows):
            n = min(band_rows, height - top)
            fill(top, picture.pixels[:n])
            yield memoryview(picture.rows[:n]).cast("B")

    _write_rows(path, width, height, channels, bands())


def _write_rows(path: str | Path, width: int, height: int, channels: int, bands: Iterable[memoryview]) -> None:
    """The PNG file of `bands`, the picture's rows (each a filter byte and its pixels) in order, a whole
    number of rows each: one data chunk holding a zlib stream of stored blocks. A band is checksummed
    (Adler-32 of the rows, CRC-32 of the chunk) and written before the next is asked for."""
    total = height * (1 + width * channels)
    length = len(ZLIB_HEADER) + total + 5 * -(-total // STORED_MOST) + 4  # 5: a stored block's header
    if length >= 1 << 31:  # a PNG chunk's length is a 31-bit number
        raise ValueError(f"a {width} x {height} picture is too large for one PNG data chunk ({length} bytes)")
    header = struct.pack(">IIBBBBB", width, height, 8, COLOUR_TYPE[channels], 0, 0, 0)
    adler, crc, at = 1, zlib.crc32(ZLIB_HEADER, zlib.crc32(b"IDAT")), 0
    with rewritten(path) as f:
        _write_all(f, [SIGNATURE, _chunk(b"IHDR", header), struct.pack(">I", length) + b"IDAT" + ZLIB_HEADER])
        for data in bands:
            pieces = _stored_blocks(data, at, total)
            at += len(data)
            adler, crc = adler32(data, adler), _crc(pieces, crc)
            _write_all(f, pieces)
        trailer = struct.pack(">I", adler)
        _write_all(f, [trailer + struct.pack(">I", zlib.crc32(trailer, crc)), _chunk(b"IEND", b"")])


def adler32(data: memoryview, value: int = 1) -> int:
    """`zlib.adler32(data, value)`, from two sums OpenCV takes over the bytes laid out as rows of
    ADLER_ROW: zlib's own loop takes 4.6 ms for a 17 MB picture, these 1.2 ms (on one thread).

    Adler-32 is a = 1 + the bytes' sum and b = the sum of a after each byte, both mod 65521. Over n bytes
    d_0 .. d_(n-1) carried on from (a0, b0): a = a0 + S and b = b0 + n a0 + n S - W, where S = sum d_i and
    W = sum i d_i. Byte i at row r, column c of the rows (i = r C + c) gives W = C sum_r r R_r + sum_c c K_c
    from the row sums R_r and the column sums K_c; the bytes past the last whole row are summed as they are."""
    flat = np.frombuffer(data, np.uint8)
    n = flat.size
    rows = n // ADLER_ROW
    total = weighted = 0
    if rows:
        grid = flat[:rows * ADLER_ROW].reshape(rows, ADLER_ROW)
        row_sums = cv2.reduce(grid, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel().astype(np.int64)
        column_sums = cv2.reduce(grid, 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel().astype(np.int64)
        total = int(row_sums.sum())
        weighted = (ADLER_ROW * int(np.dot(np.arange(rows, dtype=np.int64), row_sums))
                    + int(np.dot(np.arange(ADLER_ROW, dtype=np.int64), column_sums)))
    rest = flat[rows * ADLER_ROW:].astype(np.int64)
    total += int(rest.sum())
    weighted += int(np.dot(np.arange(rows * ADLER_ROW, n, dtype=np.int64), rest))
    a0, b0 = value & 0xFFFF, value >> 16
    return (((b0 + n * a0 + n * total - weighted) % ADLER_BASE) << 16) | ((a0 + total) % ADLER_BASE)


def _stored_blocks(data: memoryview, at: int, total: int) -> list:
    """`data`, the bytes of a `total`-byte stream from offset `at` on, cut where stored blocks begin and
    end, each block's header before its first byte."""
    pieces: list = []
    done = 0
    while done < len(data):
        offset = at + done
        if offset % STORED_MOST == 0:
            pieces.append(_stored_header(offset, total))
        size = min(STORED_MOST - offset % STORED_MOST, len(data) - done)
        pieces.append(data[done:done + size])
        done += size
    return pieces


def _stored_header(start: int, total: int) -> bytes:
    """The header of the stored block that begins at offset `start` of a `total`-byte stream."""
    size = min(STORED_MOST, total - start)
    last = start + size == total
    return struct.pack("<BHH", int(last), size, size ^ 0xFFFF)


def _crc(pieces: list, crc: int) -> int:
    """`crc` carried on over `pieces`."""
    for piece in pieces:
        crc = zlib.crc32(piece, crc)
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
