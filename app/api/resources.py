"""The resources of /api/v1: products, inventory items with their stock ledger, orders.

Each view: scope check, one scoped selector or one service call (the same the pages use, so the
same rules, audit and events), then JSON through the answer models."""
from __future__ import annotations

from flask import g, request
from spectree import Response as Answers
from sqlalchemy import select

from app.api.auth import in_organisation, requires
from app.api.http import idempotent, json_response, page
from app.api.schemas import (
    AdjustmentIn,
    BatchOut,
    BatchPage,
    BatchQuery,
    ItemOut,
    ItemPage,
    ItemQuery,
    ListQuery,
    MovementOut,
    MovementPage,
    OrderActionIn,
    OrderIn,
    OrderLineOut,
    OrderOut,
    OrderPage,
    OrderQuery,
    PhaseOut,
    ProductOut,
    ProductPage,
    ProductQuery,
)
from app.api.spec import api
from app.api.views import bp
from app.batches.models import Batch
from app.core.tenancy import get_or_404
from app.inventory.models import Item, StockMovement
from app.inventory.stock import stock_adjust
from app.orders import services as orders
from app.orders.models import Order
from app.orders.statuses import allowed_actions
from app.pipeline import services as pipeline
from app.pipeline.models import Product


def _org() -> int:
    return g.api_token.organisation_id


def _status(enum_value) -> str:
    return getattr(enum_value, "value", enum_value)


def _product(product: Product) -> dict:
    phases = [PhaseOut(name=p.name, status=_status(p.status), attempts=p.attempts, error=p.error,
                       started_at=p.started_at, finished_at=p.finished_at)
              for p in sorted(product.phases, key=lambda p: p.position)]
    return ProductOut(id=product.id, status=_status(product.status), name=product.name, brand=product.brand,
                      model=product.model, category=product.category, gtin=product.gtin,
                      confidence=product.confidence, confidence_source=product.confidence_source,
                      evidence=product.evidence, created_at=product.created_at, phases=phases).model_dump(mode="json")


def _item(item: Item) -> dict:
    return ItemOut(id=item.id, sku=item.sku, title=item.title, gtin=item.gtin, category=item.category_path,
                   price=None if item.price is None else str(item.price), currency=item.currency,
                   on_hand=item.on_hand, reserved=item.reserved, available=item.available,
                   reorder_point=item.reorder_point, status=_status(item.status),
                   updated_at=item.updated_at).model_dump(mode="json")


def _order(order: Order) -> dict:
    lines = [OrderLineOut(item_id=line.item_id, sku=line.sku, title=line.title, quantity=line.quantity,
                          unit_price=str(line.unit_price), line_total=str(line.line_total)) for line in order.lines]
    return OrderOut(id=order.id, number=order.number, status=_status(order.status), source=order.source,
                    customer_name=order.customer_name, customer_email=order.customer_email,
                    currency=order.currency, subtotal=str(order.subtotal), tax=str(order.tax),
                    shipping=str(order.shipping), total=str(order.total), created_at=order.created_at,
                    lines=lines, actions=[a.name for a in allowed_actions(order.status)]).model_dump(mode="json")


# --- products ------------------------------------------------------------------------------

@bp.get("/products")
@requires("products:read")
@api.validate(query=ProductQuery, resp=Answers(HTTP_200=ProductPage), tags=["products"], skip_validation=False)
def products_list():
    """Products of the intake pipeline, newest first."""
    q = request.context.query
    query = select(Product).where(Product.organisation_id == _org())
    if q.status:
        query = query.where(Product.status == q.status)
    rows, following = page(query, Product.id, cursor=q.cursor, limit=q.limit)
    return json_response({"data": [_product(p) for p in rows], "next_cursor": following})


@bp.get("/products/<int:product_id>")
@requires("products:read")
@api.validate(resp=Answers(HTTP_200=ProductOut), tags=["products"])
def product_get(product_id: int):
    """One product with its phases and the evidence the analysis recorded."""
    return json_response(_product(get_or_404(Product, product_id, _org())))


