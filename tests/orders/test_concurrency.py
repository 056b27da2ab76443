"""Races: order numbers handed out concurrently, and twenty confirmations for five units."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from app.core.database import write_intent
from app.core.errors import DomainError
from app.extensions import db
from app.inventory.models import StockMovement
from app.orders import services
from app.orders.models import Order, OrderSequence
from app.orders.numbering import format_number
from app.orders.statuses import OrderStatus
from tests.orders.helpers import ledger_sums, make_item, make_order, stock_of


def _in_threads(app, n: int, work) -> list:
    """Run work(i) in n threads that start together, each with its own app context and session."""
    db.session.commit()
    start = threading.Barrier(n)

    def run(i: int):
        with app.app_context(), write_intent():
            start.wait(timeout=30)
            try:
                return work(i)
            except DomainError as exc:
                db.session.rollback()
                return exc
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def test_concurrent_creation_gives_gapless_unique_numbers(app, org, other_org):
    item = make_item(org.id, "N-1", stock=0)
    theirs = make_item(other_org.id, "N-1", stock=0)
    mine_ids, their_ids = (org.id, item.id), (other_org.id, theirs.id)  # ORM objects stay in this thread

    def create(i: int) -> str:
        org_id, item_id = mine_ids if i % 4 else their_ids
        order = services.order_create(org_id=org_id, customer={"name": f"Buyer {i}"},
                                      lines=[{"item_id": item_id, "quantity": 1}], by=None)
        return order.number

    results = _in_threads(app, 16, create)
    assert all(isinstance(r, str) for r in results), results
    year = db.session.scalar(select(OrderSequence.year).where(OrderSequence.organisation_id == org.id))
    for org_id, count in ((org.id, 12), (other_org.id, 4)):
        numbers = sorted(db.session.scalars(select(Order.number).where(Order.organisation_id == org_id)))
        assert numbers == [format_number(year, n) for n in range(1, count + 1)]


def test_a_failed_creation_does_not_burn_a_number(app, org):
    item = make_item(org.id, "N-2")
    make_order(org.id, [(item, 1)])
    try:
        make_order(org.id, [(item, 1)], customer={"name": ""})
    except DomainError:
        pass
    assert make_order(org.id, [(item, 1)]).number.endswith("-000002")


def test_twenty_confirmations_for_five_units(app, org):
    item = make_item(org.id, "LAST-5", stock=5)
    order_ids = [make_order(org.id, [(item, 1)]).id for _ in range(20)]
    org_id = org.id

    def confirm(i: int):
        return services.order_confirm(org_id=org_id, order_id=order_ids[i], by=None).status

    results = _in_threads(app, 20, confirm)
    confirmed = [r for r in results if r == OrderStatus.CONFIRMED]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(confirmed) == 5 and len(refused) == 15
    assert all(str(r).startswith("Insufficient stock for SKU LAST-5: 0 available, 1 requested") for r in refused)
    statuses = db.session.scalars(select(Order.status).where(Order.id.in_(order_ids))).all()
    assert sorted(s.value for s in statuses) == ["confirmed"] * 5 + ["draft"] * 15
    on_hand, reserved = stock_of(item.id)
    assert (on_hand, reserved, on_hand - reserved) == (5, 5, 0)
    assert ledger_sums(item.id) == (on_hand, reserved)
    reservations = db.session.scalar(select(func.count()).where(StockMovement.item_id == item.id,
                                                                 StockMovement.kind == "reservation"))
    assert reservations == 5


def test_confirming_the_same_order_twice_at_once_reserves_once(app, org):
    item = make_item(org.id, "TWICE", stock=10)
    org_id, order_id = org.id, make_order(org.id, [(item, 3)]).id
    results = _in_threads(app, 6, lambda i: services.order_confirm(org_id=org_id, order_id=order_id,
                                                                   by=None).status)
    assert sum(r == OrderStatus.CONFIRMED for r in results) == 1
    assert stock_of(item.id) == (10, 3) and ledger_sums(item.id) == (10, 3)


def test_two_amendments_racing_for_the_last_units_reserve_them_once(app, org):
    from app.orders import amendments

    item = make_item(org.id, "LAST-A", stock=4)
    orders = [make_order(org.id, [(item, 1)]) for _ in range(2)]
    for order in orders:
        services.order_confirm(org_id=org.id, order_id=order.id, by=None)
    specs = [(o.id, o.lines[0].id) for o in orders]
    org_id, item_id = org.id, item.id

    def amend(i: int):
        order_id, line_id = specs[i]
        return amendments.order_lines_update(org_id=org_id, order_id=order_id, by=None, note="two more",
                                             lines=[{"line_id": line_id, "item_id": item_id, "quantity": 3}])

    results = _in_threads(app, 2, amend)
    assert sum(isinstance(r, DomainError) for r in results) == 1, results
    assert stock_of(item.id) == (4, 4) and ledger_sums(item.id) == (4, 4)
    quantities = sorted(db.session.get(Order, o.id).lines[0].quantity for o in orders)
    assert quantities == [1, 3]
