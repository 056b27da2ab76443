"""Reads other domains rely on: past sales for market research, the to-do list, open counts."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from app.extensions import db
from app.orders import services
from app.orders.models import Order
from app.orders.selectors import open_counts, orders_to_act_on, past_sales
from app.orders.statuses import OrderStatus
from tests.orders.helpers import make_item, make_order


def test_past_sales_counts_confirmed_or_later_orders_only(org, other_org):
    chain = make_item(org.id, "CH-1", price="10.00", stock=20)
    charm = make_item(org.id, "CM-1", price="2.50", stock=20)
    sold = make_order(org.id, [{"item_id": chain.id, "quantity": 2, "customisation": {"charm_ids": [charm.id]}}])
    services.order_confirm(org_id=org.id, order_id=sold.id, by=None)
    shipped = make_order(org.id, [(chain, 1)])
    for action in ("confirm", "ship"):
        services.order_transition(org_id=org.id, order_id=shipped.id, action=action, by=None)
    make_order(org.id, [(chain, 5)])  # a draft is not a sale
    cancelled = make_order(org.id, [(chain, 3)])
    services.order_confirm(org_id=org.id, order_id=cancelled.id, by=None)
    services.order_cancel(org_id=org.id, order_id=cancelled.id, by=None)
    theirs = make_item(other_org.id, "CH-1", stock=5)
    services.order_confirm(org_id=other_org.id, order_id=make_order(other_org.id, [(theirs, 1)]).id, by=None)

    rows = past_sales(org.id, item_id=chain.id)
    assert [(r["order_number"], r["quantity"], r["unit_price"], r["currency"]) for r in rows] == [
        (sold.number, 2, Decimal("10.00"), "EUR"), (shipped.number, 1, Decimal("10.00"), "EUR")]
    assert all(isinstance(r["unit_price"], Decimal) and r["date"] for r in rows)
    assert past_sales(org.id, sku="ch-1") == rows
    charms = past_sales(org.id, sku="CM-1")
    assert [(r["order_number"], r["quantity"], r["unit_price"], r["component"]) for r in charms] == [
        (sold.number, 2, Decimal("2.50"), True)]
    assert past_sales(org.id, item_id=999999) == []
    assert len(past_sales(other_org.id)) == 1


def test_orders_to_act_on_and_open_counts(org):
    item = make_item(org.id, "X-1", stock=5)
    fresh, stale, confirmed = (make_order(org.id, [(item, 1)]) for _ in range(3))
    services.order_confirm(org_id=org.id, order_id=confirmed.id, by=None)
    row = db.session.get(Order, stale.id)
    row.created_at -= timedelta(hours=25)
    db.session.commit()
    assert [o.id for o in orders_to_act_on(org.id)] == [stale.id, confirmed.id]
    counts = open_counts(org.id)
    assert counts[OrderStatus.DRAFT] == 2 and counts[OrderStatus.CONFIRMED] == 1
    assert counts[OrderStatus.SHIPPED] == 0 and OrderStatus.CANCELLED not in counts
    assert fresh.id not in [o.id for o in orders_to_act_on(org.id)]
