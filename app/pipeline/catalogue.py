"""The catalogue the analysis phase matches against: the organisation's inventory items and its
earlier completed products, kept per work horse between the products it runs.

A horse runs many products in a row (app.pipeline.next_job). Reading every item and every
completed product for each of them cost more than the matching, and grew with every product the
pipeline finished: each completion changed the catalogue, so the next product read it all again.
Now each part is checked with one small query (a count and the latest change):
- items, rarely changed while the pipeline runs, are read again whole when they changed;
- completed products, changed by every product the pipeline finishes, are read incrementally:
  only the rows changed since the last read (less a margin for transactions that committed out
  of their clock's order), and whole again only when the count says one left the set (archived,
  reopened, its name cleared) in a way the changed rows cannot show.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.analysis.matching import CatalogueEntry
from app.extensions import db
from app.pipeline.models import Product, ProductStatus

# A row's updated_at is stamped when its transaction flushes, and becomes visible when it commits:
# a transaction stamped earlier can commit after a later one was read. Rows changed this long before
# the latest one seen are read again each time (a few rows at the pipeline's pace).
CLOCK_MARGIN = timedelta(seconds=10)


@dataclass
class _Cached:
    items_version: tuple = ()
    items: list[CatalogueEntry] = field(default_factory=list)
    products_version: tuple = ()
    products: dict[int, CatalogueEntry] = field(default_factory=dict)


_catalogues: dict[tuple[str, int], _Cached] = {}


def catalogue_for(org_id: int, *, exclude_product: int | None = None) -> list[CatalogueEntry]:
    """Inventory items and the organisation's earlier completed products, as the matcher sees them."""
    key = (str(db.engine.url), org_id)
    cached = _catalogues.setdefault(key, _Cached())
    items_version, products_version = catalogue_version(org_id)
    if cached.items_version != items_version:
        cached.items, cached.items_version = read_items(org_id), items_version
    if cached.products_version != products_version:
        _refresh_products(org_id, cached, products_version)
    excluded = f"product:{exclude_product}"
    return [entry for entry in cached.items if entry.key != excluded] + [
        entry for pid, entry in cached.products.items() if pid != exclude_product]


def completed_products(org_id: int):
    return (Product.organisation_id == org_id, Product.status == ProductStatus.COMPLETED, Product.name.is_not(None))


def catalogue_version(org_id: int) -> tuple[tuple, tuple]:
    """(count, latest change) of the items and of the completed products."""
    from app.inventory.models import Item

    items = Item.organisation_id == org_id
    products = completed_products(org_id)
    row = db.session.execute(select(
        select(func.count()).select_from(Item).where(items).scalar_subquery(),
        select(func.max(Item.updated_at)).where(items).scalar_subquery(),
        select(func.count()).select_from(Product).where(*products).scalar_subquery(),
        select(func.max(Product.updated_at)).where(*products).scalar_subquery())).one()
    return (row[0], row[1]), (row[2], row[3])


def read_items(org_id: int) -> list[CatalogueEntry]:
    from app.inventory.selectors import catalogue_entries

    return list(catalogue_entries(org_id))


def read_products(org_id: int, *, changed_since: datetime | None = None) -> dict[int, CatalogueEntry]:
    query = select(Product.id, Product.name, Product.brand, Product.gtin, Product.category, Product.model).where(
        *completed_products(org_id))
    if changed_since is not None:
        query = query.where(Product.updated_at >= changed_since)
    return {pid: CatalogueEntry(key=f"product:{pid}", name=name, brand=brand, gtin=gtin, category=category,
                                model=model)
            for pid, name, brand, gtin, category, model in db.session.execute(query.order_by(Product.id))}


def _refresh_products(org_id: int, cached: _Cached, version: tuple) -> None:
    count, latest = version
    seen = cached.products_version[1] if cached.products_version else None
    if seen is not None and latest is not None and latest >= seen:
        changed = read_products(org_id, changed_since=seen - CLOCK_MARGIN)
        out_of_order = cached.products and min(changed.keys() - cached.products.keys(), default=max(
            cached.products)) < max(cached.products)
        cached.products.update(changed)
        if out_of_order:  # an older product completed again: keep the entries in id order, as a whole read has them
            cached.products = dict(sorted(cached.products.items()))
    if seen is None or latest is None or latest < seen or len(cached.products) != count:
        # The rows read so far hold every product in the set, and more when one left it: the count
        # tells (a product that left keeps its entry until the whole set is read again).
        cached.products = read_products(org_id)
    cached.products_version = version
