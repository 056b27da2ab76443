"""Read retail barcodes and QR codes from photos with zxing-cpp, trying harder when needed."""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import zxingcpp
from PIL import Image, ImageFilter, ImageOps

from app.analysis.images import ImageInput, load_image

_F = zxingcpp.BarcodeFormat
FORMATS = [_F.EAN13, _F.EAN8, _F.UPCA, _F.UPCE, _F.Code128, _F.QRCode]
_RETAIL = {"EAN-13", "EAN-8", "UPC-A", "UPC-E"}
# A blurry photo can decode to a wrong number whose check digit still passes, and the
# transforms below (sharpening above all) make that more likely; so a linear code found only
# by a transformed image must be read the same way by two different transforms.
_VOTES_NEEDED = 2
# Upscaling helps only when bars are thinner than ~3 px per module; big photos are slow to scan.
_UPSCALE_MAX_SIDE = 1200
_SHARP = ImageFilter.UnsharpMask(radius=2, percent=150, threshold=2)
_SHARP_SOFT = ImageFilter.UnsharpMask(radius=1, percent=100, threshold=0)
_SHARP_STRONG = ImageFilter.UnsharpMask(radius=3, percent=250, threshold=3)


@dataclass(frozen=True)
class Barcode:
    """One decoded symbol; `position` is its corner points in the original image, when known."""

    format: str
    text: str
    position: tuple[tuple[int, int], ...] | None = None


def read_barcodes(
    image_or_path: ImageInput, *, try_harder: bool = True, time_budget: float = 1.5
) -> list[Barcode]:
    """Decode barcodes at full resolution; if none, try transformed copies within time_budget seconds."""
    image = load_image(image_or_path)
    found = _read(image, None)
    # Nothing below 8 px can hold a barcode, and transforms of such slivers are empty.
    if found or not try_harder or min(image.size) < 8:
        return found
    return _read_harder(image, time.monotonic() + time_budget)


def is_valid_gtin(text: str) -> bool:
    """True if text is an 8, 12, 13 or 14 digit GTIN whose check digit is right."""
    digits = text.strip()
    if len(digits) not in (8, 12, 13, 14) or not digits.isdigit():
        return False
    return _check_digit(digits[:-1]) == int(digits[-1])


def normalise_gtin(text: str) -> str | None:
    """Return a valid GTIN as 13 digits (UPC-A gains a leading 0), GTIN-8/14 as is; else None."""
    digits = text.strip()
    if not is_valid_gtin(digits):
        return None
    if len(digits) == 12:
        return "0" + digits
    if len(digits) == 14 and digits.startswith("0"):
        return digits[1:]
    return digits


def expand_upce(text: str) -> str | None:
    """Expand an 8-digit UPC-E code to its 12-digit UPC-A form, or None if it is not UPC-E."""
    if len(text) != 8 or not text.isdigit() or text[0] not in "01":
        return None
    system, body, check = text[0], text[1:7], text[7]
    last = body[5]
    if last in "012":
        middle = body[0:2] + last + "0000" + body[2:5]
    elif last == "3":
        middle = body[0:3] + "00000" + body[3:5]
    elif last == "4":
        middle = body[0:4] + "00000" + body[4]
    else:
        middle = body[0:5] + "0000" + last
    return system + middle + check


def _check_digit(payload: str) -> int:
    # GS1 weights alternate 3,1,… from the rightmost payload digit, for every GTIN length.
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(payload)))
    return (10 - total % 10) % 10


def _read(
    image: Image.Image,
    undo: Callable[[float, float], tuple[float, float]] | None,
    binarizer: zxingcpp.Binarizer = zxingcpp.Binarizer.LocalAverage,
) -> list[Barcode]:
    results = zxingcpp.read_barcodes(image, formats=FORMATS, binarizer=binarizer)
    seen: dict[tuple[str, str], Barcode] = {}
    for result in results:
        barcode = _to_barcode(result, undo)
        if barcode is not None:
            seen.setdefault((barcode.format, barcode.text), barcode)
    return list(seen.values())


def _to_barcode(result: zxingcpp.Barcode, undo) -> Barcode | None:
    fmt = _format_name(result.format)
    text = result.text
    if fmt in _RETAIL and not _retail_text_valid(fmt, text):
        return None
    return Barcode(format=fmt, text=text, position=_position(result.position, undo))


def _format_name(fmt: zxingcpp.BarcodeFormat) -> str:
    # zxing-cpp 3 spells names "EAN-13", "UPC-A", "QR Code": the labels people know.
    return str(fmt)


def _retail_text_valid(fmt: str, text: str) -> bool:
    if fmt == "UPC-E":
        expanded = expand_upce(text)
        return expanded is not None and is_valid_gtin(expanded)
    return is_valid_gtin(text)


def _position(position, undo) -> tuple[tuple[int, int], ...] | None:
    if position is None:
        return None
    corners = (position.top_left, position.top_right, position.bottom_right, position.bottom_left)
    points = []
    for corner in corners:
        x, y = float(corner.x), float(corner.y)
        if undo is not None:
            x, y = undo(x, y)
        points.append((round(x), round(y)))
    return tuple(points)


@dataclass(frozen=True)
class _Variant:
    name: str
    make: Callable[[], Image.Image]
    undo: Callable[[float, float], tuple[float, float]] | None = None
    binarizer: zxingcpp.Binarizer = zxingcpp.Binarizer.LocalAverage