def _product_action(product_id: int, action) -> dict:
    return _product(action(org_id=_org(), product_id=product_id, by=g.api_token.user))


@bp.post("/products/<int:product_id>/start")
@requires("products:write")
@in_organisation(Product, "product_id")
@idempotent
@api.validate(resp=Answers(HTTP_200=ProductOut), tags=["products"])
def product_start(product_id: int):
    """Start the pipeline of an uploaded product."""
    return json_response(_product_action(product_id, pipeline.product_start))


@bp.post("/products/<int:product_id>/stop")
@requires("products:write")
@in_organisation(Product, "product_id")
@idempotent
@api.validate(resp=Answers(HTTP_200=ProductOut), tags=["products"])
def product_stop(product_id: int):
    """Stop a product's running pipeline."""
    return json_response(_product_action(product_id, pipeline.product_stop))


@bp.post("/products/<int:product_id>/retry")
@requires("products:write")
@in_organisation(Product, "product_id")
@idempotent
@api.validate(resp=Answers(HTTP_200=ProductOut), tags=["products"])
def product_retry(product_id: int):
    """Retry the failed phase of a product."""
    return json_response(_product_action(product_id, pipeline.product_retry))


# --- inventory -----------------------------------------------------------------------------

@bp.get("/inventory/items")
@requires("inventory:read")
@api.validate(query=ItemQuery, resp=Answers(HTTP_200=ItemPage), tags=["inventory"])
def items_list():
    """Inventory items with their stock, newest first."""
    q = request.context.query
    query = select(Item).where(Item.organisation_id == _org())
    if q.sku:
        query = query.where(Item.sku == q.sku)
    rows, following = page(query, Item.id, cursor=q.cursor, limit=q.limit)
    return json_response({"data": [_item(i) for i in rows], "next_cursor": following})


@bp.get("/inventory/items/<int:item_id>")
@requires("inventory:read")
@api.validate(resp=Answers(HTTP_200=ItemOut), tags=["inventory"])
def item_get(item_id: int):
    """One inventory item with on hand, reserved and available."""
    return json_response(_item(get_or_404(Item, item_id, _org())))


@bp.get("/inventory/items/<int:item_id>/movements")
@requires("inventory:read")
@api.validate(query=ListQuery, resp=Answers(HTTP_200=MovementPage), tags=["inventory"])
def item_movements(item_id: int):
    """The item's stock ledger, newest first."""
    get_or_404(Item, item_id, _org())
    q = request.context.query
    query = select(StockMovement).where(StockMovement.organisation_id == _org(), StockMovement.item_id == item_id)
    rows, following = page(query, StockMovement.id, cursor=q.cursor, limit=q.limit)
    data = [MovementOut(id=m.id, kind=_status(m.kind), on_hand_delta=m.on_hand_delta,
                        reserved_delta=m.reserved_delta, reason=m.reason, reference=m.reference,
                        created_at=m.created_at).model_dump(mode="json") for m in rows]
    return json_response({"data": data, "next_cursor": following})


@bp.post("/inventory/items/<int:item_id>/adjustments")
@requires("inventory:write")
@in_organisation(Item, "item_id")
@idempotent
@api.validate(json=AdjustmentIn, resp=Answers(HTTP_201=ItemOut), tags=["inventory"])
def item_adjust(item_id: int):
    """Correct the stock on hand with a reason; recorded in the ledger."""
    body = request.context.json
    item = stock_adjust(org_id=_org(), item_id=item_id, delta=body.delta, reason=body.reason, by=g.api_token.user)
    return json_response(_item(item), 201)


# --- orders --------------------------------------------------------------------------------

@bp.get("/orders")
@requires("orders:read")
@api.validate(query=OrderQuery, resp=Answers(HTTP_200=OrderPage), tags=["orders"])
def orders_list():
    """Orders, newest first."""
    q = request.context.query
    query = select(Order).where(Order.organisation_id == _org())
    if q.status:
        query = query.where(Order.status == q.status)
    rows, following = page(query, Order.id, cursor=q.cursor, limit=q.limit)
    return json_response({"data": [_order(o) for o in rows], "next_cursor": following})


