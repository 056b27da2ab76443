"""The orders' attention items: unpaid orders whose stock reservation runs out soon (or already has).

The release itself is the expiry job's; this only lists what a person can still act on (take the
payment, or extend the reservation) before the stock goes back on the shelf.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from app.core.attention import Item, register_query_source
from app.core.models import utcnow
from app.orders.models import Order
from app.orders.statuses import HOLDING_STOCK, PaymentStatus
from app.orders.timeline import EVENT


def _window() -> timedelta:
    return timedelta(hours=int(current_app.config["ATTENTION_EXPIRY_HOURS"]))


def _expiring(org_id: int):
    return select(Order).where(Order.organisation_id == org_id, Order.status.in_(tuple(HOLDING_STOCK)),
                               Order.payment_status == PaymentStatus.UNPAID, Order.reserved_until.is_not(None),
                               Order.reserved_until <= utcnow() + _window())


def _item(order: Order) -> Item:
    ends = order.reserved_until.strftime("%Y-%m-%d %H:%M UTC")
    past = order.reserved_until <= utcnow()
    why = (f"Unpaid; its reservation ended at {ends} and is about to be released" if past
           else f"Unpaid; its reservation ends at {ends}")
    return Item(kind="reservation_expiring", subject=str(order.id), title=f"Order {order.number} · {order.customer_name}",
                why=why, endpoint="orders.show", args={"order_id": order.id}, since=order.reserved_until,
                level="error" if past else "warning")


register_query_source("reservation_expiring", label="Reservations about to expire", roles=("staff", "manager"),
                      rows=_expiring, id_column=Order.id, order_by=(Order.reserved_until, Order.id), item=_item,
                      events=(EVENT,), order=40)
