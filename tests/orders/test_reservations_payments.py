"""Reservations that expire (one transaction per order, never a paid or shipped order, once under a race)
and the payment state with who and when. The race runs on whichever database the tests use."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.core.audit import AuditEntry
from app.core.errors import Conflict
from app.core.models import utcnow
from app.extensions import db
from app.inventory import holds
from app.inventory.models import HoldStatus, StockHold, StockMovement
from app.orders import payments, production, reservations, services, shipments
from app.orders.models import Order, OrderEvent
from app.orders.statuses import OrderStatus, PaymentStatus
from tests.orders.helpers import ledger_sums, make_item, make_order, stock_of


@pytest.fixture
def hours(org, manager):
    holds.stock_settings_set(org_id=org.id, reservation_hours=48, by=manager)
    return 48


def _confirmed(org, staff, item, quantity=2) -> Order:
    order = make_order(org.id, [(item, quantity)])
    return services.order_confirm(org_id=org.id, order_id=order.id, by=staff)


def _past_deadline(order_id: int) -> None:
    db.session.execute(update(Order).where(Order.id == order_id).values(reserved_until=utcnow() - timedelta(minutes=1)))
    db.session.commit()


def test_confirming_unpaid_sets_the_deadline_from_the_organisation_setting(org, staff, hours):
    item = make_item(org.id, "R-1", stock=5)
    before = utcnow()
    order = _confirmed(org, staff, item)
    assert before + timedelta(hours=47) < order.reserved_until <= utcnow() + timedelta(hours=48)


def test_no_setting_means_no_expiry(org, staff):
    item = make_item(org.id, "R-0", stock=5)
    assert _confirmed(org, staff, item).reserved_until is None


def test_an_expired_unpaid_order_gives_its_stock_back(org, staff, hours):
    item = make_item(org.id, "R-2", stock=5)
    order = _confirmed(org, staff, item)
    _past_deadline(order.id)
    assert reservations.orders_sweep() == 1
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == OrderStatus.DRAFT and order.reserved_until is None
    assert "reservation ran out" in order.notice
    assert stock_of(item.id) == (5, 0) and ledger_sums(item.id) == (5, 0)
    release = db.session.scalar(select(StockMovement).where(StockMovement.kind == "release"))
    assert release.reference == order.number and release.reserved_delta == -2
    event = order.events[-1]
    assert (event.kind, event.from_status, event.to_status) == ("expired", "confirmed", "draft")
    assert reservations.orders_sweep() == 0  # nothing left to do


def test_paid_started_and_shipped_orders_are_never_released(org, staff, hours):
    item = make_item(org.id, "R-3", stock=20)
    paid, started, shipped = (_confirmed(org, staff, item) for _ in range(3))
    payments.order_payment_set(org_id=org.id, order_id=paid.id, to="paid", by=staff)
    production.line_production_move(org_id=org.id, order_id=started.id, line_id=started.lines[0].id,
                                    to="in_production", by=staff)
    shipments.shipment_create(org_id=org.id, order_id=shipped.id, quantities={str(shipped.lines[0].id): 1},
                              by=staff)
    for order in (paid, started, shipped):
        _past_deadline(order.id)
    assert reservations.orders_sweep() == 0
    db.session.expire_all()
    assert [db.session.get(Order, o.id).status for o in (paid, started, shipped)] == [
        OrderStatus.CONFIRMED, OrderStatus.IN_PRODUCTION, OrderStatus.PARTLY_SHIPPED]
    assert stock_of(item.id) == (19, 5)


def test_marking_paid_keeps_the_reservation_and_records_who_and_when(org, staff, hours):
    item = make_item(org.id, "R-4", stock=5)
    order = _confirmed(org, staff, item)
    payments.order_payment_set(org_id=org.id, order_id=order.id, to="paid", by=staff)
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.payment_status == PaymentStatus.PAID and order.payment_by_id == staff.id and order.payment_at
    assert order.reserved_until is None
    assert order.events[-1].kind == "payment" and "unpaid → paid" in order.events[-1].note
    with pytest.raises(Conflict):
        payments.order_payment_set(org_id=org.id, order_id=order.id, to="paid", by=staff)
    payments.order_payment_set(org_id=org.id, order_id=order.id, to="refunded", by=staff)
    with pytest.raises(Conflict):  # refunded is final
        payments.order_payment_set(org_id=org.id, order_id=order.id, to="unpaid", by=staff)


def test_a_cancelled_order_cannot_be_marked_paid(org, staff):
    item = make_item(org.id, "R-5", stock=5)
    order = make_order(org.id, [(item, 1)])
    services.order_cancel(org_id=org.id, order_id=order.id, by=staff)
    with pytest.raises(Conflict, match="cancelled"):
        payments.order_payment_set(org_id=org.id, order_id=order.id, to="paid", by=staff)


def _race(app, n: int, work) -> list:
    """Run work() in n threads (own app context and session each) that start together."""
    db.session.commit()
    start = threading.Barrier(n)

    def run(_i: int):
        with app.app_context():
            start.wait(timeout=30)
            try:
                return work()
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def test_two_workers_sweeping_at_once_release_each_reservation_once(app, org, staff, hours):
    item = make_item(org.id, "R-6", stock=30)
    order_ids = [_confirmed(org, staff, item, 1).id for _ in range(6)]
    for order_id in order_ids:
        _past_deadline(order_id)
    hold = holds.hold_create(org_id=org.id, item_id=item.id, quantity=3, reason="Friday pick-up", by=staff)
    db.session.execute(update(StockHold).where(StockHold.id == hold.id)
                       .values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    results = _race(app, 2, lambda: (reservations.orders_sweep(), holds.holds_sweep()))
    assert sum(r[0] for r in results) == 6 and sum(r[1] for r in results) == 1
    assert stock_of(item.id) == (30, 0) and ledger_sums(item.id) == (30, 0)
    releases = db.session.scalar(select(func.count()).select_from(StockMovement)
                                 .where(StockMovement.kind == "release"))
    assert releases == 7
    expired_events = db.session.scalar(select(func.count()).select_from(OrderEvent)
                                       .where(OrderEvent.kind == "expired"))
    assert expired_events == 6
    assert db.session.get(StockHold, hold.id).status == HoldStatus.EXPIRED
    audits = db.session.scalar(select(func.count()).select_from(AuditEntry)
                               .where(AuditEntry.action == "order.reservation_expire"))
    assert audits == 6


def test_a_hold_reserves_and_releases_through_the_ledger(org, staff):
    item = make_item(org.id, "R-7", stock=4)
    hold = holds.hold_create(org_id=org.id, item_id=item.id, quantity=3, reason="Customer comes Friday", by=staff)
    assert stock_of(item.id) == (4, 3) and hold.expires_at is None
    holds.hold_release(org_id=org.id, hold_id=hold.id, by=staff)
    assert stock_of(item.id) == (4, 0)
    with pytest.raises(Conflict):
        holds.hold_release(org_id=org.id, hold_id=hold.id, by=staff)


def test_the_workers_upkeep_runs_the_expiry(org, staff, hours):
    from app.core import leases

    item = make_item(org.id, "R-8", stock=2)
    order = _confirmed(org, staff, item, 1)
    _past_deadline(order.id)
    report = leases.run_sweepers()
    assert report["order-reservations"] is False and report["stock-holds"] is False
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.DRAFT and stock_of(item.id) == (2, 0)
