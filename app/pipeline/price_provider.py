"""Optional external price provider for market research; off unless PRICE_PROVIDER_URL is set.

The one implementation speaks plain HTTP + JSON:

    GET {PRICE_PROVIDER_URL}?gtin=…&sku=…&name=…      Authorization: Bearer {PRICE_PROVIDER_TOKEN}
    200 {"prices": [{"kind": "competitor" | "msrp", "price": "12.50", "currency": "EUR",
                     "source": "Shop name", "date": "2026-11-01"}, …]}

Entries that do not parse are dropped and counted, never repaired into a price.
"""
from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Protocol

from app.pipeline.phases.market import PricePoint

MAX_RESPONSE_BYTES = 1024 * 1024


class ProviderError(Exception):
    """The provider could not be asked or answered something unusable."""


@dataclass
class Quotes:
    points: list[PricePoint] = field(default_factory=list)
    dropped: int = 0
    duration_ms: int = 0


class PriceProvider(Protocol):
    name: str

    def quotes(self, *, gtin: str | None, sku: str | None, name: str | None) -> Quotes:
        """Known prices for the product; ProviderError when the provider fails."""


class HttpJsonPriceProvider:
    """The HTTP + JSON provider described in the module doc."""

    name = "http-json"

    def __init__(self, url: str, token: str | None = None, timeout: float = 10.0):
        self.url, self.token, self.timeout = url, token, timeout

    def quotes(self, *, gtin: str | None, sku: str | None, name: str | None) -> Quotes:
        params = {k: v for k, v in (("gtin", gtin), ("sku", sku), ("name", name)) if v}
        separator = "&" if "?" in self.url else "?"
        request = urllib.request.Request(self.url + separator + urllib.parse.urlencode(params),
                                         headers={"Accept": "application/json"})
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (URL from config)
                body = response.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            raise ProviderError(f"price provider answered HTTP {exc.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise ProviderError(f"price provider unreachable: {getattr(exc, 'reason', exc)}") from None
        if len(body) > MAX_RESPONSE_BYTES:
            raise ProviderError("price provider answer is larger than 1 MB")
        quotes = parse_answer(body, self.name)
        quotes.duration_ms = int((time.perf_counter() - started) * 1000)
        return quotes


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
    """The provider set by PRICE_PROVIDER_URL (+ _TOKEN, _TIMEOUT), or None when off."""
    url = os.environ.get("PRICE_PROVIDER_URL", "").strip()
    if not url:
        return None
    try:
        timeout = float(os.environ.get("PRICE_PROVIDER_TIMEOUT") or 10)
    except ValueError:
        timeout = 10.0
    return HttpJsonPriceProvider(url, os.environ.get("PRICE_PROVIDER_TOKEN") or None, timeout)
