"""Listing phase: one listing record per product, built from the earlier phases' results.

Running it again updates the same listing (keyed by product), so a restart never duplicates it.
A listing is "ready" when it has a title, a price and at least one image; otherwise it stays a
draft and says what is missing.
"""
from __future__ import annotations

from decimal import Decimal

from app.listings.phases.seo import SeoFacts, build_seo, facts_from, taken_slugs, unique_slug

READY_NEEDS = ("title", "price", "images")


def description_lines(facts: SeoFacts, sku: str | None = None) -> list[str]:
    """Factual lines only: what analysis, a reviewer or the catalogue established."""
    lines = []
    if facts.name:
        lines.append(facts.name + (f" by {facts.brand}" if facts.brand and facts.brand not in facts.name else "") + ".")
    for label, value in (("Model", facts.model), ("Category", facts.category), ("Condition", facts.condition),
                         ("GTIN", facts.gtin), ("SKU", sku)):
        if value:
            lines.append(f"{label}: {value}.")
    return lines


def build_listing(facts: SeoFacts, seo: dict, market: dict, image_ids: list[int]) -> dict:
    """The listing's fields as plain values (see Listing), with its status and what is missing."""
    titles = seo.get("titles") or {}
    title = titles.get("150") or titles.get("80") or ""
    price = market.get("suggested_price")
    currency = market.get("currency") if price is not None else None
    attributes = {k: v for k, v in (("brand", facts.brand), ("model", facts.model), ("category", facts.category),
                                    ("condition", facts.condition), ("gtin", facts.gtin),
                                    ("sku", market.get("sku"))) if v}
    missing = [need for need, ok in (("title", bool(title)), ("price", price is not None),
                                     ("images", bool(image_ids))) if not ok]
    return {
        "title": title, "description": "\n".join(description_lines(facts, market.get("sku"))),
        "price": None if price is None else Decimal(price), "currency": currency,
        "attributes": attributes, "image_order": list(image_ids),
        "seo": {k: seo.get(k) for k in ("keywords", "titles", "meta_description", "completeness")},
        "pricing": {k: market.get(k) for k in ("status", "rule", "msrp", "competitive_price", "unit_cost", "sources",
                                                "notes")},
        "status": "draft" if missing else "ready", "missing": missing,
    }


def save_listing(*, org_id: int, product_id: int, slug: str, fields: dict):
    """Insert or update the product's listing in the current transaction (the caller commits)."""
    from sqlalchemy import select

    from app.extensions import db
    from app.listings.models import Listing, ListingStatus

    listing = db.session.scalar(select(Listing).where(Listing.product_id == product_id))
    slug = slug or f"product-{product_id}"
    slug = unique_slug(slug, taken_slugs(org_id, product_id, slug), f"product-{product_id}")
    if listing is None:
        listing = Listing(organisation_id=org_id, product_id=product_id, revision=0)
        db.session.add(listing)
    for key, value in fields.items():
        setattr(listing, key, ListingStatus(value) if key == "status" else value)
    listing.slug = slug
    listing.revision = (listing.revision or 0) + 1
    return listing


def quick() -> bool:
    """It reads the product's rows and its organisation's slugs, and calls nothing outside the
    database: the runner runs it inside the previous phase's finish (app.pipeline.runner)."""
    return True


def warm() -> None:
    """This phase's SQL, compiled in the worker parent before it forks (app.pipeline.warm_sql): the
    listing written for a product and an organisation that do not exist."""
    from app.pipeline.models import Product
    from app.pipeline.warm_sql import compile_writes

    fields = build_listing(facts_from(Product(id=-1), {}), {}, {}, [])
    compile_writes(lambda: save_listing(org_id=-1, product_id=-1, slug="warm-up", fields=fields))


def run(ctx):
    """Build (or rebuild) the product's listing; it is written when the phase completes."""
    from app.pipeline.contract import PhaseOutcome

    product = ctx.product
    facts = facts_from(product, ctx.results)
    seo = ctx.results.get("seo") or build_seo(facts)
    market = ctx.results.get("market") or {}
    fields = build_listing(facts, seo, market, [image.id for image in product.images])
    slug = seo.get("slug") or ""
    ctx.log("info", f"listing {fields['status']}"
            + (f": missing {', '.join(fields['missing'])}" if fields["missing"] else ""))

    def write() -> None:
        save_listing(org_id=ctx.org_id, product_id=ctx.product_id, slug=slug, fields=fields)

    result = {"status": fields["status"], "missing": fields["missing"], "title": fields["title"],
              "price": market.get("suggested_price"), "currency": fields["currency"]}
    return PhaseOutcome("completed", result=result, write=write)
