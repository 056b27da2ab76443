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
# transforms below (sharpening above all) make that more likely; see `settled` for how votes
# decide. The untouched photo counts as two readings; a transformed copy as one.
PLAIN_VOTES = 2
VOTES_NEEDED = 2
MAJORITY = 2
CONFIRM_VARIANTS = 3
EARLY_STOP_VOTES = 4
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


@dataclass(frozen=True)
class Candidate:
    """A text some reading of the photo decoded, and how many readings agreed on it.

    `votes` counts the image variants that decoded this text (the untouched photo counts
    PLAIN_VOTES); `conflicts` are other retail texts decoded at the same place in the photo,
    which means at least one of them is a misread."""

    format: str
    text: str
    votes: int
    plain: bool
    position: tuple[tuple[int, int], ...] | None = None
    conflicts: tuple[str, ...] = ()

    @property
    def retail(self) -> bool:
        return self.format in _RETAIL

    def as_barcode(self) -> Barcode:
        return Barcode(format=self.format, text=self.text, position=self.position)


def read_barcodes(
    image_or_path: ImageInput, *, try_harder: bool = True, time_budget: float = 1.5
) -> list[Barcode]:
    """Decode barcodes at full resolution; if none, try transformed copies within time_budget seconds.

    Only reads the votes settle are returned (see `settled`); `read_candidates` gives them all."""
    return [c.as_barcode() for c in settled(read_candidates(image_or_path, try_harder=try_harder,
                                                            time_budget=time_budget))]


def read_candidates(
    image_or_path: ImageInput, *, try_harder: bool = True, time_budget: float = 1.5, full: bool = False
) -> list[Candidate]:
    """Every text decoded from the photo and its transformed copies, with votes and conflicts.

    A retail code read from the untouched photo is checked against CONFIRM_VARIANTS copies: a
    blurry photo can decode to a wrong number whose check digit still passes, and a different
    number at the same place in a copy shows it. On a conflict (or with `full`), every copy is
    read within the time budget and the votes decide (see `settled`)."""
    image = load_image(image_or_path)
    tally = _Tally()
    for barcode in _read(image, None):
        tally.add(barcode, PLAIN_VOTES, plain=True)
    # Nothing below 8 px can hold a barcode, and transforms of such slivers are empty.
    if not try_harder or min(image.size) < 8:
        return tally.candidates()
    deadline = time.monotonic() + time_budget
    has_plain_retail = any(c.retail for c in tally.candidates())
    for n, variant in enumerate(_variants(image)):
        if time.monotonic() > deadline:
            break
        if tally.settled_enough(full=full, confirming=has_plain_retail, tried=n):
            break
        candidate = variant.make()
        if min(candidate.size) < 8:
            continue
        for barcode in _read(candidate, variant.undo, variant.binarizer):
            tally.add(barcode, 1)
    return tally.candidates()


def settled(candidates: list[Candidate]) -> list[Candidate]:
    """The candidates the votes alone settle.

    Other symbologies carry their own error correction (QR) or a check that rarely passes by
    accident (Code 128): one reading is enough. A retail code (EAN/UPC, one check digit, so one
    misread in ten passes it) needs VOTES_NEEDED readings and, when another number was decoded at
    the same place, at least MAJORITY times that number's votes; otherwise neither is kept (the
    printed digits may still settle it, see app.analysis.printed_digits)."""
    by_text = {c.text: c for c in candidates}
    kept = []
    for c in candidates:
        if not c.retail:
            kept.append(c)
            continue
        rival = max((by_text[t].votes for t in c.conflicts if t in by_text), default=0)
        if c.votes >= VOTES_NEEDED and c.votes >= MAJORITY * rival:
            kept.append(c)
    return kept


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
    backwards = payload[::-1]
    total = 3 * sum(map(int, backwards[0::2])) + sum(map(int, backwards[1::2]))
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


class _Tally:
    """Votes per decoded text, and which retail texts were decoded at the same place."""

    def __init__(self) -> None:
        self.votes: Counter[tuple[str, str]] = Counter()
        self.first: dict[tuple[str, str], Barcode] = {}
        self.plain: set[tuple[str, str]] = set()

    def add(self, barcode: Barcode, votes: int, *, plain: bool = False) -> None:
        key = (barcode.format, barcode.text)
        self.votes[key] += votes
        self.first.setdefault(key, barcode)
        if plain:
            self.plain.add(key)

    def conflicts(self, key: tuple[str, str]) -> tuple[str, ...]:
        if key[0] not in _RETAIL:
            return ()
        mine = self.first[key]
        return tuple(other[1] for other, barcode in self.first.items()
                     if other != key and other[0] in _RETAIL and _same_place(mine, barcode))

    def settled_enough(self, *, full: bool, confirming: bool, tried: int) -> bool:
        """Stop reading copies when more votes cannot change the outcome much."""
        if full:
            return False
        retail = [k for k in self.votes if k[0] in _RETAIL]
        if any(self.conflicts(k) for k in retail):
            return False  # a misread somewhere: read every copy and let the votes decide
        if confirming:
            return tried >= CONFIRM_VARIANTS
        if retail:
            return max(self.votes[k] for k in retail) >= EARLY_STOP_VOTES
        return bool(self.votes)  # a QR or Code 128 read: carry its own checks

    def candidates(self) -> list[Candidate]:
        return [Candidate(format=k[0], text=k[1], votes=n, plain=k in self.plain, position=self.first[k].position,
                          conflicts=self.conflicts(k))
                for k, n in sorted(self.votes.items(), key=lambda kv: -kv[1])]


def _same_place(a: Barcode, b: Barcode) -> bool:
    """Two reads lie on the same symbol when their centres are closer than half the longer one."""
    if a.position is None or b.position is None:
        return True  # unknown: assume the worst, they compete
    (ax, ay), alen = _centre_and_length(a.position)
    (bx, by), blen = _centre_and_length(b.position)
    return math.hypot(ax - bx, ay - by) < 0.5 * max(alen, blen, 1.0)


def _centre_and_length(points: tuple[tuple[int, int], ...]) -> tuple[tuple[float, float], float]:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    centre = (sum(xs) / len(xs), sum(ys) / len(ys))
    length = math.hypot(points[1][0] - points[0][0], points[1][1] - points[0][1])
    return centre, length


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
