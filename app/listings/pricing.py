"""Pricing rules: a price from what the organisation knows, never an invented one (pure functions).

Inputs, in the order they are trusted:
  * the organisation's uploaded price lists (MSRP and competitor prices for the GTIN or SKU);
  * an external price provider, when one is configured (off by default);
  * the organisation's own past sales of the same inventory item;
  * the item's unit cost (a floor, never a price by itself).

The pricing rule (parameters from the environment, see the README, "Market research"):
  competitive price = median of the competitor prices in the chosen currency;
  suggested price   = competitive price − UNDERCUT %, or else the median of the organisation's
                      own past sale prices, or else the MSRP;
                      then floored at unit cost × COST_MARKUP when the unit cost is known
                      in the same currency, and capped at the MSRP when it is lower.
Without a competitor price, a past sale or an MSRP the result is "no market data" and no price.
Prices in another currency than the chosen one are set aside with a note: no exchange rate is
guessed.
"""
from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
NO_MARKET_DATA = "no market data"


def _decimal(value, default: str) -> Decimal:
    try:
        return Decimal(str(value or default))
    except InvalidOperation:
        return Decimal(default)


@dataclass(frozen=True)
class PricingRule:
    """How far below the competitors' median to price, and the margin the price must keep."""

    undercut_percent: Decimal = Decimal("2")
    cost_markup: Decimal = Decimal("1.3")

    @classmethod
    def from_settings(cls, settings) -> PricingRule:
        """From PRICING_UNDERCUT_PERCENT (default 2) and PRICING_COST_MARKUP (default 1.3) in `settings`."""
        return cls(_decimal(settings.get("PRICING_UNDERCUT_PERCENT"), "2"),
                   _decimal(settings.get("PRICING_COST_MARKUP"), "1.3"))


@dataclass(frozen=True)
class PricePoint:
    """One known price: an MSRP or competitor price from a list or provider, or a past sale."""

    kind: str  # "msrp" | "competitor" | "sale"
    amount: Decimal
    currency: str
    source: str
    observed_on: date | None = None
    reference: str | None = None  # price list id, order number, provider name

    def as_dict(self) -> dict:
        return {"kind": self.kind, "amount": str(self.amount), "currency": self.currency, "source": self.source,
                "date": self.observed_on.isoformat() if self.observed_on else None, "reference": self.reference}


@dataclass(frozen=True)
class UnitCost:
    amount: Decimal
    currency: str
    source: str


@dataclass
class MarketResult:
    status: str  # "priced" | "no market data"
    currency: str | None = None
    msrp: Decimal | None = None
    competitive_price: Decimal | None = None
    suggested_price: Decimal | None = None
    rule: str | None = None
    comparables: int = 0
    unit_cost: UnitCost | None = None
    sources: list[PricePoint] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        """JSON-ready: money as strings so no float ever touches a price."""
        money = lambda v: None if v is None else str(v)  # noqa: E731
        return {
            "status": self.status, "currency": self.currency, "msrp": money(self.msrp),
            "competitive_price": money(self.competitive_price), "suggested_price": money(self.suggested_price),
            "rule": self.rule, "comparables": self.comparables,
            "unit_cost": None if self.unit_cost is None else {
                "amount": str(self.unit_cost.amount), "currency": self.unit_cost.currency,
                "source": self.unit_cost.source},
            "sources": [p.as_dict() for p in self.sources], "notes": list(self.notes),
        }


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _fmt_number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def choose_currency(points: list[PricePoint], cost: UnitCost | None) -> str | None:
    """The unit cost's currency when known, else the one most market prices are quoted in."""
    if cost is not None:
        return cost.currency
    counts = Counter(p.currency for p in points)
    if not counts:
        return None
    best = max(counts.values())
    return sorted(c for c, n in counts.items() if n == best)[0]


def research(points: Iterable[PricePoint], cost: UnitCost | None = None,
             rule: PricingRule | None = None) -> MarketResult:
    """Turn known prices into MSRP, competitive and suggested price, naming the rule used."""
    rule = rule or PricingRule()
    points = list(points)
    currency = choose_currency(points, cost)
    usable = [p for p in points if p.currency == currency]
    notes = _currency_notes(points, currency)
    msrps = [p for p in usable if p.kind == "msrp"]
    competitors = [p for p in usable if p.kind == "competitor"]
    sales = [p for p in usable if p.kind == "sale"]
    if not (msrps or competitors or sales):
        return MarketResult(NO_MARKET_DATA, currency=currency if cost else None, unit_cost=cost, notes=notes)
    result = MarketResult("priced", currency=currency, unit_cost=cost, notes=notes,
                          sources=msrps + competitors + sales, comparables=len(competitors))
    result.msrp = _latest(msrps).amount if msrps else None
    if competitors:
        result.competitive_price = cents(statistics.median(p.amount for p in competitors))
    price, steps = _base_price(result, sales, rule)
    price, steps = _apply_floor_and_cap(price, steps, result, rule)
    result.suggested_price = cents(price)
    result.rule = ", ".join(steps)
    return result


def _currency_notes(points: list[PricePoint], currency: str | None) -> list[str]:
    other = Counter(p.currency for p in points if p.currency != currency)
    return [f"{n} price(s) in {c} set aside: no exchange rate to {currency} is known"
            for c, n in sorted(other.items())]


def _latest(points: list[PricePoint]) -> PricePoint:
    return max(points, key=lambda p: (p.observed_on or date.min))


def _base_price(result: MarketResult, sales: list[PricePoint], rule: PricingRule) -> tuple[Decimal, list[str]]:
    if result.competitive_price is not None:
        factor = (Decimal(100) - rule.undercut_percent) / Decimal(100)
        label = f"median of {result.comparables} competitor price(s)"
        if rule.undercut_percent:
            label += f" −{_fmt_number(rule.undercut_percent)} %"
        return result.competitive_price * factor, [label]
    if sales:
        return statistics.median(p.amount for p in sales), [f"median of {len(sales)} own past sale price(s)"]
    return result.msrp, ["MSRP"]


def _apply_floor_and_cap(price: Decimal, steps: list[str], result: MarketResult,
                         rule: PricingRule) -> tuple[Decimal, list[str]]:
    cost = result.unit_cost
    if result.msrp is not None and price > result.msrp:
        price = result.msrp
        steps.append("capped at the MSRP")
    if cost is not None and cost.currency == result.currency:
        floor = cents(cost.amount * rule.cost_markup)
        step = f"floored at unit cost × {_fmt_number(rule.cost_markup)}"
        if price < floor:
            price = floor
            step += f" (floor {floor} used)"
        steps.append(step)
    return price, steps
