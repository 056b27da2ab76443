"""Reservations that expire: an unpaid confirmed order gives its stock back when its time is up.

When an order is confirmed while unpaid and the organisation set a reservation time
(app.inventory.holds.reservation_hours), the order carries `reserved_until`. A sweeper on the
lease engine looks for orders past it and expires each in its own transaction: an UPDATE guarded
by status "confirmed", payment "unpaid" and the deadline moves it back to draft — so two workers
sweeping at once expire it once, and an order paid, started or shipped meanwhile is never
touched — then the unshipped units are released through the ledger, the timeline says why and
the order page shows a notice to its owner.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import select, update

from app.core import audit, leases
from app.core.database import write_intent
from app.core.models import utcnow
from app.extensions import db
from app.inventory import stock as inventory_stock
from app.orders.lines import stock_lines
from app.orders.models import Order
from app.orders.statuses import OrderStatus, PaymentStatus
from app.orders.timeline import order_event


def _expirable(now: datetime):
    return (Order.status == OrderStatus.CONFIRMED, Order.payment_status == PaymentStatus.UNPAID,
            Order.reserved_until.is_not(None), Order.reserved_until < now)


def orders_due(now: datetime | None = None, limit: int = 200) -> list[int]:
    """Orders whose reservation ran out, oldest deadline first."""
    return list(db.session.scalars(select(Order.id).where(*_expirable(now or utcnow()))
                                   .order_by(Order.reserved_until).limit(limit)))


def order_expire(order_id: int, *, now: datetime | None = None) -> bool:
    """Give one expired order's reservation back, in its own transaction; False if it was not (or no longer) due."""
    now = now or utcnow()
    db.session.commit()  # end any read transaction: the guarded UPDATE comes first
    with write_intent():
        until = db.session.scalar(select(Order.reserved_until).where(Order.id == order_id))
        notice = (f"The reservation ran out on {until:%Y-%m-%d %H:%M} UTC while the order was unpaid: its stock "
                  "was released and the order is a draft again. Confirm it again to reserve stock.") if until else ""
        moved = db.session.execute(update(Order).where(Order.id == order_id, *_expirable(now))
                                   .values(status=OrderStatus.DRAFT, reserved_until=None, notice=notice,
                                           updated_at=now, revision=Order.revision + 1)
                                   .execution_options(synchronize_session=False)).rowcount
        if moved != 1:
            db.session.rollback()
            return False
        order = db.session.get(Order, order_id)
        db.session.refresh(order)
        lines = stock_lines(order, "unshipped")
        if lines:
            inventory_stock.stock_release(org_id=order.organisation_id, lines=lines, reference=order.number, by=None)
        order_event(order, kind="expired", by=None, from_status=OrderStatus.CONFIRMED, to_status=OrderStatus.DRAFT,
                    note="Reservation expired unpaid: stock released.", webhook="order.reservation_expired")
        audit.record(org_id=order.organisation_id, actor_id=None, action="order.reservation_expire",
                     object_type="order", object_id=order.id, before={"status": "confirmed"},
                     after={"status": "draft", "released": dict(lines)})
        db.session.commit()
    return True


def orders_sweep(now: datetime | None = None) -> int:
    """Expire every due order (the sweeper); how many this call expired."""
    return leases.each_apart(orders_due(now), order_expire, what="expiring the reservation of order", now=now)


def _sweep() -> bool:
    orders_sweep()
    return False  # nothing stays in flight: the next round looks again


leases.register_sweeper("order-reservations", _sweep,
                        every=lambda: float(current_app.config.get("STOCK_EXPIRY_SWEEP_SECONDS") or 60))
