"""Optional external text model (OpenAI-compatible chat completions), off unless TEXT_API_URL is set.

The model is asked for the same schema the offline extractor produces (quantity, unit,
product words per line, wanted date, address); product words are then matched to the
catalogue by our own matcher, so a model never invents a catalogue row.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import current_app

from app.inbox.http import HTTPFailure, post

PROMPT = (
    "Read the customer's message and list what they want to order. Answer with JSON only: "
    '{"lines": [{"quantity": integer or null, "unit": "box|case|pack|pcs|\\"\\"", "product": "words naming '
    'the product"}], "wanted_date": "YYYY-MM-DD" or null, "address": "delivery address or empty"}. '
    "The message was received on {today}."
)


@dataclass
class ModelAnswer:
    lines: list[dict]
    wanted_date: date | None
    address: str
    tokens_in: int
    tokens_out: int


class ModelError(Exception):
    """The model could not be reached or answered something unusable."""

    def __init__(self, message: str, tokens_in: int = 0, tokens_out: int = 0):
        super().__init__(message)
        self.tokens_in, self.tokens_out = tokens_in, tokens_out


def setting(name: str, default: str = "") -> str:
    return str(current_app.config.get(name) or os.environ.get(name) or default)


def enabled() -> bool:
    return bool(setting("TEXT_API_URL"))


def provider_name() -> str:
    return f"text-model:{setting('TEXT_MODEL', 'default')}"[:80]


def cost_of(tokens_in: int, tokens_out: int) -> Decimal:
    """Cost from the configured prices per 1,000 tokens (0 when no price is configured)."""
    price_in = Decimal(setting("TEXT_PRICE_IN_PER_1K", "0"))
    price_out = Decimal(setting("TEXT_PRICE_OUT_PER_1K", "0"))
    return (price_in * tokens_in + price_out * tokens_out) / 1000


def ask(text: str, today: date) -> ModelAnswer:
    """Call the model once; raises ModelError with whatever token counts it reported."""
    url = setting("TEXT_API_URL").rstrip("/") + "/chat/completions"
    headers = {"Content-Type": "application/json"}
    if setting("TEXT_API_KEY"):
        headers["Authorization"] = f"Bearer {setting('TEXT_API_KEY')}"
    body = {"model": setting("TEXT_MODEL", "default"), "temperature": 0,
            "response_format": {"type": "json_object"},
            "messages": [{"role": "system", "content": PROMPT.replace("{today}", today.isoformat())},
                         {"role": "user", "content": text[:8000]}]}
    try:
        status, text = post(url, json_body=body, headers=headers, timeout=float(setting("TEXT_API_TIMEOUT", "20")))
    except HTTPFailure as exc:
        raise ModelError(f"text model unreachable: {exc}") from None
    if status >= 300:
        raise ModelError(f"text model answered HTTP {status}: {text[:200]}")
    try:
        payload = json.loads(text)
    except ValueError:
        raise ModelError("text model answered something that is not JSON") from None
    usage = payload.get("usage") or {}
    t_in, t_out = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
    try:
        content = json.loads(payload["choices"][0]["message"]["content"])
        lines = [_line(x) for x in content.get("lines") or []]
        wanted = content.get("wanted_date")
        return ModelAnswer(lines=[x for x in lines if x["product"]], address=str(content.get("address") or "")[:500],
                           wanted_date=date.fromisoformat(wanted) if wanted else None, tokens_in=t_in, tokens_out=t_out)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise ModelError(f"text model answered outside the schema: {exc}", t_in, t_out) from None


def _line(raw: dict) -> dict:
    quantity = raw.get("quantity")
    quantity = int(quantity) if quantity not in (None, "") else None
    return {"quantity": quantity if quantity and quantity > 0 else None, "unit": str(raw.get("unit") or "")[:20],
            "product": str(raw.get("product") or "").strip()[:300]}
