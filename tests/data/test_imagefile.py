"""Looking at image files without decoding them: size, format, orientation, completeness, hash."""

from __future__ import annotations

from PIL import Image

from cardgrader.data.imagefile import PEEK, probe, same_bytes
from cardgrader.data.layout import jpeg_is_complete

from . import formats as fx


def codes(result):
    return [f.code for f in result.findings]


def test_jpeg_and_png_headers(odd_dir):
    jpeg = fx.image(odd_dir / "a photo.jpg", w=123, h=77)
    png = fx.image(odd_dir / "a photo.png", w=64, h=48)
    for path, size, fmt in ((jpeg, (123, 77), "jpeg"), (png, (64, 48), "png")):
        result = probe(path)
        assert (result.width, result.height, result.format) == (*size, fmt)
        assert result.readable and result.complete and not result.findings


def test_other_formats_go_through_pillow(tmp_path):
    path = tmp_path / "scan.bmp"
    Image.new("RGB", (40, 30), (10, 200, 30)).save(path)
    result = probe(path)
    assert (result.width, result.height, result.format) == (40, 30, "bmp") and result.readable


def test_exif_orientation_is_read_and_reported(tmp_path):
    path = tmp_path / "phone.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    Image.new("RGB", (60, 40), (120, 120, 120)).save(path, exif=exif.tobytes())
    result = probe(path)
    assert result.orientation == 6 and (result.width, result.height) == (60, 40)
    assert codes(result) == ["exif_rotated"] and result.findings[0].severity == "warning"


def test_truncated_jpeg_and_png(tmp_path):
    for suffix in (".jpg", ".png"):
        whole = fx.image(tmp_path / f"whole{suffix}")
        cut = tmp_path / f"cut{suffix}"
        cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 2 // 3])
        result = probe(cut)
        assert codes(result) == ["truncated_image"] and not result.readable and not result.complete


def test_bytes_after_the_jpeg_end_marker_are_a_warning_and_never_linked(tmp_path):
    path = fx.image(tmp_path / "trailer.jpg")
    path.write_bytes(path.read_bytes() + b"\x00extra maker notes")
    result = probe(path)
    assert codes(result) == ["jpeg_trailing_data"] and result.readable and not result.complete
    assert not jpeg_is_complete(path)


def test_empty_text_and_tiny_files(tmp_path):
    (tmp_path / "zero.jpg").write_bytes(b"")
    (tmp_path / "text.png").write_text("not a picture", encoding="utf-8")
    (tmp_path / "noise.webp").write_bytes(bytes(range(256)) * 4)
    tiny = fx.image(tmp_path / "tiny.jpg", w=8, h=8)
    assert codes(probe(tmp_path / "zero.jpg")) == ["empty_image"]
    assert codes(probe(tmp_path / "text.png")) == ["not_an_image"]
    assert "holds text" in probe(tmp_path / "text.png").findings[0].message
    assert "Pillow does not recognise" in probe(tmp_path / "noise.webp").findings[0].message
    assert codes(probe(tiny)) == ["tiny_image"]
    assert codes(probe(tmp_path / "absent.jpg")) == ["unreadable_image"]


def test_the_content_key_is_equal_for_equal_files_and_duplicates_are_confirmed_byte_for_byte(tmp_path):
    big = fx.image(tmp_path / "big.png", w=400, h=300)  # larger than the bytes read from each end
    assert big.stat().st_size > 3 * PEEK
    twin = tmp_path / "twin.png"
    twin.write_bytes(big.read_bytes())
    data = bytearray(big.read_bytes())
    data[len(data) // 2] ^= 0xFF  # differs only in the middle, which the key does not read
    impostor = tmp_path / "impostor.png"
    impostor.write_bytes(bytes(data))
    keys = {p.name: probe(p).digest for p in (big, twin, impostor)}
    assert keys["big.png"] == keys["twin.png"] == keys["impostor.png"]
    groups = same_bytes([str(big), str(twin), str(impostor)])
    assert {frozenset(g) for g in groups} == {frozenset([str(big), str(twin)]), frozenset([str(impostor)])}
    assert probe(fx.image(tmp_path / "other.png", seed=5)).digest != keys["big.png"]


def test_a_jpeg_header_longer_than_the_first_bytes_read(tmp_path):
    """Phone photos carry EXIF blocks and thumbnails of tens of kilobytes before the image size."""
    plain = fx.image(tmp_path / "plain.jpg", w=150, h=90).read_bytes()
    exif = Image.Exif()
    exif[0x0112] = 3
    app1 = exif.tobytes()  # starts with Exif\0\0
    padding = b"ICC_PROFILE\x00" + bytes(60000)
    segments = b"".join(b"\xff" + bytes([marker]) + (len(body) + 2).to_bytes(2, "big") + body
                        for marker, body in ((0xE1, app1), (0xE2, padding)))
    phone = tmp_path / "phone.jpg"
    phone.write_bytes(plain[:2] + segments + plain[2:])
    result = probe(phone)
    assert (result.width, result.height, result.orientation, result.complete) == (150, 90, 3, True)
    assert [f.code for f in result.findings] == ["exif_rotated"]
