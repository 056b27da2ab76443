"""Orders pages: list and filters, the new-order form, actions, designs, the to-do view and the card."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.core.models import Role
from app.extensions import db
from app.orders import services
from app.orders.models import Customer, Design, Order, OrderItem
from app.orders.statuses import OrderStatus
from tests.orders.helpers import make_item, make_order, stock_of


@pytest.fixture
def chain(org):
    return make_item(org.id, "CH-45", price="12.50", stock=3, title="Gold chain 45 cm",
                     category="Chains › Necklace Chains")


@pytest.fixture
def charm(org):
    return make_item(org.id, "CM-STAR", price="3.20", stock=5, title="Star charm", category="Charms › Pendants")


def _form(**lines) -> dict:
    data = {"customer_name": "Ana Nowak", "customer_email": "ana@example.com", "shipping_address": "Main St 1",
            "tax_rate": "23", "shipping": "4.99", "save_customer": "y"}
    data.update(lines)
    return data


def test_pages_need_staff_or_better(client_for, org, make_user, chain):
    order = make_order(org.id, [(chain, 1)])
    for role in (Role.STAFF, Role.MANAGER, Role.ADMIN):
        client = client_for(make_user(org, role))
        for url in ("/orders/", "/orders/new", "/orders/today", "/orders/designs", f"/orders/{order.id}",
                    f"/orders/{order.id}/live", "/orders/picker?q=ch"):
            assert client.get(url).status_code == 200, (role, url)
    assert client_for(None).get("/orders/").status_code == 302


def test_new_order_with_a_customised_line(staff_client, org, chain, charm):
    response = staff_client.post("/orders/new", data=_form(**{
        "line-a1-item_id": str(chain.id), "line-a1-quantity": "2", "line-a1-chain_length_cm": "42,5",
        "line-a1-charm_ids": [str(charm.id)], "line-a1-engraving": "Ana ♥", "line-a1-design_id": ""}))
    assert response.status_code == 302
    order = db.session.scalar(select(Order))
    assert response.headers["Location"].endswith(f"/orders/{order.id}")
    assert order.customer is not None and order.customer.email == "ana@example.com"
    assert order.billing_address == "Main St 1"  # empty billing means "same as shipping"
    line = order.lines[0]
    assert line.customisation["chain_length_cm"] == "42.5" and line.customisation["engraving"] == "Ana ♥"
    assert line.unit_price == Decimal("15.70") and order.total == Decimal("43.61")
    page = staff_client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert order.number in page and "42.5 cm" in page and "Star charm" in page and "“Ana ♥”" in page
    assert "Confirm and reserve stock" in page and "Mark shipped" not in page


@pytest.mark.parametrize("lines, message", [
    ({}, "at least one line"),
    ({"line-x-item_id": "999999", "line-x-quantity": "1"}, "unknown item"),
    ({"line-x-item_id": "CHAIN", "line-x-quantity": "-1"}, "between 1 and"),
    ({"line-x-item_id": "CHAIN", "line-x-quantity": "1.5"}, "whole number"),
])
def test_bad_new_orders_are_refused_and_write_nothing(staff_client, chain, lines, message):
    data = {k: (str(chain.id) if v == "CHAIN" else v) for k, v in lines.items()}
    response = staff_client.post("/orders/new", data=_form(**data))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(Order.id)) is None and db.session.scalar(select(Customer.id)) is None
    if data:  # the typed lines are shown again
        assert 'name="line-x-quantity"' in response.get_data(as_text=True)


def test_missing_customer_name_is_a_form_error(staff_client, chain):
    data = _form(**{"line-x-item_id": str(chain.id), "line-x-quantity": "1"})
    data["customer_name"] = ""
    response = staff_client.post("/orders/new", data=data)
    assert response.status_code == 422 and "Enter the customer&#39;s name." in response.get_data(as_text=True)


def test_picker_and_line_partials(staff_client, org, other_org, chain):
    make_item(other_org.id, "CH-RIVAL", title="Gold chain of the rival")
    found = staff_client.htmx("get", "/orders/picker?q=gold").get_data(as_text=True)
    assert "CH-45" in found and "CH-RIVAL" not in found
    row = staff_client.htmx("get", f"/orders/line?item_id={chain.id}").get_data(as_text=True)
    assert 'data-testid="line-CH-45"' in row and "Star" not in row  # no charm category yet -> any item
    assert staff_client.htmx("get", "/orders/line?item_id=987654").status_code == 404


def test_confirm_through_htmx_returns_the_live_panel(staff_client, org, chain):
    order = make_order(org.id, [(chain, 2)])
    response = staff_client.htmx("post", f"/orders/{order.id}/actions/confirm")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'id="order-live"' in body and "Confirmed" in body and "Start production" in body
    assert stock_of(chain.id) == (3, 2)


def test_insufficient_stock_is_a_clear_409_and_the_order_stays_draft(staff_client, org, chain):
    order = make_order(org.id, [(chain, 5)])
    page = staff_client.post(f"/orders/{order.id}/actions/confirm")
    assert page.status_code == 409
    assert "Insufficient stock for SKU CH-45: 3 available, 5 requested." in page.get_data(as_text=True)
    toast = staff_client.htmx("post", f"/orders/{order.id}/actions/confirm")
    assert toast.status_code == 409 and toast.headers["HX-Retarget"] == "#toasts"
    assert "Insufficient stock for SKU CH-45" in toast.get_data(as_text=True)
    assert db.session.get(Order, order.id).status == OrderStatus.DRAFT and stock_of(chain.id) == (3, 0)


def test_action_not_allowed_now_is_409_and_unknown_action_404(staff_client, org, chain):
    order = make_order(org.id, [(chain, 1)])
    assert staff_client.post(f"/orders/{order.id}/actions/ship").status_code == 409
    assert staff_client.post(f"/orders/{order.id}/actions/explode").status_code == 404
    assert db.session.get(Order, order.id).status == OrderStatus.DRAFT


def test_refund_checkbox_decides_restocking(staff_client, org, chain):
    order = make_order(org.id, [(chain, 1)])
    for action in ("confirm", "ship", "deliver"):
        assert staff_client.post(f"/orders/{order.id}/actions/{action}").status_code == 302
    assert stock_of(chain.id) == (2, 0)
    assert staff_client.post(f"/orders/{order.id}/actions/refund", data={"restock": "1"}).status_code == 302
    assert stock_of(chain.id) == (3, 0)


def test_totals_and_notes(staff_client, org, chain):
    order = make_order(org.id, [(chain, 2)])
    assert staff_client.post(f"/orders/{order.id}/totals", data={"tax_rate": "10", "shipping": "5"}).status_code == 302
    assert db.session.get(Order, order.id).total == Decimal("32.50")
    bad = staff_client.post(f"/orders/{order.id}/totals", data={"tax_rate": "abc", "shipping": "5"})
    assert bad.status_code == 422 and "must be a number" in bad.get_data(as_text=True)
    assert staff_client.post(f"/orders/{order.id}/notes", data={"note": "Gift wrap"}).status_code == 302
    assert "Gift wrap" in staff_client.get(f"/orders/{order.id}/live").get_data(as_text=True)


def test_list_filters_and_search(staff_client, org, chain):
    a = make_order(org.id, [(chain, 1)], customer={"name": "Ana Nowak", "email": "ana@example.com"})
    b = make_order(org.id, [(chain, 1)], customer={"name": "Bob Smith", "email": "bob@shop.test"})
    services.order_confirm(org_id=org.id, order_id=b.id, by=None)
    old = db.session.get(Order, a.id)
    old.created_at = old.created_at - timedelta(days=10)
    db.session.commit()

    def rows(query: str) -> str:
        return staff_client.htmx("get", f"/orders/?{query}").get_data(as_text=True)

    assert a.number in rows("") and b.number in rows("")
    assert b.number in rows("status=confirmed") and a.number not in rows("status=confirmed")
    assert a.number in rows("q=ana@") and b.number not in rows("q=ana@")
    assert b.number in rows(f"q={b.number[-3:]}") and a.number not in rows(f"q={b.number[-3:]}")
    assert b.number in rows("customer=smith") and a.number not in rows("customer=smith")
    recent = (old.created_at + timedelta(days=5)).date().isoformat()
    assert b.number in rows(f"date_from={recent}") and a.number not in rows(f"date_from={recent}")
    assert a.number in rows(f"date_to={recent}") and b.number not in rows(f"date_to={recent}")
    odd = rows("status=nonsense&date_from=yesterday")
    assert "Unknown status" in odd and "is not a date" in odd and a.number in odd


def test_today_lists_lines_in_work_then_stale_drafts(staff_client, org, chain):
    fresh = make_order(org.id, [(chain, 1)])
    stale = make_order(org.id, [(chain, 1)])
    busy = make_order(org.id, [(chain, 1)])
    done = make_order(org.id, [(chain, 1)])
    services.order_confirm(org_id=org.id, order_id=busy.id, by=None)
    services.order_cancel(org_id=org.id, order_id=done.id, by=None)
    row = db.session.get(Order, stale.id)
    row.created_at = row.created_at - timedelta(days=2)
    db.session.commit()
    page = staff_client.get("/orders/today").get_data(as_text=True)
    assert stale.number in page and busy.number in page
    assert fresh.number not in page and done.number not in page
    lines, drafts = page.split("Drafts waiting for more than a day")
    assert busy.number in lines and stale.number in drafts and stale.number not in lines


def test_designs_create_use_and_delete(staff_client, org, chain, charm):
    response = staff_client.post("/orders/designs", data={
        "name": "Ana's star necklace", "product_item_id": str(chain.id), "component_item_ids": [str(charm.id)],
        "chain_length_cm": "45", "engraving": "A"})
    assert response.status_code == 302
    design = db.session.scalar(select(Design))
    assert design.component_item_ids == [charm.id] and design.options == {"chain_length_cm": "45", "engraving": "A"}
    form = staff_client.get(f"/orders/new?design_id={design.id}").get_data(as_text=True)
    assert 'data-testid="line-CH-45"' in form and 'value="45"' in form
    row = staff_client.htmx("get", f"/orders/line?design_id={design.id}").get_data(as_text=True)
    assert f'value="{design.id}"' in row
    again = staff_client.post("/orders/designs", data={"name": "Ana's star necklace", "product_item_id": str(chain.id)})
    assert again.status_code == 409 and "already exists" in again.get_data(as_text=True)
    missing = staff_client.post("/orders/designs", data={"name": "No product", "product_item_id": ""})
    assert missing.status_code == 422
    order = make_order(org.id, [services.design_line(design)])
    assert order.lines[0].design_id == design.id and order.lines[0].unit_price == Decimal("15.70")
    assert staff_client.post(f"/orders/designs/{design.id}/delete").status_code == 302
    assert db.session.scalar(select(Design.id)) is None
    assert db.session.get(OrderItem, order.lines[0].id).customisation["charms"][0]["sku"] == "CM-STAR"


def test_dashboard_card_counts_open_orders_by_status(staff_client, org, chain):
    make_order(org.id, [(chain, 1)])
    confirmed = make_order(org.id, [(chain, 1)])
    services.order_confirm(org_id=org.id, order_id=confirmed.id, by=None)
    card = staff_client.get("/dashboard/cards/orders").get_data(as_text=True)
    assert 'data-testid="open-orders-draft">1<' in card and 'data-testid="open-orders-confirmed">1<' in card
    assert 'data-testid="open-orders-shipped">0<' in card
    assert 'id="card-orders"' in staff_client.get("/").get_data(as_text=True)


def test_today_pages_its_lines_with_the_total(staff_client, org, chain, monkeypatch):
    from app.orders import selectors

    real = selectors.lines_to_act_on_page
    monkeypatch.setattr(selectors, "lines_to_act_on_page", lambda org_id, page: real(org_id, page, per_page=2))
    orders = [make_order(org.id, [(chain, 1)]) for _ in range(3)]
    for order in orders:
        services.order_confirm(org_id=org.id, order_id=order.id, by=None)
    first = staff_client.get("/orders/today").get_data(as_text=True)
    assert orders[0].number in first and orders[1].number in first and orders[2].number not in first
    assert "Page 1 of 2 · 3 rows" in first and "/orders/today?page=2" in first
    second = staff_client.get("/orders/today?page=2", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert orders[2].number in second and orders[0].number not in second
    assert 'hx-get="/orders/today?page=2"' in second  # a live update keeps the page
