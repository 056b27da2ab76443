"""Production per line: each line moves through waiting → in production → made → packed, with who and when.

The order's status follows its lines: a confirmed order whose first line leaves "waiting" is in
production, and goes back to confirmed when every line waits again. A partly shipped order keeps
its status (its shipments decide it).
"""
from __future__ import annotations

from sqlalchemy import update

from app.core import audit
from app.core.errors import Conflict, DomainError, InvalidInput, NotFound
from app.core.models import User, user_id_of, utcnow
from app.extensions import db
from app.orders.models import Order, OrderItem
from app.orders.services import load_order, move_status
from app.orders.statuses import IN_WORK, LineStatus, OrderStatus
from app.orders.timeline import order_event


def _line(order: Order, line_id) -> OrderItem:
    line = next((ln for ln in order.lines if str(ln.id) == str(line_id)), None)
    if line is None:
        raise NotFound("No such line on this order.")
    return line


def _target(value) -> LineStatus:
    try:
        return LineStatus(value)
    except ValueError:
        raise InvalidInput(f"Unknown production step {value!r}.") from None


def _move_line(order: Order, line: OrderItem, to: LineStatus, by: User | None) -> None:
    before = line.production_status
    LineStatus.check(before, to)
    moved = db.session.execute(update(OrderItem).where(OrderItem.id == line.id,
                                                       OrderItem.production_status == before)
                               .values(production_status=to, production_at=utcnow(), production_by_id=user_id_of(by))
                               .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise Conflict(f"Line {line.sku} changed meanwhile; reload the page and try again.")
    db.session.expire(line, ["production_status", "production_at", "production_by_id"])
    order_event(order, kind="production", by=by, line_id=line.id,
                note=f"{line.sku} × {line.quantity}: {before.label.lower()} → {to.label.lower()}")


def follow_lines(order: Order, by: User | None) -> None:
    """Move the order between confirmed and in production as its lines say."""
    started = any(ln.production_status != LineStatus.WAITING for ln in order.lines)
    before = order.status
    target = {(OrderStatus.CONFIRMED, True): OrderStatus.IN_PRODUCTION,
              (OrderStatus.IN_PRODUCTION, False): OrderStatus.CONFIRMED}.get((before, started))
    if target is None:
        return
    move_status(order, before, target)
    order_event(order, kind="status", from_status=before, to_status=target, by=by,
                note="Production started." if started else "Every line waits again.")


def _check_order(order: Order) -> None:
    if order.status not in IN_WORK:
        raise Conflict(f"Order {order.number} is {order.status.label.lower()}: lines are made only once it is "
                       "confirmed.")


def line_production_move(*, org_id: int, order_id: int, line_id: int, to, by: User | None) -> Order:
    """Move one line to another production step; the order's status follows. Commits."""
    try:
        order = load_order(org_id, order_id)
        _check_order(order)
        line = _line(order, line_id)
        target = _target(to)
        before = line.production_status
        _move_line(order, line, target, by)
        follow_lines(order, by)
        audit.record(org_id=org_id, actor_id=user_id_of(by), action="order.line_production", object_type="order",
                     object_id=order.id, before={"line_id": line.id, "step": before.value},
                     after={"line_id": line.id, "step": target.value})
    except DomainError:
        db.session.rollback()
        raise
    db.session.commit()
    return order


def production_start_all(*, org_id: int, order_id: int, by: User | None) -> Order:
    """Put every waiting line into production (the order's "Start production"). Commits."""
    try:
        order = load_order(org_id, order_id)
        if order.status != OrderStatus.CONFIRMED:
            raise Conflict(f"Order {order.number} is {order.status.label.lower()}: it cannot be "
                           "'start production' now.")
        for line in order.lines:
            if line.production_status == LineStatus.WAITING:
                _move_line(order, line, LineStatus.IN_PRODUCTION, by)
        follow_lines(order, by)
        audit.record(org_id=org_id, actor_id=user_id_of(by), action="order.start_production", object_type="order",
                     object_id=order.id, before={"status": "confirmed"}, after={"status": "in_production"})
    except DomainError:
        db.session.rollback()
        raise
    db.session.commit()
    return order
