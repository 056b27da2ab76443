"""Market research phase: the pricing rules (app.listings.pricing) applied to what the organisation
knows about a product: its price lists, the optional price provider, its own past sales, the unit
cost of the inventory item it was matched to. Nothing is invented: without data, no price.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask import current_app

from app.listings.pricing import NO_MARKET_DATA, PricePoint, PricingRule, UnitCost, research


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


def quick() -> bool:
    """Quick unless a price provider is set up (an HTTP call): then it runs with no transaction
    open, like any slow phase; otherwise it reads price lists and past sales only, and the
    runner runs it inside the previous phase's finish (app.pipeline.runner)."""
    from app.listings.price_provider import configured_provider

    return configured_provider() is None


def warm() -> None:
    """This phase's SQL, compiled in the worker parent before it forks (app.pipeline.warm_sql): its
    reads for an organisation that does not exist."""
    from types import SimpleNamespace

    from app.core.tenancy import get_scoped
    from app.inventory.models import Item
    from app.listings.price_lists import price_points_for

    get_scoped(Item, -1, -1)
    catalogue_row(-1, SimpleNamespace(evidence=None, name=None, gtin="0" * 14))
    price_points_for(org_id=-1, gtin="0" * 14, sku="warm-up")
    price_points_for(org_id=-1, gtin="0" * 14)
    sales_points(-1, CatalogueRow(-1, "warm-up", None, None, None))


def run(ctx):
    """Market research for one product (see the module doc for the rule)."""
    from app.core.ai import Served
    from app.listings.price_lists import price_points_for
    from app.listings.price_provider import ProviderError, configured_provider
    from app.pipeline.contract import PhaseOutcome

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
    result = research(points, cost, PricingRule.from_settings(current_app.config))
    result.notes = notes + result.notes
    if result.status == NO_MARKET_DATA:
        ctx.log("info", "no market data: no price list entry, provider price or past sale for this product")
    else:
        ctx.log("info", f"suggested {result.suggested_price} {result.currency}: {result.rule}")
    data = result.as_dict()
    data["item_id"] = row.item_id if row else None
    data["sku"] = sku
    return PhaseOutcome("completed", result=data)

