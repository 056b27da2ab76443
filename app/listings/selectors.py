"""Reads for the listings pages: price lists and their entries, products with their listings."""
from __future__ import annotations

from sqlalchemy import func, or_, select

from app.core.pagination import Page, paginate
from app.core.tenancy import scoped
from app.extensions import db
from app.listings.models import Listing, ListingStatus, PriceList, PriceListEntry
from app.pipeline.models import Product, ProductStatus


def price_lists(org_id: int) -> list[PriceList]:
    """The organisation's price lists, newest first."""
    return db.session.scalars(scoped(PriceList, org_id).order_by(PriceList.uploaded_at.desc(),
                                                                 PriceList.id.desc())).all()


def price_list_entries(org_id: int, price_list: PriceList, *, q: str, page: int) -> Page:
    """One page of a price list's entries, searchable by GTIN, SKU or source."""
    query = scoped(PriceListEntry, org_id).where(PriceListEntry.price_list_id == price_list.id)
    if q:
        query = query.where(or_(PriceListEntry.gtin.contains(q), PriceListEntry.sku.contains(q),
                                PriceListEntry.source.contains(q)))
    return paginate(query.order_by(PriceListEntry.row_number, PriceListEntry.id), page, 100)


def products_with_listings(org_id: int, *, status: str, q: str, page: int) -> tuple[Page, dict[int, Listing]]:
    """One page of the organisation's products (not archived) and their listings, by listing status."""
    query = scoped(Product, org_id).where(Product.status != ProductStatus.ARCHIVED)
    listing = select(Listing.product_id, Listing.status).where(Listing.organisation_id == org_id).subquery()
    query = query.outerjoin(listing, listing.c.product_id == Product.id)
    if status in ("ready", "draft"):
        query = query.where(listing.c.status == ListingStatus(status))
    elif status == "none":
        query = query.where(listing.c.product_id.is_(None))
    if q:
        like = f"%{q.lower()}%"
        query = query.where(or_(func.lower(Product.name).like(like), func.lower(Product.hint_name).like(like),
                                func.lower(Product.brand).like(like), Product.gtin.like(like)))
    result = paginate(query.order_by(Product.id.desc()), page, 50)
    ids = [p.id for p in result.items]
    listings = {row.product_id: row for row in db.session.scalars(
        scoped(Listing, org_id).where(Listing.product_id.in_(ids)))} if ids else {}
    return result, listings


def listing_of(org_id: int, product_id: int) -> Listing | None:
    """The product's listing, if the listing phase has built one."""
    return db.session.scalar(scoped(Listing, org_id).where(Listing.product_id == product_id))
