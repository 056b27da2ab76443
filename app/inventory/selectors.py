"""Reads other domains use: the catalogue for matching, the category rules, items by SKU."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, false, func, or_, select
from sqlalchemy.orm import joinedload

from app.analysis.matching import CatalogueEntry
from app.core.pagination import like_escape
from app.extensions import db
from app.inventory.category_rules import default_rule_dicts
from app.inventory.models import Category, CategoryRule, Item, ItemStatus, StockMovement


def catalogue_entries(org_id: int) -> list[CatalogueEntry]:
    """Every item of the organisation as the matcher sees it (key "item:<id>")."""
    rows = db.session.scalars(select(Item).options(joinedload(Item.category))
                              .where(Item.organisation_id == org_id).order_by(Item.id))
    return [CatalogueEntry(key=f"item:{i.id}", name=i.title, sku=i.sku, brand=i.brand, gtin=i.gtin,
                           category=i.category_path, model=i.model) for i in rows]


def category_rules(org_id: int) -> list[dict]:
    """The organisation's rules as {path, keywords, priority}; the defaults until it has its own."""
    rows = db.session.scalars(select(CategoryRule).where(CategoryRule.organisation_id == org_id)
                              .order_by(CategoryRule.priority.desc(), CategoryRule.id)).all()
    return [r.to_dict() for r in rows] if rows else default_rule_dicts()


def item_by_sku(org_id: int, sku: str) -> Item | None:
    """The organisation's item with this SKU (exact match), or None."""
    return db.session.scalar(select(Item).where(Item.organisation_id == org_id, Item.sku == sku.strip()))


SORTS = {
    "sku": Item.sku, "title": Item.title, "available": Item.on_hand - Item.reserved, "on_hand": Item.on_hand,
    "reserved": Item.reserved, "updated": Item.updated_at,
}
UNIQUE_SORTS = {"sku"}  # no two items of an organisation share it: no tie to break
STATUSES = tuple(s.value for s in ItemStatus)


@dataclass(frozen=True)
class ItemFilters:
    q: str = ""
    category_id: int | None = None
    status: str = ""
    low: bool = False
    sort: str = "sku"

    @classmethod
    def from_args(cls, args) -> ItemFilters:
        """Read filters from a query string; unknown values are ignored rather than refused."""
        try:
            category_id = int(args.get("category") or 0) or None
        except ValueError:
            category_id = None
        status = args.get("status", "")
        sort = args.get("sort", "sku")
        return cls(q=(args.get("q") or "").strip()[:100], category_id=category_id,
                   status=status if status in STATUSES else "", low=args.get("low") in ("1", "on", "true"),
                   sort=sort if sort.lstrip("-") in SORTS else "sku")


def item_list_query(org_id: int, filters: ItemFilters) -> Select:
    """Items of the organisation matching the list page's search, filters and sort."""
    query = select(Item).options(joinedload(Item.category)).where(Item.organisation_id == org_id)
    for word in filters.q.casefold().split()[:5]:
        query = query.where(Item.search_text.like(f"%{like_escape(word)}%", escape="\\"))
    if filters.category_id:
        path = db.session.scalar(select(Category.path).where(Category.id == filters.category_id,
                                                             Category.organisation_id == org_id))
        if path is None:
            return query.where(false())
        subtree = select(Category.id).where(Category.organisation_id == org_id,
                                            or_(Category.path == path, Category.path.startswith(path + " › ")))
        query = query.where(Item.category_id.in_(subtree))
    if filters.status:
        query = query.where(Item.status_clause(filters.status))
    if filters.low:
        query = query.where(Item.low_stock_clause())
    name = filters.sort.lstrip("-")
    order = SORTS[name].desc() if filters.sort.startswith("-") else SORTS[name].asc()
    # A SKU is unique within the organisation, so it orders alone: PostgreSQL then walks the SKU
    # index for a deep page (11 ms at 45,000 rows) instead of sorting every row before it by id (20 ms).
    return query.order_by(order) if name in UNIQUE_SORTS else query.order_by(order, Item.id)


def low_stock_items(org_id: int, limit: int = 10) -> tuple[int, list[Item]]:
    """How many items are at or below their reorder point, and the most urgent few."""
    where = (Item.organisation_id == org_id, Item.low_stock_clause())
    total = db.session.scalar(select(func.count()).select_from(Item).where(*where))
    rows = db.session.scalars(select(Item).where(*where)
                              .order_by((Item.on_hand - Item.reserved - Item.reorder_point).asc(), Item.sku)
                              .limit(limit)).all()
    return total or 0, list(rows)


def item_count(org_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Item).where(Item.organisation_id == org_id)) or 0


def movements_query(org_id: int, item_id: int) -> Select:
    return (select(StockMovement).options(joinedload(StockMovement.user))
            .where(StockMovement.organisation_id == org_id, StockMovement.item_id == item_id)
            .order_by(StockMovement.id.desc()))


def recent_imports(org_id: int, limit: int = 50):
    """The organisation's latest supplier imports, newest first."""
    from app.inventory.import_models import SupplierImport

    return db.session.scalars(select(SupplierImport).where(SupplierImport.organisation_id == org_id)
                              .order_by(SupplierImport.id.desc()).limit(limit)).all()


def price_list_query(org_id: int, q: str = "", unpriced_only: bool = False) -> Select:
    """Items for the bulk price editor: a title/SKU search, optionally only those without a price."""
    query = item_list_query(org_id, ItemFilters(q=q)).where(Item.discontinued.is_(False))
    return query.where(Item.price.is_(None)) if unpriced_only else query


def unpriced_counts(org_id: int) -> tuple[int, int]:
    """How many sellable items have no price, and how many of those have a unit cost to price from."""
    where = (Item.organisation_id == org_id, Item.discontinued.is_(False), Item.price.is_(None))
    total = db.session.scalar(select(func.count()).select_from(Item).where(*where)) or 0
    with_cost = db.session.scalar(select(func.count()).select_from(Item).where(
        *where, Item.unit_cost.is_not(None), Item.unit_cost > 0)) or 0
    return total, with_cost
