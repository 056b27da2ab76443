"""Production per line, the order's status following its lines, partial shipments and packing slips."""
from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.core.errors import Conflict, InvalidInput
from app.extensions import db
from app.inventory.models import StockMovement
from app.orders import production, selectors, services, shipments
from app.orders.models import Order, OrderEvent
from app.orders.packing_slip import packing_slip_pdf
from app.orders.statuses import LineStatus, OrderStatus
from tests.orders.helpers import ledger_sums, make_item, make_order, stock_of


@pytest.fixture
def two_piece(org, staff):
    """A confirmed order of 3 chains (with a charm each) and 2 rings."""
    chain = make_item(org.id, "CH-45", stock=10)
    charm = make_item(org.id, "CM-STAR", stock=10, price="3.00")
    ring = make_item(org.id, "RG-1", stock=5)
    order = make_order(org.id, [{"item_id": chain.id, "quantity": 3, "customisation": {"charm_ids": [charm.id]}},
                                {"item_id": ring.id, "quantity": 2}])
    services.order_confirm(org_id=org.id, order_id=order.id, by=staff)
    return db.session.get(Order, order.id), chain, charm, ring


def _line(order: Order, sku: str):
    return next(line for line in order.lines if line.sku == sku)


def test_one_line_made_and_one_waiting_and_the_order_follows(org, staff, two_piece):
    order, *_ = two_piece
    chain_line = _line(order, "CH-45")
    production.line_production_move(org_id=org.id, order_id=order.id, line_id=chain_line.id, to="in_production",
                                    by=staff)
    order = db.session.get(Order, order.id)
    assert order.status == OrderStatus.IN_PRODUCTION
    production.line_production_move(org_id=org.id, order_id=order.id, line_id=chain_line.id, to="made", by=staff)
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert [(ln.sku, ln.production_status) for ln in order.lines] == [("CH-45", LineStatus.MADE),
                                                                      ("RG-1", LineStatus.WAITING)]
    assert _line(order, "CH-45").production_by_id == staff.id and _line(order, "CH-45").production_at
    # back to waiting: every line waits again, so the order is confirmed again
    production.line_production_move(org_id=org.id, order_id=order.id, line_id=chain_line.id, to="in_production",
                                    by=staff)
    production.line_production_move(org_id=org.id, order_id=order.id, line_id=chain_line.id, to="waiting", by=staff)
    assert db.session.get(Order, order.id).status == OrderStatus.CONFIRMED


def test_line_moves_outside_the_table_and_on_drafts_are_refused(org, staff):
    item = make_item(org.id, "X-1", stock=5)
    draft = make_order(org.id, [(item, 1)])
    with pytest.raises(Conflict, match="only once it is confirmed"):
        production.line_production_move(org_id=org.id, order_id=draft.id, line_id=draft.lines[0].id, to="made",
                                        by=staff)
    services.order_confirm(org_id=org.id, order_id=draft.id, by=staff)
    production.line_production_move(org_id=org.id, order_id=draft.id, line_id=draft.lines[0].id, to="packed",
                                    by=staff)
    with pytest.raises(Conflict):  # packed → waiting skips back two steps
        production.line_production_move(org_id=org.id, order_id=draft.id, line_id=draft.lines[0].id, to="waiting",
                                        by=staff)
    with pytest.raises(InvalidInput, match="Unknown production step"):
        production.line_production_move(org_id=org.id, order_id=draft.id, line_id=draft.lines[0].id, to="baked",
                                        by=staff)


def test_partial_shipment_arithmetic_stock_and_status(org, staff, two_piece):
    order, chain, charm, ring = two_piece
    assert stock_of(chain.id) == (10, 3) and stock_of(charm.id) == (10, 3) and stock_of(ring.id) == (5, 2)
    chain_line, ring_line = _line(order, "CH-45"), _line(order, "RG-1")
    first = shipments.shipment_create(org_id=org.id, order_id=order.id, quantities={str(chain_line.id): "2"},
                                      carrier="DHL", tracking_number="JD0001", by=staff)
    assert first.number == 1 and first.reference.endswith("/S1")
    order = db.session.get(Order, order.id)
    assert order.status == OrderStatus.PARTLY_SHIPPED
    # two chains and their two charms left the warehouse; the rest stays reserved
    assert stock_of(chain.id) == (8, 1) and stock_of(charm.id) == (8, 1) and stock_of(ring.id) == (5, 2)
    assert ledger_sums(chain.id) == (8, 1) and ledger_sums(charm.id) == (8, 1)
    assert _line(order, "CH-45").shipped_quantity == 2 and order.units_left == 3
    second = shipments.shipment_create(org_id=org.id, order_id=order.id, by=staff,
                                       quantities={str(chain_line.id): 1, str(ring_line.id): 2})
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert second.number == 2 and order.status == OrderStatus.SHIPPED and order.units_left == 0
    assert stock_of(chain.id) == (7, 0) and stock_of(charm.id) == (7, 0) and stock_of(ring.id) == (3, 0)
    references = set(db.session.scalars(select(StockMovement.reference).where(StockMovement.kind == "shipment")))
    assert references == {f"{order.number}/S1", f"{order.number}/S2"}
    notes = [e.note for e in order.events if e.kind == "shipment"]
    assert notes[0] == "Parcel 1: 2 pieces, DHL tracking JD0001."