def _read_harder(image: Image.Image, deadline: float) -> list[Barcode]:
    votes: Counter[tuple[str, str]] = Counter()
    first: dict[tuple[str, str], Barcode] = {}
    for variant in _variants(image):
        if time.monotonic() > deadline:
            break
        candidate = variant.make()
        if min(candidate.size) < 8:
            continue
        for barcode in _read(candidate, variant.undo, variant.binarizer):
            key = (barcode.format, barcode.text)
            votes[key] += 1
            first.setdefault(key, barcode)
        accepted = [first[k] for k, n in votes.items() if n >= _VOTES_NEEDED or k[0] not in _RETAIL]
        if accepted:
            return accepted
    return []


def _variants(image: Image.Image) -> Iterator[_Variant]:
    """Transformed copies in the order that paid off on real photos; each is built lazily."""
    gray = image.convert("L")
    width, height = gray.size
    small = max(width, height) <= _UPSCALE_MAX_SIDE

    def scaled(factor: int, source: Image.Image = gray) -> Image.Image:
        return source.resize((source.width * factor, source.height * factor), Image.Resampling.LANCZOS)

    def unscale(factor: int):
        return lambda x, y: (x / factor, y / factor)

    yield _Variant("autocontrast", lambda: ImageOps.autocontrast(gray, cutoff=1))
    yield _Variant("sharpen", lambda: gray.filter(_SHARP))
    if small:
        yield _Variant("up2", lambda: scaled(2), unscale(2))
        yield _Variant("up2-sharpen", lambda: scaled(2).filter(_SHARP), unscale(2))
    yield _Variant("soft-sharpen-contrast", lambda: ImageOps.autocontrast(gray.filter(_SHARP_SOFT), cutoff=2))
    yield _Variant("global-threshold", lambda: gray, binarizer=zxingcpp.Binarizer.GlobalHistogram)
    if small:
        yield _Variant("up3", lambda: scaled(3), unscale(3))
        yield _Variant("up3-sharpen", lambda: scaled(3).filter(_SHARP), unscale(3))
    for angle in (-4, 4, -8, 8, -15, 15):
        yield _rotated(f"rotate{angle}", gray, angle)
        yield _rotated(f"rotate{angle}-sharpen", gray, angle, _SHARP)
        yield _rotated(f"rotate{angle}-soft", gray, angle, _SHARP_SOFT, contrast=True)
    if small:
        for angle in (-4, 4):
            yield _rotated(f"up2-rotate{angle}", gray, angle, scale=2)
    yield _Variant("strong-sharpen", lambda: gray.filter(_SHARP_STRONG))
    for angle in (90, 180, 270):
        yield _rotated(f"rotate{angle}", gray, angle)
    yield from _crops(gray, upscale=small)


def _rotated(name, gray, angle, sharpen=None, contrast=False, scale=1) -> _Variant:
    def make() -> Image.Image:
        source = gray
        if scale != 1:
            source = source.resize((gray.width * scale, gray.height * scale), Image.Resampling.LANCZOS)
        if sharpen is not None:
            source = source.filter(sharpen)
        if contrast:
            source = ImageOps.autocontrast(source, cutoff=2)
        # expand=True keeps the corners; white fill gives the quiet zone a barcode needs.
        return source.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)

    return _Variant(name, make, _unrotate(gray.size, angle, scale))


def _unrotate(size: tuple[int, int], angle: float, scale: int):
    w, h = size[0] * scale, size[1] * scale
    rad = math.radians(angle)
    cos, sin = math.cos(rad), math.sin(rad)
    new_w = abs(w * cos) + abs(h * sin)
    new_h = abs(w * sin) + abs(h * cos)

    def undo(x: float, y: float) -> tuple[float, float]:
        # PIL rotates counter-clockwise about the centre; map back with the inverse rotation.
        dx, dy = x - new_w / 2, y - new_h / 2
        ox = dx * cos - dy * sin + w / 2
        oy = dx * sin + dy * cos + h / 2
        return ox / scale, oy / scale

    return undo


def _crops(gray: Image.Image, *, upscale: bool) -> Iterator[_Variant]:
    width, height = gray.size
    # 60 % windows overlap by 20 %, so a code cut by one boundary is whole in another window.
    spans = [(0.0, 0.6), (0.4, 1.0)]
    boxes = [(int(x0 * width), 0, int(x1 * width), height) for x0, x1 in spans]
    boxes += [(0, int(y0 * height), width, int(y1 * height)) for y0, y1 in spans]
    boxes += [
        (int(x0 * width), int(y0 * height), int(x1 * width), int(y1 * height))
        for y0, y1 in spans
        for x0, x1 in spans
    ]
    for box in boxes:
        factor = 2 if upscale else 1
        yield _Variant(
            f"crop{box}",
            lambda box=box, factor=factor: _crop_scaled(gray, box, factor),
            lambda x, y, box=box, factor=factor: (x / factor + box[0], y / factor + box[1]),
        )


def _crop_scaled(gray: Image.Image, box: tuple[int, int, int, int], factor: int) -> Image.Image:
    crop = gray.crop(box)
    if factor == 1:
        return crop
    return crop.resize((crop.width * factor, crop.height * factor), Image.Resampling.LANCZOS)
