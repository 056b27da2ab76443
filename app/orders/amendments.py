"""Editing an order's lines: freely while it is a draft, through a recorded amendment once confirmed.

A draft's lines, quantities and customisations are simply replaced. After confirmation the change
is an amendment: the stock the unshipped part holds is compared before and after, units no longer
needed are released and new ones reserved in the same transaction — all of them or none (the
amendment is refused with the reason and nothing changes). A kept line keeps its production step;
it cannot go below what was already shipped. An amendment made from an older page (the order's
revision moved on) is refused rather than undoing someone else's change.
"""
from __future__ import annotations

from collections import Counter

from sqlalchemy import update

from app.core import audit
from app.core.errors import Conflict, DomainError, InvalidInput
from app.core.models import User, user_id_of, utcnow
from app.extensions import db
from app.inventory import stock as inventory_stock
from app.inventory.models import Item
from app.orders.lines import CENT, build_lines, compute_totals, line_snapshot, stock_lines, to_int
from app.orders.models import Order, OrderAmendment, OrderItem
from app.orders.services import load_order, move_status
from app.orders.statuses import IN_WORK, OrderStatus
from app.orders.timeline import order_event

EDITABLE = (OrderStatus.DRAFT, *IN_WORK)


def _lock(order: Order, expected: int | None) -> OrderStatus:
    """Bump the revision if it is still the one the editor saw (and take the row lock)."""
    status, revision = order.status, order.revision if expected is None else int(expected)
    if status not in EDITABLE:
        raise Conflict(f"Order {order.number} is {status.label.lower()}: its lines can no longer change.")
    moved = db.session.execute(update(Order).where(Order.id == order.id, Order.revision == revision,
                                                   Order.status == status)
                               .values(revision=revision + 1, updated_at=utcnow())
                               .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise Conflict(f"Order {order.number} changed meanwhile; reload the page to see it and try again.")
    db.session.expire(order)
    for line in order.lines:
        db.session.refresh(line)
    return status


def _apply_kept(line: OrderItem, fresh: OrderItem) -> None:
    if fresh.item_id != line.item_id:
        raise InvalidInput(f"{line.sku}: a line keeps its item; remove it and add a new line instead.",
                           field="lines")
    if fresh.quantity < line.shipped_quantity:
        raise Conflict(f"{line.sku}: {line.shipped_quantity} already shipped; keep at least that many.",
                       field="lines")
    if [c["item_id"] for c in fresh.charms] != [c["item_id"] for c in line.charms]:
        line.unit_price = fresh.unit_price  # new charms: priced as a new line would be
    line.customisation = fresh.customisation
    line.quantity = fresh.quantity
    line.line_total = (line.unit_price * line.quantity).quantize(CENT)


def _replace_lines(order: Order, specs: list[dict]) -> None:
    built = build_lines(order.organisation_id, specs, currency=order.currency)
    kept_ids = [to_int(s.get("line_id")) for s in specs]
    current = {line.id: line for line in order.lines}
    if any(i is not None and i not in current for i in kept_ids):
        raise InvalidInput("One of the lines is not on this order any more; reload the page.", field="lines")
    for line_id, line in current.items():
        if line_id not in kept_ids:
            if line.shipped_quantity:
                raise Conflict(f"{line.sku}: {line.shipped_quantity} already shipped, so the line stays.",
                               field="lines")
            order.lines.remove(line)
    for line_id, fresh in zip(kept_ids, built, strict=True):
        if line_id is None:
            order.lines.append(fresh)
        else:
            _apply_kept(current[line_id], fresh)
    compute_totals(order)


def _move_stock(order: Order, before: list[tuple[int, int]], by: User | None, reference: str) -> dict:
    """Release what the unshipped part no longer needs, reserve what it needs more (all or nothing)."""
    delta: Counter[int] = Counter(dict(stock_lines(order, "unshipped")))
    delta.subtract(dict(before))
    release = sorted((i, -n) for i, n in delta.items() if n < 0)
    reserve = sorted((i, n) for i, n in delta.items() if n > 0)
    if release:
        inventory_stock.stock_release(org_id=order.organisation_id, lines=release, reference=reference, by=by)
    if reserve:
        inventory_stock.stock_reserve(org_id=order.organisation_id, lines=reserve, reference=reference, by=by)
    skus = {i.id: i.sku for i in db.session.query(Item).filter(Item.id.in_([i for i, _ in release + reserve]))}
    return {"released": {skus[i]: n for i, n in release}, "reserved": {skus[i]: n for i, n in reserve}}


def _describe(stock: dict) -> str:
    parts = [f"reserved {', '.join(f'{n} × {s}' for s, n in stock['reserved'].items())}" if stock["reserved"] else "",
             f"released {', '.join(f'{n} × {s}' for s, n in stock['released'].items())}" if stock["released"] else ""]
    return "; ".join(p for p in parts if p) or "no stock change"


def order_lines_update(*, org_id: int, order_id: int, lines: list[dict], by: User | None,
                       revision: int | None = None, note: str = "") -> Order:
    """Replace the order's lines ({"line_id"?, "item_id", "quantity", "customisation"}). Commits.

    A draft changes freely; a confirmed order is amended: stock re-reserved all-or-nothing, recorded."""
    try:
        order = load_order(org_id, order_id)
        status = _lock(order, revision)
        before_lines = [line_snapshot(line) for line in order.lines]
        before_stock = stock_lines(order, "unshipped") if status in IN_WORK else []
        _replace_lines(order, lines)
        db.session.flush()
        if status == OrderStatus.DRAFT:
            order_event(order, kind="edited", by=by, note=f"Lines edited: {len(order.lines)} line(s), total "
                                                           f"{order.total} {order.currency}.")
        else:
            _record_amendment(order, status, before_lines, before_stock, by, note)
    except DomainError:
        db.session.rollback()
        raise
    db.session.commit()
    return order


def _record_amendment(order: Order, status: OrderStatus, before_lines: list[dict], before_stock, by, note) -> None:
    stock = _move_stock(order, before_stock, by, f"{order.number}/A")
    after_lines = [line_snapshot(line) for line in order.lines]
    amendment = OrderAmendment(organisation_id=order.organisation_id, order_id=order.id, before={"lines": before_lines},
                               after={"lines": after_lines, "total": str(order.total)}, stock=stock,
                               note=(note or "").strip()[:2000], by_id=user_id_of(by))
    db.session.add(amendment)
    db.session.flush()
    if order.units_left == 0 and status != OrderStatus.SHIPPED:  # what is left was all shipped already
        move_status(order, status, OrderStatus.SHIPPED, reserved_until=None)
    order_event(order, kind="amended", by=by, webhook="order.amended",
                note=f"Amendment {amendment.id}: {_describe(stock)}; total {order.total} {order.currency}."
                     + (f" {note.strip()}" if (note or "").strip() else ""),
                data={"amendment": {"id": amendment.id, "stock": stock}})
    audit.record(org_id=order.organisation_id, actor_id=user_id_of(by), action="order.amend", object_type="order",
                 object_id=order.id, before={"lines": before_lines}, after={"lines": after_lines, "stock": stock})
