import io
import struct
import zlib

import pytest
from PIL import Image

from app.analysis.images import ImageRejected, open_image_checked


def _jpeg_bytes(size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def test_good_jpeg_opens_loaded(tmp_path):
    path = tmp_path / "ok.jpg"
    path.write_bytes(_jpeg_bytes())
    image = open_image_checked(path)
    assert image.format == "JPEG" and image.size == (64, 48)
    assert image.getpixel((10, 10))[0] > 150  # pixels are decoded, not just the header


def test_file_object_is_accepted():
    assert open_image_checked(io.BytesIO(_jpeg_bytes())).size == (64, 48)


def test_text_named_jpg_is_not_an_image(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("name,qty\nwidget,3\n")
    with pytest.raises(ImageRejected, match="not an image"):
        open_image_checked(path)


def test_truncated_jpeg_is_rejected(tmp_path):
    path = tmp_path / "cut.jpg"
    data = _jpeg_bytes((400, 300))
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageRejected, match="truncated or corrupt"):
        open_image_checked(path)


def test_empty_file_is_rejected(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(ImageRejected, match="empty"):
        open_image_checked(path)


def test_png_declaring_huge_size_is_rejected_before_decoding(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_header_only(100_000, 100_000))
    assert path.stat().st_size < 200
    with pytest.raises(ImageRejected, match="too many pixels"):
        open_image_checked(path)


def test_pixel_limit_is_configurable(tmp_path):
    path = tmp_path / "wide.jpg"
    path.write_bytes(_jpeg_bytes((400, 300)))
    with pytest.raises(ImageRejected, match=r"400×300 is over the limit"):
        open_image_checked(path, max_pixels=100_000)


def test_image_in_a_format_not_allowed_names_the_format(tmp_path):
    path = tmp_path / "anim.gif"
    Image.new("P", (10, 10)).save(path, "GIF")
    with pytest.raises(ImageRejected) as caught:
        open_image_checked(path)
    assert "unsupported image format GIF" in caught.value.reason
    assert "JPEG" in caught.value.reason
