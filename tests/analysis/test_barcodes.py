from pathlib import Path

import pytest

from app.analysis.barcodes import (
    Barcode,
    expand_upce,
    is_valid_gtin,
    normalise_gtin,
    read_barcodes,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "barcodes"


def _expected(image: Path) -> str:
    return image.with_suffix(".txt").read_text(encoding="utf-8").strip()


def _images(folder: str) -> list[Path]:
    return sorted(p for p in (FIXTURES / folder).iterdir() if p.suffix != ".txt")


@pytest.mark.parametrize(
    "name",
    ["ean13-1/10.webp", "ean13-1/34.webp", "ean13-2/12.webp", "ean13-2/17.webp", "upca-2/02.webp", "upca-2/28.webp", "upca-2/49.webp"],
)
def test_retail_barcode_photos_decode_to_expected_gtin(name):
    image = FIXTURES / name
    texts = [b.text for b in read_barcodes(image)]
    assert texts == [_expected(image)]


def test_hard_photos_need_try_harder():
    image = FIXTURES / "ean13-2/17.webp"
    assert read_barcodes(image, try_harder=False) == []
    found = read_barcodes(image)
    assert [(b.format, b.text) for b in found] == [("EAN-13", "9784872348880")]


@pytest.mark.parametrize("image", _images("qrcode-2"), ids=lambda p: p.name)
def test_qr_photos_decode(image):
    found = read_barcodes(image)
    assert [b.format for b in found] == ["QR Code"]
    assert found[0].text.strip() == _expected(image)


@pytest.mark.parametrize("image", _images("falsepositives-1"), ids=lambda p: p.name)
def test_photos_without_barcodes_give_nothing(image):
    assert read_barcodes(image) == []


def test_position_is_in_original_image_coordinates():
    from PIL import Image

    image = FIXTURES / "ean13-1/10.webp"
    (barcode,) = read_barcodes(image)
    width, height = Image.open(image).size
    assert isinstance(barcode, Barcode) and barcode.position is not None
    assert all(0 <= x <= width and 0 <= y <= height for x, y in barcode.position)


@pytest.mark.parametrize(
    "text, valid",
    [
        ("4006381333931", True),  # EAN-13
        ("4006381333932", False),  # wrong check digit
        ("036000291452", True),  # UPC-A
        ("73513537", True),  # EAN-8
        ("10614141000415", True),  # GTIN-14
        ("12345", False),
        ("40063813339a1", False),
        ("", False),
    ],
)
def test_is_valid_gtin(text, valid):
    assert is_valid_gtin(text) is valid


def test_normalise_gtin():
    assert normalise_gtin("036000291452") == "0036000291452"
    assert normalise_gtin(" 4006381333931 ") == "4006381333931"
    assert normalise_gtin("00036000291452") == "0036000291452"
    assert normalise_gtin("036000291453") is None


def test_expand_upce():
    assert expand_upce("04252614") == "042100005264"
    assert is_valid_gtin(expand_upce("04252614"))
    assert expand_upce("1234") is None
