"""Stock reports and CSV exports: stock value by category tree, the items and the ledger.

Value is on hand × the item's unit cost (at cost) and × its price (at price), per currency: items
in different currencies are never added together, and an item without a cost or a price adds
nothing to that value but is counted, so the report says how much of the stock it could not value.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from app.core.errors import InvalidInput
from app.extensions import db
from app.formats.spreadsheet import csv_text
from app.inventory.models import Category, Item, StockMovement

UNCATEGORISED = "(no category)"
SEPARATOR = " › "
MAX_EXPORT_ROWS = 100_000


@dataclass
class CategoryStock:
    """Stock of one category and everything under it."""

    path: str
    depth: int
    items: int = 0
    on_hand: int = 0
    reserved: int = 0
    at_cost: dict[str, Decimal] = field(default_factory=dict)  # currency → value
    at_price: dict[str, Decimal] = field(default_factory=dict)
    without_cost: int = 0  # items with stock but no unit cost
    without_price: int = 0

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


def _prefixes(path: str) -> list[str]:
    parts = path.split(SEPARATOR)
    return [SEPARATOR.join(parts[:n]) for n in range(1, len(parts) + 1)]


def stock_value_tree(org_id: int) -> list[CategoryStock]:
    """Every category (with its parents rolled up), in tree order, with stock and value per currency."""
    has_stock = Item.on_hand > 0
    rows = db.session.execute(
        select(Category.path, Item.currency, func.count(Item.id), func.sum(Item.on_hand), func.sum(Item.reserved),
               func.sum(Item.on_hand * Item.unit_cost), func.sum(Item.on_hand * Item.price),
               func.sum(case((has_stock & Item.unit_cost.is_(None), 1), else_=0)),
               func.sum(case((has_stock & Item.price.is_(None), 1), else_=0)))
        .outerjoin(Category, Item.category_id == Category.id)
        .where(Item.organisation_id == org_id, Item.discontinued.is_(False))
        .group_by(Category.path, Item.currency))
    tree: dict[str, CategoryStock] = {}
    for path, currency, count, on_hand, reserved, at_cost, at_price, no_cost, no_price in rows:
        for prefix in _prefixes(path or UNCATEGORISED):
            node = tree.setdefault(prefix, CategoryStock(prefix, prefix.count(SEPARATOR)))
            node.items += count
            node.on_hand += int(on_hand or 0)
            node.reserved += int(reserved or 0)
            node.without_cost += int(no_cost or 0)
            node.without_price += int(no_price or 0)
            for totals, value in ((node.at_cost, at_cost), (node.at_price, at_price)):
                if value is not None and currency:
                    totals[currency] = totals.get(currency, Decimal("0")) + Decimal(value).quantize(Decimal("0.01"))
    return [tree[k] for k in sorted(tree, key=lambda p: (p == UNCATEGORISED, p.split(SEPARATOR)))]


def grand_totals(tree: list[CategoryStock]) -> CategoryStock:
    """The sum of the top-level categories."""
    total = CategoryStock("All stock", 0)
    for node in (n for n in tree if n.depth == 0):
        total.items += node.items
        total.on_hand += node.on_hand
        total.reserved += node.reserved
        total.without_cost += node.without_cost
        total.without_price += node.without_price
        for mine, theirs in ((total.at_cost, node.at_cost), (total.at_price, node.at_price)):
            for currency, value in theirs.items():
                mine[currency] = mine.get(currency, Decimal("0")) + value
    return total


def parse_range(date_from: str, date_to: str) -> tuple[datetime, datetime]:
    """A UTC [start, end) range from two YYYY-MM-DD dates, both included; InvalidInput naming the field."""
    parsed: dict[str, date] = {}
    for name, raw in (("date_from", date_from), ("date_to", date_to)):
        try:
            parsed[name] = date.fromisoformat((raw or "").strip())
        except ValueError:
            raise InvalidInput(f"Enter the {'first' if name == 'date_from' else 'last'} day as YYYY-MM-DD "
                               f"(got {raw!r}).", field=name) from None
    if parsed["date_to"] < parsed["date_from"]:
        raise InvalidInput("The last day comes before the first day.", field="date_to")
    return (datetime.combine(parsed["date_from"], time.min, UTC),
            datetime.combine(parsed["date_to"] + timedelta(days=1), time.min, UTC))


def check_size(count: int) -> None:
    if count > MAX_EXPORT_ROWS:
        raise InvalidInput(f"That is {count:,} rows; an export holds at most {MAX_EXPORT_ROWS:,}. "
                           "Choose a shorter date range.", field="date_from")


ITEM_COLUMNS = ["sku", "title", "category", "on_hand", "reserved", "available", "reorder_point", "unit_cost",
                "price", "currency", "status", "gtin", "brand", "model", "supplier", "discontinued"]


def items_csv(org_id: int) -> str:
    """Every item of the organisation as formula-safe CSV."""
    query = select(Item).options(joinedload(Item.category)).where(Item.organisation_id == org_id)
    check_size(db.session.scalar(select(func.count()).select_from(query.subquery())))
    rows = ({"sku": i.sku, "title": i.title, "category": i.category_path, "on_hand": i.on_hand,
             "reserved": i.reserved, "available": i.available, "reorder_point": i.reorder_point,
             "unit_cost": i.unit_cost, "price": i.price, "currency": i.currency, "status": i.status.value,
             "gtin": i.gtin, "brand": i.brand, "model": i.model, "supplier": i.supplier,
             "discontinued": "yes" if i.discontinued else "no"}
            for i in db.session.scalars(query.order_by(Item.sku)))
    return csv_text(rows, ITEM_COLUMNS)


LEDGER_COLUMNS = ["at_utc", "sku", "kind", "on_hand_delta", "reserved_delta", "reference", "reason", "by"]


def ledger_csv(org_id: int, start: datetime, end: datetime) -> str:
    """Stock movements created in [start, end) as formula-safe CSV, oldest first."""
    where = (StockMovement.organisation_id == org_id, StockMovement.created_at >= start,
             StockMovement.created_at < end)
    check_size(db.session.scalar(select(func.count()).select_from(StockMovement).where(*where)))
    query = (select(StockMovement).options(joinedload(StockMovement.item), joinedload(StockMovement.user))
             .where(*where).order_by(StockMovement.created_at, StockMovement.id))
    rows = ({"at_utc": m.created_at.strftime("%Y-%m-%d %H:%M:%S"), "sku": m.item.sku, "kind": m.kind.value,
             "on_hand_delta": m.on_hand_delta, "reserved_delta": m.reserved_delta, "reference": m.reference,
             "reason": m.reason, "by": m.user.display_name if m.user else ""}
            for m in db.session.scalars(query))
    return csv_text(rows, LEDGER_COLUMNS)


def low_stock(org_id: int, limit: int = 200) -> list[Item]:
    """Items at or below their reorder point, the largest shortfall first."""
    return list(db.session.scalars(select(Item).options(joinedload(Item.category)).where(
        Item.organisation_id == org_id, Item.low_stock_clause())
        .order_by((Item.on_hand - Item.reserved - Item.reorder_point).asc(), Item.sku).limit(limit)))


def currencies(values: dict[str, Decimal]) -> str:
    """'1,234.50 EUR · 99.00 USD', or '—' when nothing could be valued."""
    return " · ".join(f"{v:,.2f} {c}" for c, v in sorted(values.items())) or "—"
