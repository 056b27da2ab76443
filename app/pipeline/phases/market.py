"""Market research phase: a price from what the organisation knows, never an invented one.

Inputs, in the order they are trusted:
  * the organisation's uploaded price lists (MSRP and competitor prices for the GTIN or SKU);
  * an external price provider, when one is configured (off by default);
  * the organisation's own past sales of the same inventory item;
  * the item's unit cost (a floor, never a price by itself).

The pricing rule (parameters from the environment, see docs/readme/listings.md):
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

import os
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
NO_MARKET_DATA = "no market data"


def _env_decimal(name: str, default: str) -> Decimal:
    try:
        return Decimal(os.environ.get(name) or default)
    except InvalidOperation:
        return Decimal(default)


@dataclass(frozen=True)
class PricingRule:
    """How far below the competitors' median to price, and the margin the price must keep."""

    undercut_percent: Decimal = Decimal("2")
    cost_markup: Decimal = Decimal("1.3")

    @classmethod
    def from_env(cls) -> PricingRule:
        """PRICING_UNDERCUT_PERCENT (default 2) and PRICING_COST_MARKUP (default 1.3)."""
        return cls(_env_decimal("PRICING_UNDERCUT_PERCENT", "2"), _env_decimal("PRICING_COST_MARKUP", "1.3"))


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


# --- the phase --------------------------------------------------------------------------------


@dataclass
class CatalogueRow:
    """The inventory item the product was matched to, as far as pricing needs it."""

    item_id: int
    sku: str | None
    gtin: str | None
    unit_cost: Decimal | None
    currency: str | None


def _item_key(key) -> int | None:
    if isinstance(key, str) and key.startswith("item:") and key[5:].isdigit():
        return int(key[5:])
    return None


def matched_item_id(evidence: dict | None, name: str | None = None) -> int | None:
    """The inventory item ("item:<id>") analysis matched: an explicit `catalogue_match`, the single
    row the GTIN matched, or the best text match when the product still carries that row's name."""
    evidence = evidence or {}
    match = evidence.get("catalogue_match")
    if match is not None:
        return _item_key(match.get("key") if isinstance(match, dict) else match)
    rows = (evidence.get("gtin_match") or {}).get("rows") or []
    if len(rows) == 1:
        return _item_key(rows[0].get("key"))
    texts = evidence.get("text_matches") or []
    if not rows and texts and name:
        row = texts[0].get("row") or {}
        if (row.get("name") or "").strip().casefold() == name.strip().casefold():
            return _item_key(row.get("key"))
    return None


def catalogue_row(org_id: int, product) -> CatalogueRow | None:
    """The matched inventory item, else the only item with the product's GTIN; None otherwise."""
    try:
        from app.inventory.models import Item
    except ImportError:
        return None
    from sqlalchemy import select

    from app.core.tenancy import get_scoped
    from app.extensions import db

    item = None
    item_id = matched_item_id(product.evidence, product.name)
    if item_id is not None:
        item = get_scoped(Item, item_id, org_id)
    if item is None and product.gtin:
        found = db.session.scalars(select(Item).where(Item.organisation_id == org_id, Item.gtin == product.gtin)
                                   .limit(2)).all()
        item = found[0] if len(found) == 1 else None
    if item is None:
        return None
    return CatalogueRow(item.id, item.sku, item.gtin, item.unit_cost, item.currency)


def sales_points(org_id: int, row: CatalogueRow | None) -> tuple[list[PricePoint], str | None]:
    """The organisation's own past sales of the item, and a note when they cannot be read."""
    if row is None:
        return [], None
    try:
        from app.orders.selectors import past_sales
    except ImportError:
        return [], "past sales are not available (the orders module is not installed)"
    points = []
    for sale in past_sales(org_id, item_id=row.item_id):
        sold_on = sale.get("date")
        sold_on = sold_on.date() if hasattr(sold_on, "date") and callable(sold_on.date) else sold_on
        source = "own sale (part of a customised order)" if sale.get("component") else "own sale"
        points.append(PricePoint("sale", Decimal(sale["unit_price"]), str(sale["currency"]).upper(), source,
                                 sold_on, sale.get("order_number")))
    return points, None


def run(ctx):
    """Market research for one product (see the module doc for the rule)."""
    from app.core.ai import Served
    from app.pipeline.market_data import price_points_for
    from app.pipeline.phases import PhaseOutcome
    from app.pipeline.price_provider import ProviderError, configured_provider

    product = ctx.product
    row = catalogue_row(ctx.org_id, product)
    gtin = product.gtin or (row.gtin if row else None)
    sku = row.sku if row else None
    points = price_points_for(org_id=ctx.org_id, gtin=gtin, sku=sku)
    ctx.log("info", f"{len(points)} price list entr{'y' if len(points) == 1 else 'ies'} for this product",
            gtin=gtin, sku=sku)
    notes = []
    provider = configured_provider()
    if provider is not None:
        try:
            quotes = provider.quotes(gtin=gtin, sku=sku, name=product.name or product.hint_name,
                                     served=Served(ctx.org_id, "product", ctx.product_id))
        except ProviderError as exc:
            ctx.log("warning", f"price provider skipped: {exc}")
            notes.append(f"price provider skipped: {exc}")
        else:
            points += quotes.points
            ctx.log("info", f"price provider gave {len(quotes.points)} price(s)", dropped=quotes.dropped)
    sales, note = sales_points(ctx.org_id, row)
    points += sales
    notes += [note] if note else []
    cost = None
    if row and row.unit_cost is not None and row.currency:
        cost = UnitCost(Decimal(row.unit_cost), row.currency.upper(), f"inventory item {row.sku}")
    result = research(points, cost, PricingRule.from_env())
    result.notes = notes + result.notes
    if result.status == NO_MARKET_DATA:
        ctx.log("info", "no market data: no price list entry, provider price or past sale for this product")
    else:
        ctx.log("info", f"suggested {result.suggested_price} {result.currency}: {result.rule}")
    data = result.as_dict()
    data["item_id"] = row.item_id if row else None
    data["sku"] = sku
    return PhaseOutcome("completed", result=data)

