"""Stock movements: the one place on_hand and reserved change.

Every change is a single conditional UPDATE that checks the rule in its WHERE clause (so two
transactions racing for the last units cannot both pass, on SQLite or PostgreSQL) plus a ledger
row. reserve/release/ship/return do not commit: the caller's service commits once, so an order's
lines are all reserved or none are. The database's CHECK constraints (reserved >= 0,
on_hand >= reserved) stay as the last guard.
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select, update

from app.core import audit
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.events import publish_after_commit
from app.core.models import User, user_id_of
from app.extensions import db
from app.inventory.models import Item, MovementKind, StockMovement

EVENT = "inventory-item-changed"


class InsufficientStock(Conflict):
    """Fewer units available than requested: "Insufficient stock for SKU ABC-1: 3 available, 5 requested."."""

    def __init__(self, sku: str, available: int, requested: int):
        super().__init__(f"Insufficient stock for SKU {sku}: {available} available, {requested} requested.")
        self.sku, self.available, self.requested = sku, available, requested


def _merge(lines: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sum quantities per item and sort by id (a fixed lock order avoids deadlocks)."""
    totals: dict[int, int] = defaultdict(int)
    for item_id, quantity in lines:
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
            raise InvalidInput(f"Quantities must be whole numbers above zero (got {quantity!r}).")
        totals[int(item_id)] += quantity
    if not totals:
        raise InvalidInput("No lines given.")
    return sorted(totals.items())


def _snapshot(org_id: int, item_id: int) -> tuple[str, int, int]:
    row = db.session.execute(select(Item.sku, Item.on_hand, Item.reserved)
                             .where(Item.id == item_id, Item.organisation_id == org_id)).first()
    if row is None:
        raise NotFound(f"Inventory item {item_id} does not exist.")
    return row.sku, row.on_hand, row.reserved


def _apply(org_id: int, item_id: int, *, on_hand: int, reserved: int, condition) -> bool:
    result = db.session.execute(
        update(Item)
        .where(Item.id == item_id, Item.organisation_id == org_id, condition)
        .values(on_hand=Item.on_hand + on_hand, reserved=Item.reserved + reserved)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _ledger(org_id: int, item_id: int, kind: MovementKind, *, on_hand: int, reserved: int,
            reference: str | None, reason: str | None, by: User | None) -> None:
    db.session.add(StockMovement(organisation_id=org_id, item_id=item_id, kind=kind, on_hand_delta=on_hand,
                                 reserved_delta=reserved, reference=reference, reason=reason,
                                 user_id=user_id_of(by)))


def _expire(*item_ids: int) -> None:
    # The UPDATEs bypassed the ORM: loaded Items must re-read their numbers.
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Item) and obj.id in item_ids:
            db.session.expire(obj, ["on_hand", "reserved"])


def _announce(org_id: int, item_ids: list[int]) -> None:
    _expire(*item_ids)
    publish_after_commit(org_id, EVENT, {"item_ids": item_ids})


def stock_reserve(*, org_id: int, lines: list[tuple[int, int]], reference: str, by: User | None) -> None:
    """Reserve every line or raise InsufficientStock (does not commit)."""
    merged = _merge(lines)
    for item_id, q in merged:
        if not _apply(org_id, item_id, on_hand=0, reserved=q, condition=Item.on_hand - Item.reserved >= q):
            sku, on_hand, reserved = _snapshot(org_id, item_id)
            raise InsufficientStock(sku, on_hand - reserved, q)
        _ledger(org_id, item_id, MovementKind.RESERVATION, on_hand=0, reserved=q, reference=reference,
                reason=None, by=by)
    _announce(org_id, [i for i, _ in merged])