def test_a_parcel_larger_than_what_is_left_changes_nothing(org, staff, two_piece):
    order, chain, *_ = two_piece
    line = _line(order, "CH-45")
    with pytest.raises(Conflict, match="only 3 left to ship, not 4"):
        shipments.shipment_create(org_id=org.id, order_id=order.id, quantities={str(line.id): "4"}, by=staff)
    for bad, message in (({str(line.id): "-1"}, "whole number"), ({str(line.id): "0"}, "at least one piece"),
                         ({"999999": "1"}, "not on this order")):
        with pytest.raises(InvalidInput, match=message):
            shipments.shipment_create(org_id=org.id, order_id=order.id, quantities=bad, by=staff)
    with pytest.raises(InvalidInput, match="tracking number is limited"):
        shipments.shipment_create(org_id=org.id, order_id=order.id, quantities={str(line.id): "1"},
                                  tracking_number="x" * 121, by=staff)
    assert stock_of(chain.id) == (10, 3)
    assert db.session.get(Order, order.id).status == OrderStatus.CONFIRMED
    assert not db.session.get(Order, order.id).shipments


def test_draft_orders_cannot_ship(org, staff):
    item = make_item(org.id, "X-2", stock=5)
    draft = make_order(org.id, [(item, 1)])
    with pytest.raises(Conflict, match="cannot be shipped now"):
        shipments.shipment_create(org_id=org.id, order_id=draft.id, quantities={str(draft.lines[0].id): 1},
                                  by=staff)


def test_packing_slip_lists_the_parcel_and_what_is_still_to_come(org, staff, two_piece):
    order, *_ = two_piece
    chain_line = _line(order, "CH-45")
    shipment = shipments.shipment_create(org_id=org.id, order_id=order.id, quantities={str(chain_line.id): 1},
                                         carrier="InPost", tracking_number="TRK-9", by=staff)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(packing_slip_pdf(shipment))).pages)
    assert f"Packing slip {order.number}/S1" in text and "InPost" in text and "TRK-9" in text
    in_parcel, still_to_come = text.split("Still to come in a later parcel")
    assert "CH-45" in in_parcel and "RG-1" not in in_parcel
    assert "CH-45" in still_to_come and "RG-1" in still_to_come


def test_lines_to_act_on_come_by_due_date(org, staff):
    item = make_item(org.id, "D-1", stock=20)
    late = make_order(org.id, [(item, 1)], due_date="2030-02-01")
    early = make_order(org.id, [(item, 2)], due_date="2030-01-15")
    undated = make_order(org.id, [(item, 1)])
    draft = make_order(org.id, [(item, 1)], due_date="2029-01-01")
    for o in (late, early, undated):
        services.order_confirm(org_id=org.id, order_id=o.id, by=staff)
    rows = selectors.lines_to_act_on(org.id)
    assert [r.order.id for r in rows] == [early.id, late.id, undated.id]
    assert draft.id not in [r.order.id for r in rows]
    shipments.shipment_create(org_id=org.id, order_id=early.id, quantities={str(early.lines[0].id): 2}, by=staff)
    assert [r.order.id for r in selectors.lines_to_act_on(org.id)] == [late.id, undated.id]


def test_every_step_is_on_the_timeline(org, staff, two_piece):
    order, *_ = two_piece
    services.order_transition(org_id=org.id, order_id=order.id, action="start_production", by=staff)
    kinds = db.session.scalars(select(OrderEvent.kind).where(OrderEvent.order_id == order.id)
                               .order_by(OrderEvent.id)).all()
    assert kinds == ["created", "status", "production", "production", "status"]
