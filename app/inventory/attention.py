"""The inventory's attention items: items at or below their reorder point (out of stock included)."""
from __future__ import annotations

from sqlalchemy import select

from app.core.attention import Item, register_query_source
from app.inventory.models import Item as StockItem
from app.inventory.stock import EVENT


def _low(org_id: int):
    return select(StockItem).where(StockItem.organisation_id == org_id, StockItem.low_stock_clause())


def _item(row: StockItem) -> Item:
    available = row.on_hand - row.reserved
    why = (f"Out of stock (reorder point {row.reorder_point})" if available <= 0
           else f"{available} available, at or below the reorder point of {row.reorder_point}")
    return Item(kind="low_stock", subject=str(row.id), title=f"{row.sku} · {row.title}", why=why,
                endpoint="inventory.item", args={"item_id": row.id}, since=row.updated_at,
                level="error" if available <= 0 else "warning")


# Most urgent first: the furthest below the reorder point (the shortfall index serves it).
register_query_source("low_stock", label="Items at or below their reorder point", roles=("manager",), rows=_low,
                      id_column=StockItem.id,
                      order_by=((StockItem.on_hand - StockItem.reserved - StockItem.reorder_point).asc(), StockItem.id),
                      item=_item, events=(EVENT,), order=50)
