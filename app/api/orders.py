"""/api/v1/orders: create a draft, confirm (reserves stock), ship, cancel; read with lines and totals."""
from __future__ import annotations

from flask import request

from app.api.endpoints import caller, listing, one, operation, org_id, status_of
from app.api.http import json_response
from app.api.schemas import OrderActionIn, OrderIn, OrderLineOut, OrderOut, OrderPage, OrderQuery
from app.orders import services as orders
from app.orders.models import Order
from app.orders.statuses import allowed_actions

ACTION = {"scope": "orders:write", "tag": "orders", "json": OrderActionIn, "answer": OrderOut,
          "row": (Order, "order_id")}


def order_out(order: Order) -> dict:
    lines = [OrderLineOut(item_id=line.item_id, sku=line.sku, title=line.title, quantity=line.quantity,
                          unit_price=str(line.unit_price), line_total=str(line.line_total)) for line in order.lines]
    return OrderOut(id=order.id, number=order.number, status=status_of(order.status), source=order.source,
                    customer_name=order.customer_name, customer_email=order.customer_email,
                    currency=order.currency, subtotal=str(order.subtotal), tax=str(order.tax),
                    shipping=str(order.shipping), total=str(order.total), created_at=order.created_at,
                    lines=lines, actions=[a.name for a in allowed_actions(order.status)]).model_dump(mode="json")


@operation("GET", "/orders", scope="orders:read", tag="orders", query=OrderQuery, answer=OrderPage)
def orders_list():
    """Orders, newest first."""
    return listing(Order, order_out, load=(Order.lines,), status=Order.status)


@operation("GET", "/orders/<int:order_id>", scope="orders:read", tag="orders", answer=OrderOut)
def order_get(order_id: int):
    """One order with its lines, totals and the actions its status allows."""
    return one(Order, order_id, order_out)


@operation("POST", "/orders", scope="orders:write", tag="orders", json=OrderIn, answer=OrderOut, status=201)
def order_create():
    """Create a draft order (stock is reserved when it is confirmed)."""
    body = request.context.json
    order = orders.order_create(org_id=org_id(), customer=body.customer.model_dump(),
                                lines=[line.model_dump() for line in body.lines], notes=body.notes,
                                source="api", by=caller())
    return json_response(order_out(order), 201, {"Location": f"/api/v1/orders/{order.id}"})


def _transition(order_id: int, action: str):
    note = request.context.json.note if request.context.json else ""
    order = orders.order_transition(org_id=org_id(), order_id=order_id, action=action, note=note, by=caller())
    return json_response(order_out(order))


@operation("POST", "/orders/<int:order_id>/confirm", **ACTION)
def order_confirm(order_id: int):
    """Confirm a draft: every line's stock is reserved, or none (409 naming the short SKU)."""
    return _transition(order_id, "confirm")


@operation("POST", "/orders/<int:order_id>/ship", **ACTION)
def order_ship(order_id: int):
    """Mark a confirmed order shipped: its reserved stock leaves the warehouse."""
    return _transition(order_id, "ship")


@operation("POST", "/orders/<int:order_id>/cancel", **ACTION)
def order_cancel(order_id: int):
    """Cancel an order, releasing any stock it held."""
    return _transition(order_id, "cancel")
