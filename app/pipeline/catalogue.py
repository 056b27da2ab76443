"""What the analysis phase compares a new product with, kept per work horse between the products it
runs: the catalogue it matches against (the organisation's inventory items and its earlier
completed products), its keyword rules for categories, and the photo hashes of its other products
(near duplicates).

A horse runs many products in a row (app.pipeline.next_job). Reading every item, every completed
product and every photo hash for each of them cost more than the matching, and grew with every
product the pipeline finished (at 10,000 products: 15 ms for the hashes alone, and each completion
changed the catalogue, so the next product read it all again). Now one small query gives each
part's count and latest change, both read from an index:
- items and keyword rules, rarely changed while the pipeline runs, are read again whole when they
  changed;
- products, changed by every product the pipeline runs, are read incrementally: only the rows
  changed since the last read (less a margin for transactions that committed out of their clock's
  order); each changed row joins or leaves the catalogue and the hashes by what it now is
  (completed and named; hashed and not archived). All of them are read again only when the count
  says a product was deleted or was missed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.analysis.duplicates import hash_value
from app.analysis.matching import CatalogueEntry, KeywordRule
from app.extensions import db
from app.pipeline.models import Product, ProductStatus

# A row's updated_at is stamped when its transaction flushes, and becomes visible when it commits:
# a transaction stamped earlier can commit after a later one was read. Rows changed this long before
# the latest one seen are read again each time (a few rows at the pipeline's pace).
CLOCK_MARGIN = timedelta(seconds=10)


@dataclass(frozen=True)
class Known:
    """What a new product is compared with: the catalogue to match, the earlier photos' hashes, and
    the keyword rules that give it a category."""
    catalogue: list[CatalogueEntry]
    hashes: dict[int, int]  # product id → its first photo's perceptual hash
    rules: list[KeywordRule] = field(default_factory=list)


@dataclass
class _Products:
    """The organisation's products as the two sets need them, kept up to date by their changes."""
    version: tuple = ()  # (count, latest change) of all the organisation's products
    ids: set[int] = field(default_factory=set)  # every product seen: the count check
    catalogue: dict[int, CatalogueEntry] = field(default_factory=dict)  # completed and named, by id
    hashes: dict[int, int] = field(default_factory=dict)  # hashed and not archived, by id

    def refresh(self, org_id: int, version: tuple) -> None:
        count, latest = version
        seen = self.version[1] if self.version else None
        if seen is not None and latest is not None and latest >= seen:
            self._apply(read_products(org_id, changed_since=seen - CLOCK_MARGIN))
        if seen is None or latest is None or latest < seen or len(self.ids) != count:
            self.ids, self.catalogue, self.hashes = set(), {}, {}  # a product deleted, or one missed
            self._apply(read_products(org_id))
        self.version = version

    def _apply(self, rows: list) -> None:
        last = max(self.catalogue, default=0)
        out_of_order = False
        for pid, status, name, brand, gtin, category, model, phash in rows:
            self.ids.add(pid)
            if status == ProductStatus.COMPLETED and name is not None:
                out_of_order = out_of_order or (pid < last and pid not in self.catalogue)
                self.catalogue[pid] = CatalogueEntry(key=f"product:{pid}", name=name, brand=brand, gtin=gtin,
                                                     category=category, model=model)
            else:
                self.catalogue.pop(pid, None)
            value = hash_value(phash) if status != ProductStatus.ARCHIVED else None
            if value is not None:
                self.hashes[pid] = value
            else:
                self.hashes.pop(pid, None)
        if out_of_order:  # an older product completed again: the matcher sees the entries in id order
            self.catalogue = dict(sorted(self.catalogue.items()))


@dataclass
class _Cached:
    items_version: tuple = ()
    items: list[CatalogueEntry] = field(default_factory=list)
    rules_version: tuple = ()
    rules: list[KeywordRule] = field(default_factory=list)
    products: _Products = field(default_factory=_Products)


_catalogues: dict[tuple[str, int], _Cached] = {}


def known_for(org_id: int, *, exclude_product: int | None = None) -> Known:
    """Inventory items and the organisation's earlier completed products, as the matcher sees them,
    and the photo hashes of its other products (archived ones aside)."""
    key = (str(db.engine.url), org_id)
    cached = _catalogues.setdefault(key, _Cached())
    items_version, products_version, rules_version = catalogue_version(org_id)
    if cached.items_version != items_version:
        cached.items, cached.items_version = read_items(org_id), items_version
    if cached.rules_version != rules_version:
        cached.rules, cached.rules_version = read_rules(org_id), rules_version
    if cached.products.version != products_version:
        cached.products.refresh(org_id, products_version)
    excluded = f"product:{exclude_product}"
    catalogue = [entry for entry in cached.items if entry.key != excluded] + [
        entry for pid, entry in cached.products.catalogue.items() if pid != exclude_product]
    return Known(catalogue=catalogue,
                 hashes={pid: h for pid, h in cached.products.hashes.items() if pid != exclude_product},
                 rules=cached.rules)


def catalogue_version(org_id: int) -> tuple[tuple, tuple, tuple]:
    """(count, latest change) of the items, of the products (each from its (organisation, updated_at)
    index) and of the keyword rules (a handful of rows an organisation)."""
    from app.inventory.models import CategoryRule, Item

    items, products = Item.organisation_id == org_id, Product.organisation_id == org_id
    rules = CategoryRule.organisation_id == org_id
    row = db.session.execute(select(
        select(func.count()).select_from(Item).where(items).scalar_subquery(),
        select(func.max(Item.updated_at)).where(items).scalar_subquery(),
        select(func.count()).select_from(Product).where(products).scalar_subquery(),
        select(func.max(Product.updated_at)).where(products).scalar_subquery(),
        select(func.count()).select_from(CategoryRule).where(rules).scalar_subquery(),
        select(func.max(CategoryRule.updated_at)).where(rules).scalar_subquery())).one()
    return (row[0], row[1]), (row[2], row[3]), (row[4], row[5])


def read_rules(org_id: int) -> list[KeywordRule]:
    """The organisation's keyword rules for categories (the defaults until it has its own)."""
    from app.inventory.selectors import category_rules

    return [KeywordRule(category=r["path"], keywords=tuple(r["keywords"])) for r in category_rules(org_id)]


def read_items(org_id: int) -> list[CatalogueEntry]:
    from app.inventory.selectors import catalogue_entries

    return list(catalogue_entries(org_id))


def read_products(org_id: int, *, changed_since: datetime | None = None) -> list:
    """(id, status, name, brand, gtin, category, model, phash) of the products, in id order."""
    query = select(Product.id, Product.status, Product.name, Product.brand, Product.gtin, Product.category,
                   Product.model, Product.phash).where(Product.organisation_id == org_id)
    if changed_since is not None:
        query = query.where(Product.updated_at >= changed_since)
    return db.session.execute(query.order_by(Product.id)).all()
