"""Payment state of an order: unpaid → paid (→ refunded), with who marked it and when.

A paid order keeps its reservation whatever the organisation's expiry setting says.
"""
from __future__ import annotations

from sqlalchemy import update

from app.core import audit
from app.core.errors import Conflict, DomainError, InvalidInput
from app.core.models import User, user_id_of, utcnow
from app.extensions import db
from app.orders.models import Order
from app.orders.services import load_order
from app.orders.statuses import OrderStatus, PaymentStatus
from app.orders.timeline import order_event

WEBHOOKS = {PaymentStatus.PAID: "order.paid", PaymentStatus.REFUNDED: "order.refunded"}


def order_payment_set(*, org_id: int, order_id: int, to, by: User | None, note: str = "") -> Order:
    """Mark an order paid, unpaid again (a correction) or refunded. Commits."""
    try:
        target = PaymentStatus(to)
    except ValueError:
        raise InvalidInput(f"Unknown payment state {to!r}.") from None
    try:
        order = load_order(org_id, order_id)
        before = order.payment_status
        if order.status == OrderStatus.CANCELLED and target == PaymentStatus.PAID:
            raise Conflict(f"Order {order.number} is cancelled: it cannot be marked paid.")
        PaymentStatus.check(before, target)
        values = {"payment_status": target, "payment_at": utcnow(), "payment_by_id": user_id_of(by),
                  "updated_at": utcnow()}
        if target == PaymentStatus.PAID:
            values["reserved_until"] = None  # a paid order keeps its reservation
        moved = db.session.execute(update(Order).where(Order.id == order.id, Order.payment_status == before)
                                   .values(**values).execution_options(synchronize_session=False)).rowcount
        if moved != 1:
            raise Conflict(f"Order {order.number} changed meanwhile; reload the page and try again.")
        db.session.expire(order)
        order_event(order, kind="payment", by=by, webhook=WEBHOOKS.get(target),
                    note=f"Payment: {before.label.lower()} → {target.label.lower()}."
                         + (f" {note.strip()}" if (note or "").strip() else ""))
        audit.record(org_id=org_id, actor_id=user_id_of(by), action="order.payment", object_type="order",
                     object_id=order.id, before={"payment": before.value}, after={"payment": target.value})
    except DomainError:
        db.session.rollback()
        raise
    db.session.commit()
    return order
