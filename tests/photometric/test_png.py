"""The stored-PNG writer `ps solve` uses for its pictures: every reader gets the exact pixels back."""

from __future__ import annotations

import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from cardgrader.photometric.png import ADLER_ROW, STORED_MOST, PngPicture, adler32, write_png, write_png_bands


@pytest.mark.parametrize("shape", [
    (1, 1), (1, 1, 3), (37, 53), (29, 41, 3),
    (2, STORED_MOST + 10),  # a row longer than one stored block
    (3, STORED_MOST // 3 + 1, 3),
    (700, 640, 3),
])
def test_cv2_and_pillow_read_back_the_exact_pixels(tmp_path, shape):
    image = np.random.default_rng(sum(shape)).integers(0, 256, shape, dtype=np.uint8)
    path = tmp_path / "picture.png"
    write_png(path, image)
    assert np.array_equal(cv2.imread(str(path), cv2.IMREAD_UNCHANGED), image)
    with Image.open(path) as pil:
        pil.load()  # Pillow checks each chunk's CRC and the zlib stream's Adler-32 as it reads
        rgb = np.asarray(pil)
    assert np.array_equal(rgb if image.ndim == 2 else rgb[..., ::-1], image)
    assert pil.mode == ("L" if image.ndim == 2 else "RGB")


def test_the_file_is_a_valid_png_chunk_by_chunk(tmp_path):
    image = np.random.default_rng(1).integers(0, 256, (300, 400, 3), dtype=np.uint8)
    write_png(tmp_path / "p.png", image)
    data = (tmp_path / "p.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, kinds, stream = 8, [], b""
    while at < len(data):
        length = int.from_bytes(data[at:at + 4], "big")
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + length]
        assert int.from_bytes(data[at + 8 + length:at + 12 + length], "big") == zlib.crc32(kind + body), kind
        kinds.append(kind)
        stream += body if kind == b"IDAT" else b""
        at += 12 + length
    assert kinds == [b"IHDR", b"IDAT", b"IEND"]
    rows = zlib.decompress(stream)  # checks the Adler-32 too
    assert len(rows) == 300 * (1 + 400 * 3)
    assert set(rows[::1 + 400 * 3]) == {0}  # every row's filter byte: none


def test_a_path_with_any_characters_is_written(tmp_path):
    path = tmp_path / "Pokémon カード" / "défauts.png"
    path.parent.mkdir()
    write_png(path, np.full((5, 7), 200, np.uint8))
    with Image.open(path) as pil:
        assert np.array_equal(np.asarray(pil), np.full((5, 7), 200, np.uint8))


@pytest.mark.parametrize("image", [np.zeros((4, 4), np.float32), np.zeros((4, 4, 4), np.uint8),
                                   np.zeros((0, 4), np.uint8), np.zeros(4, np.uint8)])
def test_what_it_cannot_store_is_refused(tmp_path, image):
    with pytest.raises(ValueError, match="uint8 image"):
        write_png(tmp_path / "x.png", image)
    assert not (tmp_path / "x.png").exists()


def _read_checked(path):
    with Image.open(path) as pil:
        pil.load()  # Pillow checks each chunk's CRC and the zlib stream's Adler-32 as it reads
        return np.asarray(pil)


@pytest.mark.parametrize("band_rows", [1, 7, 64, 1000])
@pytest.mark.parametrize("channels", [1, 3])
def test_a_picture_made_band_by_band_is_the_picture(tmp_path, band_rows, channels):
    """Bands of any height, their rows cut across stored blocks anywhere, make the same file."""
    shape = (150, 331, 3) if channels == 3 else (150, 331)  # a stream of 3 stored blocks and a bit
    image = np.random.default_rng(band_rows).integers(0, 256, shape, dtype=np.uint8)
    asked = []

    def fill(top, pixels):
        asked.append((top, len(pixels)))
        pixels[...] = image[top:top + len(pixels)]

    write_png_bands(tmp_path / "b.png", 150, 331, channels, fill, band_rows=band_rows)
    assert np.array_equal(_read_checked(tmp_path / "b.png"), image)
    assert asked == [(top, min(band_rows, 150 - top)) for top in range(0, 150, band_rows)]


def test_a_picture_drawn_where_its_rows_lie_is_written_as_drawn(tmp_path):
    gray = np.random.default_rng(2).integers(0, 256, (800, 500), dtype=np.uint8)
    picture = PngPicture.gray_in_colour(gray)
    cv2.rectangle(picture.pixels, (10, 20), (300, 400), (255, 80, 200)[::-1], 3)  # a BGR colour, reversed
    cv2.putText(picture.pixels, "1 dent", (12, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 200, 255)[::-1], 1)
    picture.write(tmp_path / "drawn.png")
    expected = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    cv2.rectangle(expected, (10, 20), (300, 400), (255, 80, 200), 3)
    cv2.putText(expected, "1 dent", (12, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 200, 255), 1)
    assert np.array_equal(cv2.imread(str(tmp_path / "drawn.png"), cv2.IMREAD_UNCHANGED), expected)
    assert np.array_equal(_read_checked(tmp_path / "drawn.png")[..., ::-1], expected)
    assert not picture.rows[:, 0].any()  # no drawing reached the filter bytes


def test_a_new_picture_is_black_unless_its_maker_fills_it():
    assert not PngPicture(3, 4).rows.any()
    assert not PngPicture(3, 4, 1, black=False).rows[:, 0].any()  # the filter bytes are set either way


def test_without_writev_the_pieces_are_written_one_by_one(tmp_path, monkeypatch):
    monkeypatch.delattr("os.writev", raising=False)  # Windows has no writev
    image = np.random.default_rng(5).integers(0, 256, (300, 200, 3), dtype=np.uint8)
    write_png(tmp_path / "w.png", image)
    assert np.array_equal(cv2.imread(str(tmp_path / "w.png")), image)


def test_a_picture_too_large_for_one_data_chunk_is_refused_before_anything_is_written(tmp_path):
    def fill(top, pixels):
        raise AssertionError("no band is made for a picture that cannot be stored")

    with pytest.raises(ValueError, match="too large for one PNG data chunk"):
        write_png_bands(tmp_path / "huge.png", 30000, 30000, 3, fill)  # 2.7 GB of rows
    assert not (tmp_path / "huge.png").exists()


@pytest.mark.parametrize("size", [0, 1, 5, ADLER_ROW - 1, ADLER_ROW, ADLER_ROW + 1, 3 * ADLER_ROW + 17, 1_000_003])
@pytest.mark.parametrize("fill", ["random", "all 255"])
def test_adler32_from_sums_is_zlibs(size, fill):
    rng = np.random.default_rng(size)
    data = (rng.integers(0, 256, size, dtype=np.uint8) if fill == "random" else np.full(size, 255, np.uint8)).tobytes()
    assert adler32(memoryview(data)) == zlib.adler32(data)
    for start in (1, zlib.adler32(b"carried on"), 0xFFF0FFF0):  # carried on from earlier bytes, or any value
        assert adler32(memoryview(data), start) == zlib.adler32(data, start)
