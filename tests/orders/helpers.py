"""Items with real stock (through the inventory ledger) and orders, for the orders tests."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from app.core.models import User
from app.extensions import db
from app.inventory.models import Category, Item, StockMovement
from app.inventory.stock import stock_adjust
from app.orders import services


def make_item(org_id: int, sku: str, *, price: str = "10.00", currency: str = "EUR", stock: int = 0,
              title: str | None = None, category: str | None = None) -> Item:
    category_row = None
    if category:
        category_row = db.session.scalar(select(Category).where(Category.organisation_id == org_id,
                                                                Category.path == category))
        if category_row is None:
            category_row = Category(organisation_id=org_id, name=category.split(" › ")[-1], path=category)
            db.session.add(category_row)
    item = Item(organisation_id=org_id, sku=sku, title=title or f"Item {sku}", price=Decimal(price),
                currency=currency, category=category_row, search_text=sku.lower())
    db.session.add(item)
    db.session.commit()
    if stock:
        stock_adjust(org_id=org_id, item_id=item.id, delta=stock, reason="opening count", by=None)
    return db.session.get(Item, item.id)


def make_order(org_id: int, lines: list[tuple[Item, int]] | list[dict], *, by: User | None = None,
               customer: dict | None = None, **kwargs):
    specs = [line if isinstance(line, dict) else {"item_id": line[0].id, "quantity": line[1]} for line in lines]
    return services.order_create(org_id=org_id, customer=customer or {"name": "Guest Buyer"}, lines=specs,
                                 by=by, **kwargs)


def stock_of(item_id: int) -> tuple[int, int]:
    """(on_hand, reserved) as stored, read fresh."""
    db.session.expire_all()
    item = db.session.get(Item, item_id)
    return item.on_hand, item.reserved


def ledger_sums(item_id: int) -> tuple[int, int]:
    """(sum of on_hand deltas, sum of reserved deltas) of the item's movements."""
    row = db.session.execute(select(func.coalesce(func.sum(StockMovement.on_hand_delta), 0),
                                    func.coalesce(func.sum(StockMovement.reserved_delta), 0))
                             .where(StockMovement.item_id == item_id)).one()
    return int(row[0]), int(row[1])