def stock_release(*, org_id: int, lines: list[tuple[int, int]], reference: str, by: User | None) -> None:
    """Give reserved units back to available (does not commit)."""
    merged = _merge(lines)
    for item_id, q in merged:
        if not _apply(org_id, item_id, on_hand=0, reserved=-q, condition=Item.reserved >= q):
            sku, _, reserved = _snapshot(org_id, item_id)
            raise Conflict(f"Cannot release {q} of SKU {sku}: only {reserved} reserved.")
        _ledger(org_id, item_id, MovementKind.RELEASE, on_hand=0, reserved=-q, reference=reference,
                reason=None, by=by)
    _announce(org_id, [i for i, _ in merged])


def stock_ship(*, org_id: int, lines: list[tuple[int, int]], reference: str, by: User | None) -> None:
    """Reserved units leave the warehouse: on_hand and reserved both drop (does not commit)."""
    merged = _merge(lines)
    for item_id, q in merged:
        if not _apply(org_id, item_id, on_hand=-q, reserved=-q, condition=Item.reserved >= q):
            sku, _, reserved = _snapshot(org_id, item_id)
            raise Conflict(f"Cannot ship {q} of SKU {sku}: only {reserved} reserved.")
        _ledger(org_id, item_id, MovementKind.SHIPMENT, on_hand=-q, reserved=-q, reference=reference,
                reason=None, by=by)
    _announce(org_id, [i for i, _ in merged])


def stock_return(*, org_id: int, lines: list[tuple[int, int]], reference: str, by: User | None) -> None:
    """Returned units go back on hand (does not commit)."""
    merged = _merge(lines)
    for item_id, q in merged:
        if not _apply(org_id, item_id, on_hand=q, reserved=0, condition=Item.id == item_id):
            _snapshot(org_id, item_id)  # raises NotFound for an unknown item
        _ledger(org_id, item_id, MovementKind.RETURN, on_hand=q, reserved=0, reference=reference,
                reason=None, by=by)
    _announce(org_id, [i for i, _ in merged])


def stock_adjust(*, org_id: int, item_id: int, delta: int, reason: str, by: User | None) -> Item:
    """Correct on_hand by `delta` with a reason (a count, damage, a find); commits."""
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
        raise InvalidInput("Enter a change other than zero, e.g. 5 or -2.", field="delta")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the stock changes (e.g. 'stock count', 'damaged').", field="reason")
    if len(reason) > 500:
        raise InvalidInput("Keep the reason under 500 characters.", field="reason")
    if not _apply(org_id, item_id, on_hand=delta, reserved=0, condition=Item.on_hand + delta >= Item.reserved):
        sku, on_hand, reserved = _snapshot(org_id, item_id)
        raise Conflict(f"Cannot remove {-delta} of SKU {sku}: {on_hand} on hand, {reserved} reserved for "
                       f"orders, so at most {on_hand - reserved} can be removed.", field="delta")
    _ledger(org_id, item_id, MovementKind.ADJUSTMENT, on_hand=delta, reserved=0, reference=None, reason=reason,
            by=by)
    _announce(org_id, [item_id])
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="inventory.adjust", object_type="inventory_item",
                 object_id=item_id, after={"delta": delta, "reason": reason})
    db.session.commit()
    item = db.session.get(Item, item_id)
    return item


def stock_receive(*, org_id: int, item_id: int, delta: int, reference: str | None, reason: str | None,
                  by: User | None, announce: bool = True) -> None:
    """An import's change to on_hand (positive or negative) with a ledger row (does not commit)."""
    if delta == 0:
        return
    if not _apply(org_id, item_id, on_hand=delta, reserved=0, condition=Item.on_hand + delta >= Item.reserved):
        sku, on_hand, reserved = _snapshot(org_id, item_id)
        raise Conflict(f"Cannot take {-delta} of SKU {sku} off stock: {on_hand} on hand, {reserved} reserved.")
    _ledger(org_id, item_id, MovementKind.IMPORT, on_hand=delta, reserved=0, reference=reference, reason=reason,
            by=by)
    if announce:
        _announce(org_id, [item_id])
    else:
        _expire(item_id)
