"""/api/v1/inventory: items with their stock, the stock ledger, adjustments with a reason."""
from __future__ import annotations

from flask import request
from sqlalchemy import select

from app.api.endpoints import caller, listing, one, operation, org_id, status_of
from app.api.http import json_response
from app.api.schemas import AdjustmentIn, ItemOut, ItemPage, ItemQuery, ListQuery, MovementOut, MovementPage
from app.core.tenancy import get_or_404
from app.inventory.models import Item, StockMovement
from app.inventory.stock import stock_adjust


def item_out(item: Item) -> dict:
    return ItemOut(id=item.id, sku=item.sku, title=item.title, gtin=item.gtin, category=item.category_path,
                   price=None if item.price is None else str(item.price), currency=item.currency,
                   on_hand=item.on_hand, reserved=item.reserved, available=item.available,
                   reorder_point=item.reorder_point, status=status_of(item.status),
                   updated_at=item.updated_at).model_dump(mode="json")


def movement_out(move: StockMovement) -> dict:
    return MovementOut(id=move.id, kind=status_of(move.kind), on_hand_delta=move.on_hand_delta,
                       reserved_delta=move.reserved_delta, reason=move.reason, reference=move.reference,
                       created_at=move.created_at).model_dump(mode="json")


@operation("GET", "/inventory/items", scope="inventory:read", tag="inventory", query=ItemQuery, answer=ItemPage)
def items_list():
    """Inventory items with their stock, newest first."""
    return listing(Item, item_out, sku=Item.sku)


@operation("GET", "/inventory/items/<int:item_id>", scope="inventory:read", tag="inventory", answer=ItemOut)
def item_get(item_id: int):
    """One inventory item with on hand, reserved and available."""
    return one(Item, item_id, item_out)


@operation("GET", "/inventory/items/<int:item_id>/movements", scope="inventory:read", tag="inventory",
           query=ListQuery, answer=MovementPage)
def item_movements(item_id: int):
    """The item's stock ledger, newest first."""
    get_or_404(Item, item_id, org_id())
    ledger = select(StockMovement).where(StockMovement.organisation_id == org_id(), StockMovement.item_id == item_id)
    return listing(StockMovement, movement_out, base=ledger)


@operation("POST", "/inventory/items/<int:item_id>/adjustments", scope="inventory:write", tag="inventory",
           json=AdjustmentIn, answer=ItemOut, status=201, row=(Item, "item_id"))
def item_adjust(item_id: int):
    """Correct the stock on hand with a reason; recorded in the ledger."""
    body = request.context.json
    item = stock_adjust(org_id=org_id(), item_id=item_id, delta=body.delta, reason=body.reason, by=caller())
    return json_response(item_out(item), 201)
