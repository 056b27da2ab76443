"""The one OpenAI-compatible client (text, vision, images) and the metered call every provider goes through.

A feature is a group of settings with one prefix (VISION_*, TEXT_*, IMAGE_*, TECHFILES_IMAGE_MODEL_*,
PRICE_PROVIDER_*; read in app/config.py) naming a server, a model and its prices. Each call
checks the organisation's monthly budget (`allowed`), sends through app.core.http with the
feature's timeout, size limit and retries, reads the answer, and writes exactly one ai_calls row
whatever happened: ok, failed, or not sent because the budget's hard limit was reached. A failure
raises AIError with a reason fit to show; the caller then takes its offline path and says why.
"""
from __future__ import annotations

import base64
import binascii
import contextlib
import contextvars
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from flask import current_app

from app.core import http
from app.core.ai_ledger import Served, allowed, record, record_end, record_start, register_scope
from app.core.database import end_read_transaction

__all__ = ["AIError", "Feature", "OverBudget", "Reply", "Served", "allowed", "call", "chat", "current_served",
           "enabled", "feature", "images", "record", "register_scope", "serving"]

MiB = 1024 * 1024
SIX_PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class _Names:
    """Which settings describe one feature."""

    capability: str
    label: str
    prefix: str
    url: str
    key: str
    model: str | None
    timeout: str
    currency: str
    price_in: str | None = None
    price_out: str | None = None
    per_tokens: int = 1
    price_each: str | None = None
    max_bytes: int = 2 * MiB
    provider: str = "openai-compatible"


FEATURES = {
    "vision": _Names("vision", "vision model", "VISION_", "VISION_API_URL", "VISION_API_KEY", "VISION_MODEL",
                     "VISION_API_TIMEOUT", "VISION_CURRENCY", "VISION_PRICE_PROMPT", "VISION_PRICE_COMPLETION",
                     per_tokens=1_000_000),
    "text": _Names("text", "text model", "TEXT_", "TEXT_API_URL", "TEXT_API_KEY", "TEXT_MODEL", "TEXT_API_TIMEOUT",
                   "TEXT_PRICE_CURRENCY", "TEXT_PRICE_IN_PER_1K", "TEXT_PRICE_OUT_PER_1K", per_tokens=1000),
    "image": _Names("image", "image model", "IMAGE_", "IMAGE_API_URL", "IMAGE_API_KEY", "IMAGE_MODEL",
                    "IMAGE_API_TIMEOUT", "IMAGE_PRICE_CURRENCY", price_each="IMAGE_PRICE_PER_IMAGE", max_bytes=40 * MiB),
    "techfiles_image": _Names("image", "image model", "TECHFILES_IMAGE_MODEL_", "TECHFILES_IMAGE_MODEL_URL",
                              "TECHFILES_IMAGE_MODEL_TOKEN", "TECHFILES_IMAGE_MODEL", "TECHFILES_IMAGE_MODEL_TIMEOUT",
                              "TECHFILES_IMAGE_MODEL_CURRENCY", price_each="TECHFILES_IMAGE_MODEL_PRICE_PER_IMAGE",
                              max_bytes=40 * MiB),
    "price": _Names("price", "price provider", "PRICE_PROVIDER_", "PRICE_PROVIDER_URL", "PRICE_PROVIDER_TOKEN", None,
                    "PRICE_PROVIDER_TIMEOUT", "PRICE_PROVIDER_CURRENCY", price_each="PRICE_PROVIDER_PRICE_PER_CALL",
                    max_bytes=1 * MiB, provider="http-json"),
}


class AIError(Exception):
    """The call gave nothing usable; `reason` says why (the feature's label is added by str())."""

    def __init__(self, reason: str, *, prompt_tokens: int = 0, completion_tokens: int = 0, attempts: int = 1):
        super().__init__(reason)
        self.reason, self.label = reason, ""
        self.prompt_tokens, self.completion_tokens, self.attempts = prompt_tokens, completion_tokens, attempts
        self.model, self.cost, self.currency, self.duration_ms = "", None, "USD", 0

    def __str__(self) -> str:
        return f"{self.label} {self.reason}".strip()


class OverBudget(AIError):
    """Not sent: the organisation's monthly AI budget is used up."""


@dataclass(frozen=True)
class Feature:
    """One configured provider: where it is, which model, what a call costs."""

    name: str
    capability: str
    label: str
    provider: str
    url: str
    key: str
    model: str
    timeout: float
    currency: str
    price_in: Decimal | None
    price_out: Decimal | None
    price_each: Decimal | None
    max_bytes: int
    retries: int
    backoff: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> Decimal | None:
        """What one call with these token counts cost; None when no price is configured."""
        if self.price_in is None and self.price_out is None and self.price_each is None:
            return None
        total = ((self.price_in or 0) * prompt_tokens + (self.price_out or 0) * completion_tokens
                 + (self.price_each or 0))
        return Decimal(total).quantize(SIX_PLACES)


