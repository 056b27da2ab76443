"""Checking uploaded photos by content, one verdict per file, and making their thumbnails once."""
from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps

from app.analysis.images import HEIF_AVAILABLE, ImageRejected, open_image_checked
from app.core import storage
from app.pipeline.settings import setting

MAX_FILES = 20
THUMB_SIZE = (360, 360)
MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "HEIF": "image/heif"}


def accepted_formats() -> tuple[str, ...]:
    return ("JPEG", "PNG", "WEBP", "HEIF") if HEIF_AVAILABLE else ("JPEG", "PNG", "WEBP")


def max_file_bytes() -> int:
    return setting("PIPELINE_MAX_FILE_BYTES")


def max_request_bytes() -> int:
    return setting("PIPELINE_MAX_UPLOAD_BYTES")


def max_image_side() -> int:
    return setting("PIPELINE_MAX_IMAGE_SIDE")


@dataclass
class CheckedImage:
    filename: str
    data: bytes
    format: str
    width: int
    height: int


@dataclass
class FileError:
    filename: str
    reason: str


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def check_files(files: list[tuple[str, object]]) -> tuple[list[CheckedImage], list[FileError]]:
    """Read and check each (filename, stream); good files and a reason for every bad one."""
    good: list[CheckedImage] = []
    bad: list[FileError] = []
    per_file, per_request, total = max_file_bytes(), max_request_bytes(), 0
    for index, (filename, stream) in enumerate(files):
        label = (filename or f"file {index + 1}").strip()[:255]
        if len(good) >= MAX_FILES:
            bad.append(FileError(label, f"only {MAX_FILES} images per product; this one was not added"))
            continue
        data = stream.read(per_file + 1)
        if len(data) > per_file:
            bad.append(FileError(label, f"the file is larger than the limit of {_mb(per_file)}"))
            continue
        if total + len(data) > per_request:
            bad.append(FileError(label, f"the upload went over {_mb(per_request)} in all; send this one again"))
            continue
        try:
            checked = check_bytes(label, data)
        except ImageRejected as exc:
            bad.append(FileError(label, exc.reason))
            continue
        total += len(data)
        good.append(checked)
    return good, bad


def check_bytes(filename: str, data: bytes) -> CheckedImage:
    """Open the bytes as an image we accept, fully decoded under the pixel limit."""
    with open_image_checked(io.BytesIO(data), max_pixels=setting("PIPELINE_MAX_PIXELS"),
                            max_side=max_image_side(), formats=accepted_formats()) as image:
        return CheckedImage(filename, data, image.format, image.width, image.height)


def make_thumbnail(data: bytes) -> bytes:
    """A small upright JPEG of an already checked image."""
    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (THUMB_SIZE[0] * 2, THUMB_SIZE[1] * 2))
        thumb = ImageOps.exif_transpose(image)
        thumb.thumbnail(THUMB_SIZE)
        if thumb.mode not in ("RGB", "L"):
            thumb = thumb.convert("RGBA")
            background = Image.new("RGB", thumb.size, "white")
            background.paste(thumb, mask=thumb.getchannel("A"))
            thumb = background
        out = io.BytesIO()
        thumb.save(out, "JPEG", quality=82, optimize=True)
        return out.getvalue()


def store(checked: CheckedImage) -> tuple[str, str]:
    """Store the original and its thumbnail by content hash; returns (sha256, thumb_sha256)."""
    original = storage.save_bytes(checked.data)
    thumb = storage.save_bytes(make_thumbnail(checked.data))
    return original.sha256, thumb.sha256


@dataclass(frozen=True)
class StoredImage:
    checked: CheckedImage
    sha256: str
    thumb_sha256: str


def check_and_store(files: list[tuple[str, object]], *, all_or_nothing: bool = False
                    ) -> tuple[list[StoredImage], list[FileError]]:
    """Check every file and store the good ones (with `all_or_nothing`, none when one is bad).

    Decoding, checking and thumbnailing photos takes seconds, so it runs with no write lock held:
    other requests never wait on it. Files are stored by content, so one stored for a transaction
    that then fails is harmless, and the next upload of the same photo reuses it."""
    from app.core.database import outside_write_lock

    with outside_write_lock():
        good, bad = check_files(files)
        if bad and all_or_nothing:
            return [], bad
        return [StoredImage(checked, *store(checked)) for checked in good], bad
