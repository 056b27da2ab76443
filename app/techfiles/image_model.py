"""Optional external image model for tech files; off unless TECHFILES_IMAGE_MODEL_URL is set.

The one implementation speaks the OpenAI-compatible image edit call (through app.core.ai):

    POST {TECHFILES_IMAGE_MODEL_URL}/images/edits     Authorization: Bearer {TECHFILES_IMAGE_MODEL_TOKEN}
    multipart: image=<PNG>, prompt=<text>, model=<TECHFILES_IMAGE_MODEL>, response_format=b64_json
    200 {"data": [{"b64_json": "<PNG or JPEG>"}]}

The offline generator always runs first (object found, cropped and centred); the model only
turns that prepared image into the file. TECHFILES_IMAGE_MODEL_KINDS lists the file types that use
it (default: sketch). Its answer is checked like an upload before it is stored. When the model
fails, or the monthly AI budget is used up, the offline image is kept and the reason is recorded
in the file's analysis (`image_model.fallback_reason`).
"""
from __future__ import annotations

import io
import time
from typing import Protocol

from flask import current_app
from PIL import Image

from app.analysis.images import ImageRejected, open_image_checked
from app.core import ai
from app.core.errors import DomainError

PROMPTS = {
    "base_view": "Clean product photo of this object, centred on a pure white background, no shadows.",
    "close_up": "Sharp, evenly lit close-up of this detail of the product.",
    "sketch": "Technical line drawing of this product: black lines on white, no shading, no text.",
}


class ImageModelError(DomainError):
    """The image model could not be asked or answered something unusable."""

    status = 502


class ImageModel(Protocol):
    name: str
    model: str

    def transform(self, *, kind: str, image: Image.Image, prompt: str, served: ai.Served) -> Image.Image:
        """The model's image for this input; ImageModelError when it fails."""


class OpenAICompatibleImageModel:
    """The image edit call described in the module doc."""

    name = "openai-compatible"

    def __init__(self, feature: ai.Feature):
        self.feature, self.model = feature, feature.model

    def transform(self, *, kind: str, image: Image.Image, prompt: str, served: ai.Served) -> Image.Image:
        png = io.BytesIO()
        image.convert("RGB").save(png, "PNG")
        try:
            return ai.images(self.feature, served, prompt, image=png.getvalue(), read=_checked).value
        except ai.AIError as exc:
            raise ImageModelError(exc.reason if isinstance(exc, ai.OverBudget) else f"the {exc}") from None


def _checked(data: bytes) -> Image.Image:
    try:
        return open_image_checked(io.BytesIO(data), formats=("PNG", "JPEG", "WEBP"))
    except ImageRejected as exc:
        raise ai.AIError(f"sent an image that is unusable: {exc.reason}") from None


def configured_for(kind: str) -> ImageModel | None:
    """The image model to use for a file type, or None (the default: everything offline)."""
    if not ai.enabled("techfiles_image"):
        return None
    kinds = {k.strip() for k in str(current_app.config.get("TECHFILES_IMAGE_MODEL_KINDS") or "sketch").split(",")}
    if kind not in kinds:
        return None
    try:
        feature = ai.feature("techfiles_image")
    except ai.AIError as exc:
        raise ImageModelError(str(exc)) from None
    return OpenAICompatibleImageModel(feature) if feature else None


def apply(model: ImageModel, kind: str, prepared: Image.Image, served: ai.Served) -> tuple[Image.Image, dict]:
    """Run the model on the offline generator's image; returns its image and what to record."""
    prompt = PROMPTS[kind]
    started = time.monotonic()
    result = model.transform(kind=kind, image=prepared, prompt=prompt, served=served)
    return result, {"provider": model.name, "model": model.model, "prompt": prompt,
                    "duration_ms": int((time.monotonic() - started) * 1000)}


def try_apply(kind: str, prepared: Image.Image, served: ai.Served) -> tuple[Image.Image | None, dict | None]:
    """(the model's image, what to record), or (None, the reason the offline image stays) or (None, None) when off."""
    try:
        model = configured_for(kind)
        if model is None:
            return None, None
        return apply(model, kind, prepared, served)
    except ImageModelError as exc:
        return None, {"fallback_reason": f"{exc.message}; the offline image was kept"}


def planned(kind: str) -> tuple[str, str] | None:
    """(generator, model) the image model would make a file of this kind with; None when off or unusable."""
    try:
        model = configured_for(kind)
    except ImageModelError:
        return None
    return (f"image-model:{model.name}", model.model) if model is not None else None