@dataclass(frozen=True)
class Reply:
    """A usable answer and what it cost."""

    value: Any
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost: Decimal | None
    currency: str
    duration_ms: int
    attempts: int

    @property
    def retried(self) -> bool:
        return self.attempts > 1


def _setting(name: str, default: str = "") -> str:
    return str(current_app.config.get(name) or default).strip()


def enabled(name: str) -> bool:
    """Is the feature switched on (its URL set; the vision model also needs a model name)?"""
    names = FEATURES[name]
    return bool(_setting(names.url)) and (name != "vision" or bool(_setting(names.model)))


def feature(name: str) -> Feature | None:
    """The feature's settings, parsed; None when it is off; AIError naming a malformed setting."""
    names = FEATURES[name]
    url = _setting(names.url)
    if not url or not enabled(name):
        return None
    model = _setting(names.model) if names.model else (urlsplit(url).netloc or url)[:120]
    return Feature(
        name=name, capability=names.capability, label=names.label, provider=names.provider, url=url, model=model,
        key=_setting(names.key), timeout=_number(names.timeout, "30", float),
        currency=_setting(names.currency, "USD").upper()[:3],
        price_in=_price(names.price_in, names.per_tokens), price_out=_price(names.price_out, names.per_tokens),
        price_each=_price(names.price_each, 1), max_bytes=names.max_bytes,
        retries=_number("AI_RETRIES", "1", int), backoff=_number("AI_RETRY_BACKOFF_SECONDS", "0.5", float))


def _number(name: str, default: str, kind):
    try:
        value = kind(_setting(name, default))
    except ValueError:
        raise _setting_error(f"{name} must be a number") from None
    if value < 0:
        raise _setting_error(f"{name} must not be negative")
    return value


def _price(name: str | None, per_tokens: int) -> Decimal | None:
    if name is None or not _setting(name):
        return None
    try:
        price = Decimal(_setting(name))
    except InvalidOperation:
        raise _setting_error(f"{name} must be a number such as 0.15") from None
    if not price.is_finite() or price < 0:
        raise _setting_error(f"{name} must be a number such as 0.15")
    return price / per_tokens


def _setting_error(text: str) -> AIError:
    error = AIError(f"is not set up correctly: {text}")
    error.label = "the model"
    return error


_served: contextvars.ContextVar[Served | None] = contextvars.ContextVar("ai_served", default=None)


@contextlib.contextmanager
def serving(served: Served) -> Iterator[Served]:
    """Calls made inside this block, deep in code that knows no ids, serve `served`."""
    token = _served.set(served)
    try:
        yield served
    finally:
        _served.reset(token)


def current_served() -> Served | None:
    """The object set by the innermost `serving` block, if any."""
    return _served.get()


# --- the metered call ---------------------------------------------------------------------------

Send = Callable[[], tuple[Any, int, int, int]]  # → (value, prompt tokens, completion tokens, attempts)


def call(feat: Feature, served: Served, send: Send) -> Reply:
    """Run `send` for the organisation if its budget allows, and record the call however it ends."""
    # In a worker even a read holds SQLite's write lock, which the call's own record (and every
    # other writer) would wait for while the model thinks.
    end_read_transaction()
    ok, why = allowed(served.org_id, feat.capability)
    if not ok:
        _book(feat, served, ok=False, over_budget=True, error=why, cost=Decimal("0"))
        error = OverBudget(why)
        error.model, error.currency = feat.model, feat.currency
        raise error
    call_id = record_start(served=served, capability=feat.capability, provider=feat.provider, model=feat.model,
                           currency=feat.currency)
    started = time.monotonic()
    try:
        value, t_in, t_out, attempts = send()
    except (AIError, http.HttpFailure, Exception) as exc:
        error = _as_error(exc)
        error.label, error.model, error.currency = feat.label, feat.model, feat.currency
        error.cost = feat.cost(error.prompt_tokens, error.completion_tokens)
        error.duration_ms = int((time.monotonic() - started) * 1000)
        _book(feat, served, call_id, ok=False, error=str(error), cost=error.cost, prompt_tokens=error.prompt_tokens,
              completion_tokens=error.completion_tokens, attempts=error.attempts, duration_ms=error.duration_ms)
        if isinstance(exc, AIError | http.HttpFailure):
            raise error from None
        raise
    reply = Reply(value=value, model=feat.model, prompt_tokens=t_in, completion_tokens=t_out,
                  cost=feat.cost(t_in, t_out), currency=feat.currency, attempts=attempts,
                  duration_ms=int((time.monotonic() - started) * 1000))
    _book(feat, served, call_id, ok=True, cost=reply.cost, prompt_tokens=t_in, completion_tokens=t_out, attempts=attempts,
          duration_ms=reply.duration_ms)
    return reply


