"""Order services: creation, numbers, totals, the status flow and the stock that moves with it."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.core.errors import Conflict, InvalidInput
from app.core.models import AuditEntry
from app.extensions import db
from app.inventory.stock import InsufficientStock
from app.orders import services
from app.orders.models import Customer, Order, OrderEvent, OrderItem
from app.orders.statuses import OrderStatus
from tests.orders.helpers import ledger_sums, make_item, make_order, stock_of


@pytest.fixture
def chain(org):
    return make_item(org.id, "CH-45", price="12.50", stock=10, title="Gold chain 45 cm")


@pytest.fixture
def charm(org):
    return make_item(org.id, "CM-STAR", price="3.20", stock=4, title="Star charm", category="Charms › Pendants")


def test_create_snapshots_prices_and_numbers_orders(org, staff, chain, charm):
    order = make_order(org.id, [{"item_id": chain.id, "quantity": 2,
                                 "customisation": {"chain_length_cm": "45", "charm_ids": [charm.id],
                                                   "engraving": "  For   Ana "}}],
                       by=staff, tax_rate="23", shipping="4.99")
    assert order.number.startswith("SO-") and order.number.endswith("-000001")
    assert order.status == OrderStatus.DRAFT and order.currency == "EUR"
    line = order.lines[0]
    assert line.sku == "CH-45" and line.unit_price == Decimal("15.70") and line.line_total == Decimal("31.40")
    assert line.customisation == {"chain_length_cm": "45", "engraving": "For Ana",
                                  "charms": [{"item_id": charm.id, "sku": "CM-STAR", "title": "Star charm",
                                              "unit_price": "3.20"}]}
    assert (order.subtotal, order.tax, order.shipping, order.total) == (
        Decimal("31.40"), Decimal("7.22"), Decimal("4.99"), Decimal("43.61"))
    assert stock_of(chain.id) == (10, 0)  # a draft reserves nothing
    second = make_order(org.id, [(chain, 1)])
    assert second.number.endswith("-000002")
    assert [e.kind for e in order.events] == ["created"]
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "order.create")) is not None


def test_price_change_later_does_not_change_the_order(org, chain):
    order = make_order(org.id, [(chain, 1)])
    chain.price = Decimal("99.00")
    db.session.commit()
    assert db.session.get(Order, order.id).lines[0].unit_price == Decimal("12.50")


@pytest.mark.parametrize("lines, message", [
    ([], "at least one line"),
    ([{"item_id": 999999, "quantity": 1}], "unknown item"),
    ([{"item_id": "x", "quantity": 1}], "unknown item"),
    ("NEG", "between 1 and"),
    ("ZERO", "between 1 and"),
    ("TEXT", "whole number"),
    ("LONG_ENGRAVING", "limited to 100"),
    ("BAD_LENGTH", "chain length"),
    ("BAD_CHARM", "unknown item"),
])
def test_bad_lines_write_nothing(org, chain, lines, message):
    special = {
        "NEG": [{"item_id": chain.id, "quantity": -2}],
        "ZERO": [{"item_id": chain.id, "quantity": 0}],
        "TEXT": [{"item_id": chain.id, "quantity": "two"}],
        "LONG_ENGRAVING": [{"item_id": chain.id, "quantity": 1, "customisation": {"engraving": "x" * 101}}],
        "BAD_LENGTH": [{"item_id": chain.id, "quantity": 1, "customisation": {"chain_length_cm": "-4"}}],
        "BAD_CHARM": [{"item_id": chain.id, "quantity": 1, "customisation": {"charm_ids": [987654]}}],
    }
    with pytest.raises(InvalidInput, match=message):
        services.order_create(org_id=org.id, customer={"name": "A"}, lines=special[lines] if isinstance(lines, str) else lines,
                              by=None)
    assert db.session.scalar(select(Order.id)) is None and db.session.scalar(select(OrderItem.id)) is None


def test_other_organisations_items_are_unknown(org, other_org):
    theirs = make_item(other_org.id, "THEIRS", stock=5)
    with pytest.raises(InvalidInput, match="unknown item"):
        make_order(org.id, [(theirs, 1)])


def test_customer_needs_a_name_and_a_valid_email(org, chain):
    with pytest.raises(InvalidInput, match="name"):
        make_order(org.id, [(chain, 1)], customer={"name": " "})
    with pytest.raises(InvalidInput, match="e-mail"):
        make_order(org.id, [(chain, 1)], customer={"name": "A", "email": "not-an-email"})
    assert db.session.scalar(select(Order.id)) is None


def test_mixed_currencies_are_refused(org, chain):
    usd = make_item(org.id, "USD-1", currency="USD", stock=3)
    with pytest.raises(InvalidInput, match="one currency"):
        make_order(org.id, [(chain, 1), (usd, 1)])


def test_saved_customers_are_reused_by_email_and_guests_stay_on_the_order(org, chain):
    first = make_order(org.id, [(chain, 1)], customer={"name": "Ana", "email": "Ana@Example.com", "save": True})
    again = make_order(org.id, [(chain, 1)], customer={"name": "Ana B.", "email": "ana@example.com", "save": True})
    guest = make_order(org.id, [(chain, 1)], customer={"name": "Walk-in", "phone": "+48 600"})
    assert first.customer_id == again.customer_id and first.customer_id is not None
    assert guest.customer_id is None and guest.customer_phone == "+48 600"
    assert db.session.query(Customer).count() == 1
    by_id = make_order(org.id, [(chain, 1)], customer={"id": first.customer_id})
    assert by_id.customer_name == "Ana" and by_id.customer_email == "ana@example.com"


def test_confirm_reserves_item_and_charms_in_one_go(org, staff, chain, charm):
    order = make_order(org.id, [{"item_id": chain.id, "quantity": 2, "customisation": {"charm_ids": [charm.id]}},
                                {"item_id": charm.id, "quantity": 1}])
    services.order_confirm(org_id=org.id, order_id=order.id, by=staff)
    assert db.session.get(Order, order.id).status == OrderStatus.CONFIRMED
    assert stock_of(chain.id) == (10, 2) and stock_of(charm.id) == (4, 3)
    assert ledger_sums(charm.id) == (4, 3)
    events = db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id)).all()
    assert [(e.kind, e.from_status, e.to_status, e.actor_id) for e in events][-1] == (
        "status", "draft", "confirmed", staff.id)


def test_confirm_is_all_lines_or_none(org, chain, charm):
    order = make_order(org.id, [(chain, 3), {"item_id": chain.id, "quantity": 1,
                                             "customisation": {"charm_ids": [charm.id, charm.id]}},
                                (charm, 3)])  # charms: 2 + 3 = 5 wanted, 4 on hand
    with pytest.raises(InsufficientStock, match="Insufficient stock for SKU CM-STAR: 4 available, 5 requested"):
        services.order_confirm(org_id=org.id, order_id=order.id, by=None)
    assert db.session.get(Order, order.id).status == OrderStatus.DRAFT
    assert stock_of(chain.id) == (10, 0) and stock_of(charm.id) == (4, 0)
    assert ledger_sums(chain.id) == (10, 0)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "order.confirm")) is None


def test_full_flow_moves_stock_and_writes_the_timeline(org, staff, chain):
    order = make_order(org.id, [(chain, 2)])
    for action in ("confirm", "start_production", "ship", "deliver"):
        services.order_transition(org_id=org.id, order_id=order.id, action=action, by=staff)
    assert stock_of(chain.id) == (8, 0)
    services.order_transition(org_id=org.id, order_id=order.id, action="refund", by=staff)
    assert stock_of(chain.id) == (10, 0) and ledger_sums(chain.id) == (10, 0)
    order = db.session.get(Order, order.id)
    assert order.status == OrderStatus.REFUNDED and order.actions == []
    assert [e.to_status for e in order.events if e.to_status] == ["draft", "confirmed", "in_production", "shipped", "delivered",
                                                   "refunded"]
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "order")).all()
    assert actions == ["order.create", "order.confirm", "order.start_production", "order.ship", "order.deliver",
                       "order.refund"]


def test_refund_without_restock_leaves_stock_alone(org, chain):
    order = make_order(org.id, [(chain, 1)])
    for action in ("confirm", "ship", "deliver"):
        services.order_transition(org_id=org.id, order_id=order.id, action=action, by=None)
    services.order_transition(org_id=org.id, order_id=order.id, action="refund", by=None, restock=False)
    assert stock_of(chain.id) == (9, 0)


def test_cancel_releases_only_what_was_reserved(org, chain):
    draft = make_order(org.id, [(chain, 1)])
    services.order_cancel(org_id=org.id, order_id=draft.id, by=None)
    assert stock_of(chain.id) == (10, 0)
    confirmed = make_order(org.id, [(chain, 4)])
    services.order_confirm(org_id=org.id, order_id=confirmed.id, by=None)
    assert stock_of(chain.id) == (10, 4)
    services.order_cancel(org_id=org.id, order_id=confirmed.id, by=None, note="customer changed mind")
    assert stock_of(chain.id) == (10, 0) and ledger_sums(chain.id) == (10, 0)


@pytest.mark.parametrize("done, action", [([], "ship"), ([], "deliver"), (["confirm"], "confirm"),
                                          (["cancel"], "confirm"), ([], "refund"), ([], "fly")])
def test_transitions_outside_the_table_are_refused(org, chain, done, action):
    order = make_order(org.id, [(chain, 1)])
    for step in done:
        services.order_transition(org_id=org.id, order_id=order.id, action=step, by=None)
    before = stock_of(chain.id)
    with pytest.raises((Conflict, InvalidInput)):
        services.order_transition(org_id=org.id, order_id=order.id, action=action, by=None)
    assert stock_of(chain.id) == before


def test_totals_change_only_on_drafts(org, chain):
    order = make_order(org.id, [(chain, 2)])
    services.order_update_totals(org_id=org.id, order_id=order.id, tax_rate="8.5", shipping="3",
                                 by=None)
    order = db.session.get(Order, order.id)
    assert (order.tax, order.total) == (Decimal("2.13"), Decimal("30.13"))
    with pytest.raises(InvalidInput):
        services.order_update_totals(org_id=org.id, order_id=order.id, tax_rate="-1", shipping="0", by=None)
    services.order_confirm(org_id=org.id, order_id=order.id, by=None)
    with pytest.raises(Conflict):
        services.order_update_totals(org_id=org.id, order_id=order.id, tax_rate="1", shipping="0", by=None)


def test_order_changed_is_published_after_commit(app, org, chain, monkeypatch):
    seen = []
    monkeypatch.setattr("app.core.events.publish_all", lambda events: seen.extend((e, d) for _, e, d in events))
    order = make_order(org.id, [(chain, 1)])
    services.order_confirm(org_id=org.id, order_id=order.id, by=None)
    assert ("order-changed", {"order_id": order.id}) in seen
    assert ("inventory-item-changed", {"item_ids": [chain.id]}) in seen
    seen.clear()
    with pytest.raises(Conflict):
        services.order_confirm(org_id=org.id, order_id=order.id, by=None)
    assert seen == []
