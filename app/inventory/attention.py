"""The inventory's attention items: items at or below their reorder point (out of stock included), and
stock put aside by hand whose hold runs out soon (releasing it is the expiry job's; this lists it)."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.core.attention import Item, register_query_source
from app.core.models import utcnow
from app.inventory.models import HoldStatus, StockHold
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


# --- stock put aside by hand whose hold runs out soon ----------------------------------------------

def _holds_expiring(org_id: int):
    soon = utcnow() + timedelta(hours=int(current_app.config["ATTENTION_EXPIRY_HOURS"]))
    return select(StockHold).where(StockHold.organisation_id == org_id, StockHold.status == HoldStatus.ACTIVE,
                                   StockHold.expires_at.is_not(None), StockHold.expires_at <= soon)


def _hold_item(hold: StockHold) -> Item:
    ends = hold.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    past = hold.expires_at <= utcnow()
    why = (f"{hold.quantity} put aside{f' ({hold.reason})' if hold.reason else ''}; "
           + (f"the hold ended at {ends} and is about to be released" if past else f"the hold ends at {ends}"))
    return Item(kind="hold_expiring", subject=str(hold.id), title=f"{hold.reference} · {hold.item.sku} · {hold.item.title}",
                why=why, endpoint="inventory.item", args={"item_id": hold.item_id}, since=hold.expires_at,
                level="error" if past else "warning")


register_query_source("hold_expiring", label="Stock holds about to expire", roles=("staff", "manager"),
                      rows=_holds_expiring, id_column=StockHold.id, order_by=(StockHold.expires_at, StockHold.id),
                      item=_hold_item, options=(joinedload(StockHold.item),), events=(EVENT,), order=41)
