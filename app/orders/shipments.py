"""Partial shipments: some lines, or some units of lines, leave in a parcel with a carrier and tracking number.

A shipment takes the order's row lock first (an UPDATE of its revision), then reads the lines, so
two people shipping the same order at once cannot both ship the last unit. In the same
transaction the shipped units leave stock (on hand and reserved both drop, through the ledger),
each line counts what has been shipped, and the order becomes "partly shipped" until every unit
of every line is shipped, then "shipped".
"""
from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select, update

from app.core import audit
from app.core.errors import Conflict, DomainError, InvalidInput
from app.core.models import User, user_id_of
from app.extensions import db
from app.inventory import stock as inventory_stock
from app.orders.models import Order, OrderItem, Shipment, ShipmentLine
from app.orders.services import load_order, move_status
from app.orders.statuses import IN_WORK, OrderStatus
from app.orders.timeline import order_event


def lock_order(order: Order, statuses) -> None:
    """Take the order's row lock (PostgreSQL) by bumping its revision, if it is in one of `statuses`."""
    locked = db.session.execute(update(Order).where(Order.id == order.id, Order.status.in_(list(statuses)))
                                .values(revision=Order.revision + 1)
                                .execution_options(synchronize_session=False)).rowcount
    if locked != 1:
        db.session.expire(order)
        raise Conflict(f"Order {order.number} is {order.status.label.lower()}: it cannot be shipped now.")
    db.session.expire(order, ["status", "revision", "lines"])
    for line in order.lines:  # re-read what others committed before we got the lock
        db.session.refresh(line)


def _quantities(order: Order, quantities: dict) -> dict[int, int]:
    lines = {line.id: line for line in order.lines}
    chosen: dict[int, int] = {}
    for key, raw in (quantities or {}).items():
        line = lines.get(int(key)) if str(key).isdigit() else None
        if line is None:
            raise InvalidInput("One of the lines is not on this order.", field="lines")
        text = str(raw if raw is not None else "").strip() or "0"
        if not text.isdigit():
            raise InvalidInput(f"{line.sku}: ship a whole number of pieces (0 to {line.to_ship}).", field="lines")
        n = int(text)
        if n > line.to_ship:
            raise Conflict(f"{line.sku}: only {line.to_ship} left to ship, not {n}.", field="lines")
        if n:
            chosen[line.id] = n
    if not chosen:
        raise InvalidInput("Choose what goes in this parcel: at least one piece.", field="lines")
    return chosen


def _clean_text(value: str, limit: int, label: str, field: str) -> str:
    text = " ".join((value or "").split())
    if len(text) > limit:
        raise InvalidInput(f"{label} is limited to {limit} characters.", field=field)
    return text


def _ship_units(order: Order, chosen: dict[int, int], reference: str, by: User | None) -> None:
    units: Counter[int] = Counter()
    for line in order.lines:
        if line.id in chosen:
            for item_id, n in line.stock_units(chosen[line.id]):
                units[item_id] += n
            counted = db.session.execute(
                update(OrderItem).where(OrderItem.id == line.id,
                                        OrderItem.shipped_quantity + chosen[line.id] <= OrderItem.quantity)
                .values(shipped_quantity=OrderItem.shipped_quantity + chosen[line.id])
                .execution_options(synchronize_session=False)).rowcount
            if counted != 1:
                raise Conflict(f"{line.sku} was shipped meanwhile; reload the page and try again.")
            db.session.expire(line, ["shipped_quantity"])
    inventory_stock.stock_ship(org_id=order.organisation_id, lines=sorted(units.items()), reference=reference, by=by)


def shipment_create(*, org_id: int, order_id: int, quantities: dict, by: User | None, carrier: str = "",
                    tracking_number: str = "", note: str = "") -> Shipment:
    """Ship these quantities ({line id: pieces}) in one parcel; stock and status follow. Commits."""
    try:
        order = load_order(org_id, order_id)
        carrier = _clean_text(carrier, 60, "The carrier", "carrier")
        tracking = _clean_text(tracking_number, 120, "The tracking number", "tracking_number")
        lock_order(order, IN_WORK)
        chosen = _quantities(order, quantities)
        number = (db.session.scalar(select(func.max(Shipment.number)).where(Shipment.order_id == order.id)) or 0) + 1
        shipment = Shipment(organisation_id=org_id, order_id=order.id, number=number, carrier=carrier,
                            tracking_number=tracking, note=(note or "").strip()[:2000], shipped_by_id=user_id_of(by),
                            lines=[ShipmentLine(organisation_id=org_id, order_item_id=k, quantity=v)
                                   for k, v in sorted(chosen.items())])
        db.session.add(shipment)
        db.session.flush()
        _ship_units(order, chosen, f"{order.number}/S{number}", by)
        before = order.status
        target = OrderStatus.SHIPPED if order.units_left == 0 else OrderStatus.PARTLY_SHIPPED
        if target != before:
            move_status(order, before, target, reserved_until=None)
        pieces = sum(chosen.values())
        text = (f"Parcel {number}: {pieces} piece{'s' if pieces != 1 else ''}"
                + (f", {carrier}" if carrier else "") + (f" tracking {tracking}" if tracking else "") + ".")
        order_event(order, kind="shipment", by=by, from_status=before if target != before else None,
                    to_status=target if target != before else None, note=text, webhook="order.shipped",
                    data={"shipment": {"number": number, "carrier": carrier, "tracking_number": tracking,
                                       "partial": target == OrderStatus.PARTLY_SHIPPED,
                                       "lines": [{"line_id": k, "quantity": v} for k, v in sorted(chosen.items())]}})
        audit.record(org_id=org_id, actor_id=user_id_of(by), action="order.ship", object_type="order",
                     object_id=order.id, before={"status": before.value},
                     after={"status": target.value, "shipment": number, "pieces": pieces, "stock": "ship"})
    except DomainError:
        db.session.rollback()
        raise
    db.session.commit()
    return shipment


def shipment_ship_rest(*, org_id: int, order_id: int, by: User | None, note: str = "") -> Order:
    """Ship every unit not shipped yet as one parcel (the order's "Mark shipped"). Commits."""
    order = load_order(org_id, order_id)
    if order.status not in IN_WORK:
        raise Conflict(f"Order {order.number} is {order.status.label.lower()}: it cannot be 'mark shipped' now.")
    rest = {line.id: line.to_ship for line in order.lines if line.to_ship}
    shipment_create(org_id=org_id, order_id=order_id, quantities=rest, by=by, note=note)
    return load_order(org_id, order_id)