@bp.get("/orders/<int:order_id>")
@requires("orders:read")
@api.validate(resp=Answers(HTTP_200=OrderOut), tags=["orders"])
def order_get(order_id: int):
    """One order with its lines, totals and the actions its status allows."""
    return json_response(_order(get_or_404(Order, order_id, _org())))


@bp.post("/orders")
@requires("orders:write")
@idempotent
@api.validate(json=OrderIn, resp=Answers(HTTP_201=OrderOut), tags=["orders"])
def order_create():
    """Create a draft order (stock is reserved when it is confirmed)."""
    body = request.context.json
    order = orders.order_create(org_id=_org(), customer=body.customer.model_dump(),
                                lines=[line.model_dump() for line in body.lines], notes=body.notes,
                                source="api", by=g.api_token.user)
    return json_response(_order(order), 201, {"Location": f"/api/v1/orders/{order.id}"})


def _order_action(order_id: int, action: str):
    note = request.context.json.note if request.context.json else ""
    order = orders.order_transition(org_id=_org(), order_id=order_id, action=action, note=note,
                                    by=g.api_token.user)
    return json_response(_order(order))


@bp.post("/orders/<int:order_id>/confirm")
@requires("orders:write")
@in_organisation(Order, "order_id")
@idempotent
@api.validate(json=OrderActionIn, resp=Answers(HTTP_200=OrderOut), tags=["orders"])
def order_confirm(order_id: int):
    """Confirm a draft: every line's stock is reserved, or none (409 naming the short SKU)."""
    return _order_action(order_id, "confirm")


@bp.post("/orders/<int:order_id>/ship")
@requires("orders:write")
@in_organisation(Order, "order_id")
@idempotent
@api.validate(json=OrderActionIn, resp=Answers(HTTP_200=OrderOut), tags=["orders"])
def order_ship(order_id: int):
    """Mark a confirmed order shipped: its reserved stock leaves the warehouse."""
    return _order_action(order_id, "ship")


@bp.post("/orders/<int:order_id>/cancel")
@requires("orders:write")
@in_organisation(Order, "order_id")
@idempotent
@api.validate(json=OrderActionIn, resp=Answers(HTTP_200=OrderOut), tags=["orders"])
def order_cancel(order_id: int):
    """Cancel an order, releasing any stock it held."""
    return _order_action(order_id, "cancel")




# --- CSV batches ---------------------------------------------------------------------------

def _batch(batch: Batch) -> dict:
    return BatchOut(id=batch.id, filename=batch.filename, status=_status(batch.status), total_rows=batch.total_rows,
                    processed_rows=batch.processed_rows, successful_rows=batch.successful_rows,
                    failed_rows=batch.failed_rows, error=batch.error, created_at=batch.created_at,
                    started_at=batch.started_at, finished_at=batch.finished_at).model_dump(mode="json")


@bp.get("/batches")
@requires("batches:read")
@api.validate(query=BatchQuery, resp=Answers(HTTP_200=BatchPage), tags=["batches"])
def batches_list():
    """CSV batches with their progress, newest first."""
    q = request.context.query
    query = select(Batch).where(Batch.organisation_id == _org())
    if q.status:
        query = query.where(Batch.status == q.status)
    rows, following = page(query, Batch.id, cursor=q.cursor, limit=q.limit)
    return json_response({"data": [_batch(b) for b in rows], "next_cursor": following})


@bp.get("/batches/<int:batch_id>")
@requires("batches:read")
@api.validate(resp=Answers(HTTP_200=BatchOut), tags=["batches"])
def batch_get(batch_id: int):
    """One batch: status and rows processed, succeeded and failed."""
    return json_response(_batch(get_or_404(Batch, batch_id, _org())))
