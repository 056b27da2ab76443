"""Optional external text model (OpenAI-compatible chat completions), off unless TEXT_API_URL is set.

The model is asked for the same schema the offline extractor produces (quantity, unit,
product words per line, wanted date, address); product words are then matched to the
catalogue by our own matcher, so a model never invents a catalogue row. The call goes through
app.core.ai: refused at the organisation's monthly AI budget, and recorded against the message.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from flask import current_app

from app.core import ai

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


def enabled() -> bool:
    return ai.enabled("text")


def provider_name() -> str:
    return f"text-model:{current_app.config.get('TEXT_MODEL') or 'default'}"[:80]


def ask(text: str, today: date, *, served: ai.Served) -> ModelAnswer:
    """Call the model once; raises ModelError with whatever token counts it reported."""
    messages = [{"role": "system", "content": PROMPT.replace("{today}", today.isoformat())},
                {"role": "user", "content": text[:8000]}]
    try:
        reply = ai.chat(ai.feature("text"), served, messages, json_answer=True, read=_answer)
    except ai.AIError as exc:
        raise ModelError(str(exc), exc.prompt_tokens, exc.completion_tokens) from None
    answer = reply.value
    answer.tokens_in, answer.tokens_out = reply.prompt_tokens, reply.completion_tokens
    return answer


def _answer(content: str) -> ModelAnswer:
    try:
        data = json.loads(content)
        lines = [_line(x) for x in data.get("lines") or []]
        wanted = data.get("wanted_date")
        return ModelAnswer(lines=[x for x in lines if x["product"]], address=str(data.get("address") or "")[:500],
                           wanted_date=date.fromisoformat(wanted) if wanted else None, tokens_in=0, tokens_out=0)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise ai.AIError(f"answered outside the schema: {exc}") from None


def _line(raw: dict) -> dict:
    quantity = raw.get("quantity")
    quantity = int(quantity) if quantity not in (None, "") else None
    return {"quantity": quantity if quantity and quantity > 0 else None, "unit": str(raw.get("unit") or "")[:20],
            "product": str(raw.get("product") or "").strip()[:300]}
