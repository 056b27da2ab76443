"""Open untrusted image files safely, and normalise analyser inputs."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import warnings
from pathlib import Path
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError

try:  # HEIF support is optional: without it, HEIF uploads are refused as unsupported.
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIF_AVAILABLE = True
except ImportError:  # pragma: no cover - depends on the environment
    HEIF_AVAILABLE = False

ImageSource = str | os.PathLike | IO[bytes]
ImageInput = Image.Image | str | os.PathLike

DEFAULT_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
DEFAULT_MAX_PIXELS = 50_000_000
#: Longest side accepted: WebP holds at most 16,383 px a side (JPEG 65,535), and analysis and
#: thumbnails re-encode images, so a 1×100,000 strip under the pixel limit would fail later.
DEFAULT_MAX_SIDE = 16_383


class ImageRejected(ValueError):
    """The file is not an image we accept; `reason` is safe to show to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def open_image_checked(
    fp: ImageSource,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: int = DEFAULT_MAX_SIDE,
    formats: tuple[str, ...] = DEFAULT_FORMATS,
    draft: tuple[int, int] | None = None,
) -> Image.Image:
    """Open an image by its content, refuse bombs and broken files, and return it fully loaded."""
    # `draft` lets JPEG decode at a reduced scale (at least that size) for fast analysis;
    # the size before reduction is kept in image.info["source_size"].
    if _is_empty(fp):
        raise ImageRejected("the file is empty")
    start = fp.tell() if hasattr(fp, "tell") else None
    # catch_warnings is process-global, so under threads it is only a second line of defence;
    # the explicit pixel check below is what keeps oversized images out before decoding.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(fp, formats=list(formats))
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            raise ImageRejected(_too_big_reason(None, max_pixels)) from None
        except UnidentifiedImageError:
            raise ImageRejected(_identify_failure(fp, start, formats)) from None
        except (OSError, SyntaxError, ValueError) as exc:
            raise ImageRejected(f"the image header is corrupt ({exc})") from None
        _check_pixels(image, max_pixels, max_side)
        image.info["source_size"] = image.size
        try:
            if draft is not None:
                image.draft("L", draft)
            image.load()
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            raise ImageRejected(_too_big_reason(image, max_pixels)) from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise ImageRejected(f"the {image.format} image is truncated or corrupt ({exc})") from None
    return image


def load_image(image_or_path: ImageInput) -> Image.Image:
    """Return a PIL image for an analyser: pass images through, open paths checked and upright."""
    if isinstance(image_or_path, Image.Image):
        return image_or_path
    image = open_image_checked(image_or_path)
    # Phone photos store orientation in EXIF; analysers must see what the user saw. In place:
    # the image is ours, and a copy of a 12 MP photo is 36 MB more at the work horse's peak.
    ImageOps.exif_transpose(image, in_place=True)
    return image


def _is_empty(fp: ImageSource) -> bool:
    if isinstance(fp, (str, os.PathLike)):
        try:
            return Path(fp).stat().st_size == 0
        except OSError as exc:
            raise ImageRejected(f"the file cannot be read ({exc.strerror or exc})") from None
    position = fp.tell()
    first = fp.read(1)
    fp.seek(position)
    return not first


def _check_pixels(image: Image.Image, max_pixels: int, max_side: int) -> None:
    width, height = image.size
    if width <= 0 or height <= 0:
        raise ImageRejected(f"the image has no pixels ({width}×{height})")
    if max(width, height) > max_side:
        raise ImageRejected(f"the image is {width}×{height} pixels: one side is longer than the limit of "
                            f"{max_side:,} pixels a side")
    if width * height > max_pixels:
        raise ImageRejected(_too_big_reason(image, max_pixels))


def _too_big_reason(image: Image.Image | None, max_pixels: int) -> str:
    limit = f"{max_pixels / 1_000_000:g} megapixels"
    if image is None:
        return f"the image has too many pixels (limit {limit})"
    width, height = image.size
    return f"the image has too many pixels: {width}×{height} is over the limit of {limit}"


def _identify_failure(fp: ImageSource, start: int | None, formats: tuple[str, ...]) -> str:
    # A second, unrestricted open only reads the header; it tells "GIF, not allowed" apart
    # from "not an image at all" so the user knows what to fix.
    if start is not None:
        fp.seek(start)
    try:
        with Image.open(fp) as other:
            found = other.format
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        found = "an oversized image"
    except (OSError, SyntaxError, ValueError):
        return "the file is not an image (its content is not a recognised image format)"
    finally:
        if start is not None:
            fp.seek(start)
    return f"unsupported image format {found}; accepted formats: {', '.join(formats)}"


def _libc_trim():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to call, nothing lost
        return None


_malloc_trim = _libc_trim()


def give_back_freed_memory() -> None:
    """Return the memory of freed images to the system (glibc keeps it for reuse otherwise).

    Called after a full-size photo is let go and before OCR's detector grows: without it the
    detector's buffers come on top of the photo's old pages (a 12 MP photo's horse: 404 → 385
    MB peak; the call takes ~5 ms)."""
    if _malloc_trim is not None:
        _malloc_trim(0)
