"""Reservations that expire: the organisation's setting, manual holds on stock, and their expiry.

A hold puts units aside by hand (a customer who comes back on Friday): they are reserved through
the ledger like an order's, under the reference HOLD-<id>. The organisation says how long an
unpaid confirmed order or a hold keeps its reservation (`reservation_hours`, 0 = until released
by hand). A sweeper on the lease engine gives expired holds back, one transaction per hold; the
release is an UPDATE guarded by the hold's status, so two workers sweeping at once release it once.
(Orders expire the same way in app.orders.reservations.)
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from app.core import audit, leases
from app.core.database import write_intent
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.models import User, user_id_of, utcnow
from app.core.tenancy import get_scoped
from app.extensions import db
from app.inventory import stock
from app.inventory.models import HoldStatus, Item, StockHold, StockSettings

MAX_HOURS = 24 * 365


def reservation_hours(org_id: int) -> int:
    """How long (hours) an unpaid order or a hold keeps its reservation; 0 means until released."""
    hours = db.session.scalar(select(StockSettings.reservation_hours)
                              .where(StockSettings.organisation_id == org_id))
    return int(current_app.config.get("STOCK_RESERVATION_HOURS") or 0) if hours is None else int(hours)


def reservation_deadline(org_id: int, now: datetime | None = None) -> datetime | None:
    hours = reservation_hours(org_id)
    return (now or utcnow()) + timedelta(hours=hours) if hours else None


def stock_settings_set(*, org_id: int, reservation_hours: int, by: User | None) -> StockSettings:
    """Set how long reservations of unpaid orders and holds last (0: no expiry). Commits."""
    if isinstance(reservation_hours, bool) or not isinstance(reservation_hours, int) \
            or not 0 <= reservation_hours <= MAX_HOURS:
        raise InvalidInput(f"Enter whole hours from 0 (never expire) to {MAX_HOURS}.", field="reservation_hours")
    row = db.session.scalar(select(StockSettings).where(StockSettings.organisation_id == org_id))
    before = row.reservation_hours if row else None
    if row is None:
        row = StockSettings(organisation_id=org_id)
        db.session.add(row)
    row.reservation_hours = reservation_hours
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="stock_settings.update", object_type="organisation",
                 object_id=org_id, before={"reservation_hours": before},
                 after={"reservation_hours": reservation_hours})
    db.session.commit()
    return row


def hold_create(*, org_id: int, item_id: int, quantity, reason: str, by: User | None) -> StockHold:
    """Reserve units of an item by hand, until released or (with the setting) until they expire. Commits."""
    item = get_scoped(Item, item_id, org_id)
    if item is None:
        raise NotFound("That item does not exist.")
    try:
        quantity = int(str(quantity).strip())
    except (TypeError, ValueError):
        raise InvalidInput("Hold a whole number of units, e.g. 2.", field="quantity") from None
    if not 1 <= quantity <= 100_000:
        raise InvalidInput("Hold between 1 and 100,000 units.", field="quantity")
    reason = " ".join((reason or "").split())[:300]
    if not reason:
        raise InvalidInput("Say who or what the units are held for.", field="reason")
    hold = StockHold(organisation_id=org_id, item_id=item.id, quantity=quantity, reason=reason,
                     status=HoldStatus.ACTIVE, expires_at=reservation_deadline(org_id), held_by_id=user_id_of(by))
    db.session.add(hold)
    db.session.flush()
    stock.stock_reserve(org_id=org_id, lines=[(item.id, quantity)], reference=hold.reference, by=by)
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="stock.hold", object_type="stock_hold",
                 object_id=hold.id, after={"sku": item.sku, "quantity": quantity, "reason": reason})
    db.session.commit()
    return hold


def _end(hold_id: int, to: HoldStatus, *, expired_only: bool, now: datetime) -> bool:
    conditions = [StockHold.id == hold_id, StockHold.status == HoldStatus.ACTIVE]
    if expired_only:
        conditions += [StockHold.expires_at.is_not(None), StockHold.expires_at < now]
    moved = db.session.execute(update(StockHold).where(*conditions).values(status=to, ended_at=now)
                               .execution_options(synchronize_session=False)).rowcount
    return moved == 1


def hold_release(*, org_id: int, hold_id: int, by: User | None) -> StockHold:
    """Give a hold's units back to available. Commits."""
    hold = get_scoped(StockHold, hold_id, org_id)
    if hold is None:
        raise NotFound("That hold does not exist.")
    if not _end(hold.id, HoldStatus.RELEASED, expired_only=False, now=utcnow()):
        db.session.rollback()
        raise Conflict("This hold was already released or has expired.")
    stock.stock_release(org_id=org_id, lines=[(hold.item_id, hold.quantity)], reference=hold.reference, by=by)
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="stock.hold_release", object_type="stock_hold",
                 object_id=hold.id, after={"quantity": hold.quantity})
    db.session.commit()
    db.session.refresh(hold)
    return hold


def hold_expire(hold_id: int, *, now: datetime | None = None) -> bool:
    """Release one expired hold in its own transaction; False when another worker (or a person) was first."""
    now = now or utcnow()
    db.session.commit()  # end any read transaction: the guarded UPDATE must be the first write
    with write_intent():
        if not _end(hold_id, HoldStatus.EXPIRED, expired_only=True, now=now):
            db.session.rollback()
            return False
        hold = db.session.get(StockHold, hold_id)
        stock.stock_release(org_id=hold.organisation_id, lines=[(hold.item_id, hold.quantity)],
                            reference=hold.reference, by=None)
        audit.record(org_id=hold.organisation_id, actor_id=None, action="stock.hold_expire",
                     object_type="stock_hold", object_id=hold.id, after={"quantity": hold.quantity})
        db.session.commit()
    return True


def holds_due(now: datetime | None = None, limit: int = 200) -> list[int]:
    return list(db.session.scalars(select(StockHold.id).where(
        StockHold.status == HoldStatus.ACTIVE, StockHold.expires_at.is_not(None),
        StockHold.expires_at < (now or utcnow())).order_by(StockHold.expires_at).limit(limit)))


def holds_sweep(now: datetime | None = None) -> int:
    """Release every expired hold (the sweeper); how many this call released."""
    return leases.each_apart(holds_due(now), hold_expire, what="expiring stock hold", now=now)


def active_holds(org_id: int, item_id: int) -> list[StockHold]:
    return list(db.session.scalars(select(StockHold).where(
        StockHold.organisation_id == org_id, StockHold.item_id == item_id, StockHold.status == HoldStatus.ACTIVE)
        .order_by(StockHold.id)))


def _sweep_seconds() -> float:
    return float(current_app.config.get("STOCK_EXPIRY_SWEEP_SECONDS") or 60)


def _sweep() -> bool:
    holds_sweep()
    return False  # nothing stays in flight: the next round looks again


leases.register_sweeper("stock-holds", _sweep, every=_sweep_seconds)
