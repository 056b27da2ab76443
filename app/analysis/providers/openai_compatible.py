"""An OpenAI-compatible vision model that names the product in a photo (off by default).

Enabled when VISION_API_URL and VISION_MODEL are set (VISION_API_KEY when the server needs one).
VISION_PRICE_PROMPT and VISION_PRICE_COMPLETION (per million tokens, in VISION_CURRENCY, default
USD) turn the token counts every answer reports into a cost; without them the cost is unknown
and stored as such, never guessed. Its answer is evidence like any other: it is matched against
the catalogue, never trusted as the identification by itself.
"""
from __future__ import annotations

import base64
import io
import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from PIL import Image

PROVIDER = "openai-compatible"
FIELDS = ("name", "brand", "model", "gtin", "category")
PROMPT = ("Identify the retail product in this photo. Answer with a JSON object with the keys "
          "name, brand, model, gtin, category; use null for anything you cannot read or are not sure of. "
          "Hints from the person who took the photo: {hints}")


def _env(name: str) -> str:
    return (os.environ.get(name) or "").strip()


def enabled() -> bool:
    return bool(_env("VISION_API_URL") and _env("VISION_MODEL"))


@dataclass
class Call:
    model: str
    ok: bool = True
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: Decimal | None = None
    currency: str = "USD"
    duration_ms: int = 0
    error: str | None = None

    def as_details(self) -> dict:
        return {"model": self.model, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "cost": None if self.cost is None else f"{self.cost} {self.currency}", "duration_ms": self.duration_ms}


@dataclass
class Answer:
    fields: dict = field(default_factory=dict)
    raw: str = ""
    call: Call | None = None


class ProviderError(Exception):
    def __init__(self, message: str, call: Call):
        super().__init__(message)
        self.call = call


def _price(name: str) -> Decimal | None:
    try:
        return Decimal(_env(name)) if _env(name) else None
    except InvalidOperation:
        return None


def _cost(prompt_tokens: int, completion_tokens: int) -> Decimal | None:
    p_in, p_out = _price("VISION_PRICE_PROMPT"), _price("VISION_PRICE_COMPLETION")
    if p_in is None or p_out is None:
        return None
    return ((p_in * prompt_tokens + p_out * completion_tokens) / Decimal(1_000_000)).quantize(Decimal("0.000001"))


def _jpeg_data_url(path: Path, longest: int = 1280) -> str:
    with Image.open(path) as image:
        image.thumbnail((longest, longest))
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()


def describe(path: Path, *, hints: dict | None = None, timeout: float = 30) -> Answer:
    """Ask the model what product the photo shows; ProviderError (with the call's cost) on failure."""
    model = _env("VISION_MODEL")
    call = Call(model=model, currency=_env("VISION_CURRENCY") or "USD")
    body = {"model": model, "temperature": 0, "messages": [{"role": "user", "content": [
        {"type": "text", "text": PROMPT.format(hints=json.dumps({k: v for k, v in (hints or {}).items() if v}))},
        {"type": "image_url", "image_url": {"url": _jpeg_data_url(path)}}]}]}
    request = urllib.request.Request(_env("VISION_API_URL").rstrip("/") + "/chat/completions",
                                     data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    if _env("VISION_API_KEY"):
        request.add_header("Authorization", f"Bearer {_env('VISION_API_KEY')}")
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = json.loads(response.read().decode())
    except (urllib.error.URLError, TimeoutError, ValueError, OSError) as exc:
        call.ok, call.error = False, f"{type(exc).__name__}: {exc}"
        call.duration_ms = int((time.monotonic() - started) * 1000)
        raise ProviderError(call.error, call) from None
    call.duration_ms = int((time.monotonic() - started) * 1000)
    usage = payload.get("usage") or {}
    call.prompt_tokens = int(usage.get("prompt_tokens") or 0)
    call.completion_tokens = int(usage.get("completion_tokens") or 0)
    call.cost = _cost(call.prompt_tokens, call.completion_tokens)
    try:
        raw = payload["choices"][0]["message"]["content"] or ""
    except (KeyError, IndexError, TypeError):
        call.ok, call.error = False, "the answer has no message"
        raise ProviderError(call.error, call) from None
    return Answer(fields=_parse(raw), raw=raw[:2000], call=call)


def _parse(raw: str) -> dict:
    text = raw.strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    start, end = text.find("{"), text.rfind("}")
    try:
        data = json.loads(text[start:end + 1]) if start >= 0 else {}
    except ValueError:
        return {}
    return {k: str(data[k]).strip() for k in FIELDS if isinstance(data, dict) and data.get(k)}

