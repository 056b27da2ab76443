"""Optional external image model for tech files; off unless TECHFILES_IMAGE_MODEL_URL is set.

The one implementation speaks the OpenAI-compatible image edit call:

    POST {TECHFILES_IMAGE_MODEL_URL}/images/edits     Authorization: Bearer {TECHFILES_IMAGE_MODEL_TOKEN}
    multipart: image=<PNG>, prompt=<text>, model=<TECHFILES_IMAGE_MODEL>, response_format=b64_json
    200 {"data": [{"b64_json": "<PNG or JPEG>"}]}

The offline generator always runs first (object found, cropped and centred); the model only
turns that prepared image into the file. TECHFILES_IMAGE_MODEL_KINDS lists the file types that use
it (default: sketch). Its answer is checked like an upload before it is stored.
"""
from __future__ import annotations

import base64
import io
import json
import os
import time
import urllib.error
import urllib.request
import uuid
from typing import Protocol

from flask import current_app
from PIL import Image

from app.analysis.images import ImageRejected, open_image_checked
from app.core.errors import DomainError

MAX_RESPONSE_BYTES = 40 * 1024 * 1024
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

    def transform(self, *, kind: str, image: Image.Image, prompt: str) -> Image.Image:
        """The model's image for this input; ImageModelError when it fails."""


class OpenAICompatibleImageModel:
    """The image edit call described in the module doc."""

    name = "openai-compatible"

    def __init__(self, url: str, model: str, token: str | None = None, timeout: float = 120.0):
        self.url, self.model, self.token, self.timeout = url.rstrip("/"), model, token, timeout

    def transform(self, *, kind: str, image: Image.Image, prompt: str) -> Image.Image:
        png = io.BytesIO()
        image.convert("RGB").save(png, "PNG")
        body, content_type = _multipart({"prompt": prompt, "model": self.model, "response_format": "b64_json"},
                                        ("image", "image.png", "image/png", png.getvalue()))
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(f"{self.url}/images/edits", data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (configured URL)
                raw = response.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            raise ImageModelError(f"the image model answered HTTP {exc.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise ImageModelError(f"the image model could not be reached ({getattr(exc, 'reason', exc)})") from None
        if len(raw) > MAX_RESPONSE_BYTES:
            raise ImageModelError("the image model's answer is too large")
        try:
            b64 = json.loads(raw)["data"][0]["b64_json"]
            data = base64.b64decode(b64, validate=True)
            return open_image_checked(io.BytesIO(data), formats=("PNG", "JPEG", "WEBP"))
        except ImageRejected as exc:  # before ValueError: it is one
            raise ImageModelError(f"the image model's image is unusable: {exc.reason}") from None
        except (ValueError, KeyError, IndexError, TypeError):
            raise ImageModelError("the image model's answer has no image in it") from None


def _multipart(fields: dict[str, str], file: tuple[str, str, str, bytes]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for key, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode())
    name, filename, mime, data = file
    out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
              f"Content-Type: {mime}\r\n\r\n".encode())
    out.write(data)
    out.write(f"\r\n--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def _setting(name: str, default: str | None = None) -> str | None:
    return current_app.config.get(name) or os.environ.get(name) or default


def configured_for(kind: str) -> ImageModel | None:
    """The image model to use for a file type, or None (the default: everything offline)."""
    url = _setting("TECHFILES_IMAGE_MODEL_URL")
    if not url:
        return None
    kinds = {k.strip() for k in (_setting("TECHFILES_IMAGE_MODEL_KINDS", "sketch") or "").split(",") if k.strip()}
    if kind not in kinds:
        return None
    return OpenAICompatibleImageModel(url, _setting("TECHFILES_IMAGE_MODEL", "gpt-image-1") or "gpt-image-1",
                                      _setting("TECHFILES_IMAGE_MODEL_TOKEN"))


def apply(model: ImageModel, kind: str, prepared: Image.Image) -> tuple[Image.Image, dict]:
    """Run the model on the offline generator's image; returns its image and what to record."""
    prompt = PROMPTS[kind]
    started = time.monotonic()
    result = model.transform(kind=kind, image=prepared, prompt=prompt)
    return result, {"provider": model.name, "model": model.model, "prompt": prompt,
                    "duration_ms": int((time.monotonic() - started) * 1000)}