def _as_error(exc: BaseException) -> AIError:
    if isinstance(exc, AIError):
        return exc
    if isinstance(exc, http.HttpFailure):
        unreachable = exc.reason == "could not connect" or exc.reason.startswith("no answer")
        text = f"could not be reached ({exc.reason})" if unreachable else f"gave no usable answer ({exc.reason})"
        return AIError(text, attempts=exc.attempts)
    return AIError(f"failed: {type(exc).__name__}: {exc}")


def _book(feat: Feature, served: Served, call_id: int | None = None, **fields) -> None:
    common = dict(served=served, capability=feat.capability, provider=feat.provider, model=feat.model,
                  currency=feat.currency)
    if call_id is None:
        record(**common, **fields)
    else:
        record_end(call_id, **common, **fields)


def request(feat: Feature, method: str, path: str = "", **kwargs) -> http.Answer:
    """Send to the feature's server with its key, timeout, size limit and retries."""
    return http.request(method, feat.url.rstrip("/") + path if path else feat.url, bearer=feat.key or None,
                        timeout=feat.timeout, max_bytes=feat.max_bytes, retries=feat.retries, backoff=feat.backoff,
                        **kwargs)


def payload_of(answer: http.Answer) -> dict:
    """The JSON object of a 2xx answer; AIError for any other status or body."""
    if not answer.ok:
        raise AIError(f"answered HTTP {answer.status}: {answer.text()}", attempts=answer.attempts)
    try:
        payload = answer.json()
    except http.HttpFailure:
        raise AIError("answered something that is not JSON", attempts=answer.attempts) from None
    if not isinstance(payload, dict):
        raise AIError("answered JSON that is not an object", attempts=answer.attempts)
    return payload


# --- the OpenAI-compatible calls ----------------------------------------------------------------

def chat(feat: Feature, served: Served, messages: list[dict], *, json_answer: bool = False,
         temperature: float = 0, read: Callable[[str], Any] | None = None) -> Reply:
    """POST /chat/completions; the reply's value is `read(content)` (the content itself without `read`)."""
    body = {"model": feat.model, "temperature": temperature, "messages": messages}
    if json_answer:
        body["response_format"] = {"type": "json_object"}

    def send():
        answer = request(feat, "POST", "/chat/completions", json=body)
        payload = payload_of(answer)
        usage = payload.get("usage") if isinstance(payload.get("usage"), dict) else {}
        tokens = (int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))
        try:
            content = payload["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError):
            raise AIError("answered without a message", prompt_tokens=tokens[0], completion_tokens=tokens[1],
                          attempts=answer.attempts) from None
        return _read(read, content, tokens, answer.attempts), *tokens, answer.attempts

    return call(feat, served, send)


def image_part(data: bytes, mime: str = "image/jpeg") -> dict:
    """A chat message part carrying an image (for vision models)."""
    return {"type": "image_url", "image_url": {"url": f"data:{mime};base64," + base64.b64encode(data).decode()}}


def images(feat: Feature, served: Served, prompt: str, *, image: bytes | None = None, size: str = "1024x1024",
           read: Callable[[bytes], Any] | None = None) -> Reply:
    """One image: generated from `prompt`, or `image` (PNG) edited by it; the value is `read(bytes)`."""
    if image is None:
        path, kwargs = "/images/generations", {"json": {"model": feat.model, "prompt": prompt, "n": 1, "size": size,
                                                        "response_format": "b64_json"}}
    else:
        path, kwargs = "/images/edits", {"files": [http.File("image", "image.png", "image/png", image)],
                                         "fields": {"prompt": prompt, "model": feat.model,
                                                    "response_format": "b64_json"}}

    def send():
        answer = request(feat, "POST", path, **kwargs)
        payload = payload_of(answer)
        usage = payload.get("usage") if isinstance(payload.get("usage"), dict) else {}
        tokens = (int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0))
        try:
            data = base64.b64decode(payload["data"][0]["b64_json"], validate=True)
        except (KeyError, IndexError, TypeError, ValueError, binascii.Error):
            raise AIError("answered without an image (no data[0].b64_json)", prompt_tokens=tokens[0],
                          completion_tokens=tokens[1], attempts=answer.attempts) from None
        return _read(read, data, tokens, answer.attempts), *tokens, answer.attempts

    return call(feat, served, send)


def _read(read, content, tokens: tuple[int, int], attempts: int):
    if read is None:
        return content
    try:
        return read(content)
    except AIError as exc:
        raise AIError(exc.reason, prompt_tokens=tokens[0], completion_tokens=tokens[1], attempts=attempts) from None
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise AIError(f"answered outside the expected form: {exc}", prompt_tokens=tokens[0],
                      completion_tokens=tokens[1], attempts=attempts) from None
