"""Optional external price provider for market research; off unless PRICE_PROVIDER_URL is set.

The one implementation speaks plain HTTP + JSON:

    GET {PRICE_PROVIDER_URL}?gtin=…&sku=…&name=…      Authorization: Bearer {PRICE_PROVIDER_TOKEN}
    200 {"prices": [{"kind": "competitor" | "msrp", "price": "12.50", "currency": "EUR",
                     "source": "Shop name", "date": "2026-11-01"}, …]}

Entries that do not parse are dropped and counted, never repaired into a price. Each call goes
through app.core.ai: it is refused at the monthly budget's hard limit and recorded in ai_calls
(PRICE_PROVIDER_PRICE_PER_CALL in PRICE_PROVIDER_CURRENCY prices it).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Protocol

from app.core import ai
from app.listings.pricing import PricePoint


class ProviderError(Exception):
    """The provider could not be asked or answered something unusable."""


@dataclass
class Quotes:
    points: list[PricePoint] = field(default_factory=list)
    dropped: int = 0
    duration_ms: int = 0


class PriceProvider(Protocol):
    name: str

    def quotes(self, *, gtin: str | None, sku: str | None, name: str | None, served: ai.Served) -> Quotes:
        """Known prices for the product; ProviderError when the provider fails."""


class HttpJsonPriceProvider:
    """The HTTP + JSON provider described in the module doc, metered like every model call."""

    name = "http-json"

    def quotes(self, *, gtin: str | None, sku: str | None, name: str | None, served: ai.Served) -> Quotes:
        params = {k: v for k, v in (("gtin", gtin), ("sku", sku), ("name", name)) if v}
        try:
            feature = ai.feature("price")
        except ai.AIError as exc:
            raise ProviderError(str(exc)) from None
        if feature is None:
            raise ProviderError("price provider is not configured")

        def send():
            # A GET asks for nothing to be done, so a timeout may be retried too (see app.core.http).
            answer = ai.request(feature, "GET", params=params)
            if not answer.ok:
                raise ai.AIError(f"answered HTTP {answer.status}", attempts=answer.attempts)
            try:
                return parse_answer(answer.body, self.name), 0, 0, answer.attempts
            except ProviderError as exc:
                raise ai.AIError(str(exc).removeprefix("price provider "), attempts=answer.attempts) from None

        try:
            reply = ai.call(feature, served, send)
        except ai.AIError as exc:
            unreachable = exc.reason.startswith("could not be reached")
            raise ProviderError(f"price provider unreachable: {exc.reason}" if unreachable else str(exc)) from None
        reply.value.duration_ms = reply.duration_ms
        return reply.value


def parse_answer(body: bytes, provider: str) -> Quotes:
    """Price points from a provider's JSON answer; malformed entries are dropped and counted."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ProviderError("price provider answer is not JSON") from None
    items = data.get("prices") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ProviderError('price provider answer has no "prices" list')
    quotes = Quotes()
    for item in items:
        point = _point(item, provider)
        if point is None:
            quotes.dropped += 1
        else:
            quotes.points.append(point)
    return quotes


def _point(item, provider: str) -> PricePoint | None:
    if not isinstance(item, dict):
        return None
    kind = item.get("kind", "competitor")
    currency = str(item.get("currency") or "").upper()
    try:
        amount = Decimal(str(item.get("price")))
        observed = date.fromisoformat(item["date"]) if item.get("date") else None
    except (InvalidOperation, ValueError, TypeError):
        return None
    if kind not in ("competitor", "msrp") or len(currency) != 3 or not currency.isalpha() \
            or not amount.is_finite() or amount <= 0:
        return None
    source = str(item.get("source") or provider)[:200]
    return PricePoint(kind, amount.quantize(Decimal("0.01")), currency, source, observed, f"provider {provider}")


def configured_provider() -> PriceProvider | None:
    """The provider set by PRICE_PROVIDER_URL (+ _TOKEN, _TIMEOUT, _PRICE_PER_CALL), or None when off."""
    return HttpJsonPriceProvider() if ai.enabled("price") else None
