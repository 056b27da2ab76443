"""An OpenAI-compatible vision model that names the product in a photo (off by default).

Enabled when VISION_API_URL and VISION_MODEL are set (VISION_API_KEY when the server needs one).
VISION_PRICE_PROMPT and VISION_PRICE_COMPLETION (per million tokens, in VISION_CURRENCY, default
USD) turn the token counts every answer reports into a cost; without them the cost is unknown
and stored as such, never guessed. The call goes through app.core.ai, which checks the monthly
budget and records it. Its answer is evidence like any other: it is matched against the
catalogue, never trusted as the identification by itself.
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from PIL import Image

from app.core import ai

PROVIDER = "openai-compatible"
FIELDS = ("name", "brand", "model", "gtin", "category")
PROMPT = ("Identify the retail product in this photo. Answer with a JSON object with the keys "
          "name, brand, model, gtin, category; use null for anything you cannot read or are not sure of. "
          "Hints from the person who took the photo: {hints}")


def enabled() -> bool:
    return ai.enabled("vision")


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
    retried: bool = False

    def as_details(self) -> dict:
        return {"model": self.model, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "retried": self.retried,
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


def _jpeg(path: Path, longest: int = 1280) -> bytes:
    with Image.open(path) as image:
        image.thumbnail((longest, longest))
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


def describe(path: Path, *, served: ai.Served, hints: dict | None = None) -> Answer:
    """Ask the model what product the photo shows; ProviderError (with the call's cost) on failure."""
    text = PROMPT.format(hints=json.dumps({k: v for k, v in (hints or {}).items() if v}))
    messages = [{"role": "user", "content": [{"type": "text", "text": text}, ai.image_part(_jpeg(path))]}]
    try:
        feature = ai.feature("vision")
        reply = ai.chat(feature, served, messages)
    except ai.AIError as exc:
        call = Call(model=exc.model, ok=False, prompt_tokens=exc.prompt_tokens, completion_tokens=exc.completion_tokens,
                    cost=exc.cost, currency=exc.currency, duration_ms=exc.duration_ms, error=str(exc),
                    retried=exc.attempts > 1)
        raise ProviderError(str(exc), call) from None
    call = Call(model=reply.model, prompt_tokens=reply.prompt_tokens, completion_tokens=reply.completion_tokens,
                cost=reply.cost, currency=reply.currency, duration_ms=reply.duration_ms, retried=reply.retried)
    return Answer(fields=_parse(reply.value), raw=reply.value[:2000], call=call)


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
