"""Making a file's image: the offline generator, the optional image model, storage.

Image work happens outside any open transaction so a slow photo never holds SQLite's write lock.
"""
from __future__ import annotations

from PIL import Image

from app.analysis.images import ImageRejected, open_image_checked
from app.core import ai, storage
from app.core.errors import InvalidInput
from app.techfiles import generators, image_model
from app.techfiles.models import FileType
from app.techfiles.versions import NewFile

GENERATOR_KIND = {FileType.BASE_VIEW: "base_view", FileType.CLOSE_UP: "close_up", FileType.SKETCH: "sketch"}


def with_image_model(rendered: generators.Rendered, file_type: FileType, served: ai.Served) -> generators.Rendered:
    """Hand the offline result to the external image model when one is configured for this type."""
    kind = GENERATOR_KIND[FileType(file_type)]
    image, info = image_model.try_apply(kind, rendered.image, served)
    if image is None:  # off, failed or over budget: the offline image stays, and says why when it matters
        rendered.analysis = {**rendered.analysis, "image_model": info} if info else rendered.analysis
        return rendered
    if file_type == FileType.BASE_VIEW:
        image = generators.centre_on_white(generators.flatten(image), rendered.meta.get("canvas", 1000), fill=1.0)
    score, quality = generators.measure_quality(image)
    # The model's picture is not what the offline measurements describe: keep them under "offline".
    return generators.Rendered(
        image, rendered.format, analysis={"offline": rendered.analysis, "quality": quality, "image_model": info},
        meta=rendered.meta, parameters={**rendered.parameters, "prompt": info["prompt"]}, confidence=None,
        quality=score, category=rendered.category, generator=f"image-model:{info['provider']}", model=info["model"])


def store_rendered(rendered: generators.Rendered, file_type: FileType, *, served: ai.Served,
                   model: bool = True) -> NewFile:
    """Store the image (and smaller standard sizes of a base view) and describe it."""
    if model and file_type in GENERATOR_KIND:
        rendered = with_image_model(rendered, file_type, served)
    data = rendered.encode()
    stored = storage.save_bytes(data)
    meta = dict(rendered.meta)
    if file_type == FileType.BASE_VIEW:
        smaller = [s for s in generators.BASE_SIZES if s < rendered.image.width]
        meta["renditions"] = {str(s): storage.save_bytes(generators.rendition(data, s)).sha256 for s in smaller}
    return NewFile(sha256=stored.sha256, mime=rendered.mime, width=rendered.image.width,
                   height=rendered.image.height,
                   generator=rendered.generator or f"stockroom.{GENERATOR_KIND.get(file_type, 'file')}",
                   model=rendered.model or generators.GENERATOR_VERSION, analysis=rendered.analysis, meta=meta,
                   parameters=rendered.parameters, confidence=rendered.confidence, quality=rendered.quality)


def open_photo(sha256: str) -> Image.Image:
    """A product photo from storage, checked and decoded."""
    try:
        return open_image_checked(storage.open_path(sha256))
    except FileNotFoundError:
        raise InvalidInput("The product photo is no longer in storage; upload it again.") from None
    except ImageRejected as exc:
        raise InvalidInput(f"The product photo cannot be read: {exc.reason}.") from None


def render(file_type: FileType, photo: Image.Image, params: dict | None, category: str = "") -> generators.Rendered:
    """Run the generator of a file type; for a close-up, the region named by `category`."""
    if file_type == FileType.BASE_VIEW:
        return generators.base_view(photo, params)
    if file_type == FileType.SKETCH:
        return generators.sketch(photo, params)
    if file_type == FileType.CLOSE_UP:
        rank = int(category.rsplit("-", 1)[-1]) if category.startswith("region-") else 1
        merged = {**(params or {}), "count": max(rank, int((params or {}).get("count") or 0))}
        found = generators.close_ups(photo, merged)
        match = next((r for r in found if r.category == category), None)
        if match is None:
            raise InvalidInput(f"The photo has no {category.replace('-', ' ')} with these settings.")
        return match
    raise InvalidInput(f"{FileType(file_type).label} files are not generated; upload a replacement instead.")


def parse_params(file_type: FileType, raw: dict | None) -> dict:
    kind = GENERATOR_KIND.get(file_type)
    if kind is None:
        return {}
    out = {}
    for key, default in generators.DEFAULTS[kind].items():
        value = (raw or {}).get(key)
        if value in (None, ""):
            continue
        try:
            out[key] = float(value) if isinstance(default, float) or default is None else int(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"{key.replace('_', ' ').capitalize()} must be a number.", field=key) from None
    return out
