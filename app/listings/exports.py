"""Listing exports: Shopify product CSV, a generic CSV and JSON, for one product or a selection.

CSV cells that a spreadsheet would run as a formula (starting with =, +, -, @, a tab or a carriage
return) are prefixed with an apostrophe. Image URLs are absolute URLs of the application's own
authorised image route: they open for a signed-in member of the organisation, so a shop that
fetches images by URL needs them re-hosted (see the README, "Listings").
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from html import escape

from sqlalchemy import select

from app.core.errors import InvalidInput, NotFound
from app.extensions import db
from app.formats.spreadsheet import csv_text
from app.listings.models import Listing, ListingStatus

FORMATS = {"shopify": ("text/csv", "csv"), "csv": ("text/csv", "csv"), "json": ("application/json", "json")}
MAX_SELECTION = 1000

# The columns of Shopify's product import template that a listing can fill (Shopify accepts a
# subset; Handle identifies the product, extra image rows carry only Handle and Image columns).
SHOPIFY_COLUMNS = [
    "Handle", "Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags", "Published",
    "Option1 Name", "Option1 Value", "Variant SKU", "Variant Grams", "Variant Inventory Tracker",
    "Variant Inventory Policy", "Variant Fulfillment Service", "Variant Price", "Variant Compare At Price",
    "Variant Requires Shipping", "Variant Taxable", "Variant Barcode", "Image Src", "Image Position",
    "Image Alt Text", "Gift Card", "SEO Title", "SEO Description", "Cost per item", "Status",
]
GENERIC_COLUMNS = [
    "product_id", "slug", "status", "missing", "title", "title_80", "title_150", "title_255", "meta_description",
    "description", "price", "currency", "msrp", "competitive_price", "price_rule", "brand", "model", "category",
    "condition", "gtin", "sku", "keywords", "completeness", "image_urls",
]

ImageUrl = Callable[[int], str | None]


def _images(listing: Listing, image_url: ImageUrl) -> list[str]:
    return [url for url in (image_url(i) for i in listing.image_order or []) if url]


def body_html(description: str) -> str:
    """Each description line as an escaped paragraph."""
    return "".join(f"<p>{escape(line)}</p>" for line in description.splitlines() if line.strip())


def _money(value) -> str:
    return "" if value is None else str(value)


def shopify_rows(listing: Listing, image_url: ImageUrl) -> list[dict]:
    """One product row, then one row per further image."""
    attrs, seo, pricing = listing.attributes or {}, listing.seo or {}, listing.pricing or {}
    ready = listing.status == ListingStatus.READY
    msrp = pricing.get("msrp")
    # Research quotes every price in the listing's currency, so the MSRP compares directly.
    compare_at = msrp if msrp and listing.price is not None and Decimal(msrp) > listing.price else ""
    images = _images(listing, image_url)
    first = {
        "Handle": listing.slug, "Title": listing.title, "Body (HTML)": body_html(listing.description or ""),
        "Vendor": attrs.get("brand", ""), "Product Category": "", "Type": attrs.get("category", ""),
        "Tags": ", ".join(seo.get("keywords") or []), "Published": "TRUE" if ready else "FALSE",
        "Option1 Name": "Title", "Option1 Value": "Default Title", "Variant SKU": attrs.get("sku", ""),
        "Variant Grams": "", "Variant Inventory Tracker": "", "Variant Inventory Policy": "deny",
        "Variant Fulfillment Service": "manual", "Variant Price": _money(listing.price),
        "Variant Compare At Price": compare_at, "Variant Requires Shipping": "TRUE", "Variant Taxable": "TRUE",
        "Variant Barcode": attrs.get("gtin", ""), "Image Src": images[0] if images else "",
        "Image Position": 1 if images else "", "Image Alt Text": listing.title if images else "",
        "Gift Card": "FALSE", "SEO Title": (seo.get("titles") or {}).get("80", ""),
        "SEO Description": seo.get("meta_description", ""), "Cost per item": _cost(listing),
        "Status": "active" if ready else "draft",
    }
    rows = [first]
    for position, url in enumerate(images[1:], start=2):
        rows.append({"Handle": listing.slug, "Image Src": url, "Image Position": position,
                     "Image Alt Text": listing.title})
    return rows


def _cost(listing: Listing) -> str:
    cost = (listing.pricing or {}).get("unit_cost") or {}
    return cost.get("amount", "") if cost.get("currency") == listing.currency else ""


def generic_row(listing: Listing, image_url: ImageUrl) -> dict:
    attrs, seo, pricing = listing.attributes or {}, listing.seo or {}, listing.pricing or {}
    titles = seo.get("titles") or {}
    return {
        "product_id": listing.product_id, "slug": listing.slug, "status": listing.status.value,
        "missing": ", ".join(listing.missing or []), "title": listing.title, "title_80": titles.get("80", ""),
        "title_150": titles.get("150", ""), "title_255": titles.get("255", ""),
        "meta_description": seo.get("meta_description", ""), "description": listing.description,
        "price": _money(listing.price), "currency": listing.currency or "", "msrp": pricing.get("msrp") or "",
        "competitive_price": pricing.get("competitive_price") or "", "price_rule": pricing.get("rule") or "",
        **{k: attrs.get(k, "") for k in ("brand", "model", "category", "condition", "gtin", "sku")},
        "keywords": ", ".join(seo.get("keywords") or []),
        "completeness": (seo.get("completeness") or {}).get("score", ""),
        "image_urls": " ".join(_images(listing, image_url)),
    }


def json_record(listing: Listing, image_url: ImageUrl) -> dict:
    seo = listing.seo or {}
    return {
        "product_id": listing.product_id, "slug": listing.slug, "status": listing.status.value,
        "missing": listing.missing or [], "title": listing.title, "titles": seo.get("titles") or {},
        "meta_description": seo.get("meta_description", ""), "description": listing.description,
        "price": _money(listing.price) or None, "currency": listing.currency, "attributes": listing.attributes or {},
        "keywords": seo.get("keywords") or [], "completeness": seo.get("completeness") or {},
        "pricing": listing.pricing or {},
        "images": [{"position": n, "url": url} for n, url in enumerate(_images(listing, image_url), start=1)],
        "updated_at": listing.updated_at.isoformat() if listing.updated_at else None,
    }


@dataclass
class Export:
    body: str
    mimetype: str
    filename: str


def render_export(listings: list[Listing], fmt: str, image_url: ImageUrl, *, stem: str = "listings") -> Export:
    """The listings in one of FORMATS, with a download file name."""
    if fmt not in FORMATS:
        raise InvalidInput(f"Unknown export format {fmt!r}; choose shopify, csv or json.")
    mimetype, ext = FORMATS[fmt]
    if fmt == "shopify":
        body = csv_text((row for listing in listings for row in shopify_rows(listing, image_url)), SHOPIFY_COLUMNS)
    elif fmt == "csv":
        body = csv_text((generic_row(listing, image_url) for listing in listings), GENERIC_COLUMNS)
    else:
        body = json.dumps({"exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
                           "listings": [json_record(listing, image_url) for listing in listings]},
                          ensure_ascii=False, indent=2)
    suffix = "-shopify" if fmt == "shopify" else ""
    return Export(body, mimetype, f"{stem}{suffix}.{ext}")


def listings_for_export(*, org_id: int, product_ids: Iterable[int]) -> list[Listing]:
    """The organisation's listings for these products, in the order asked; NotFound for a stranger's id."""
    ids = list(dict.fromkeys(int(i) for i in product_ids))
    if not ids:
        raise InvalidInput("Select at least one product to export.")
    if len(ids) > MAX_SELECTION:
        raise InvalidInput(f"Export at most {MAX_SELECTION} products at a time.")
    from app.pipeline.models import Product

    owned = set(db.session.scalars(select(Product.id).where(Product.organisation_id == org_id, Product.id.in_(ids))))
    if len(owned) != len(ids):
        raise NotFound("One of the selected products does not exist.")
    rows = {r.product_id: r for r in db.session.scalars(
        select(Listing).where(Listing.organisation_id == org_id, Listing.product_id.in_(ids)))}
    listings = [rows[i] for i in ids if i in rows]
    if not listings:
        raise InvalidInput("None of the selected products has a listing yet: the pipeline builds it in its last phase.")
    return listings
