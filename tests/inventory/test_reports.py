"""Stock value by category tree, low stock, and formula-safe CSV exports of items, ledger, orders and lines."""
from __future__ import annotations

import csv
import io
from decimal import Decimal

from app.core.models import Role
from app.extensions import db
from app.inventory import reports
from app.orders import services
from tests.orders.helpers import make_item, make_order


def _rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_stock_value_rolls_up_the_category_tree_per_currency(org):
    a = make_item(org.id, "A", stock=3, category="Chains › Necklace Chains", price="10.00")
    b = make_item(org.id, "B", stock=2, category="Chains › Bracelet Chains", price="8.00")
    c = make_item(org.id, "C", stock=5, category="Charms › Pendants", price="2.00", currency="USD")
    make_item(org.id, "D", stock=4, category="Charms › Pendants", price="1.00", currency="USD")  # no cost
    for item, cost in ((a, "4.00"), (b, "3.50"), (c, "0.80")):
        item.unit_cost = Decimal(cost)
    db.session.commit()
    order = make_order(org.id, [(a, 1)])
    services.order_confirm(org_id=org.id, order_id=order.id, by=None)
    tree = {n.path: n for n in reports.stock_value_tree(org.id)}
    assert list(tree) == ["Chains", "Chains › Bracelet Chains", "Chains › Necklace Chains", "Charms",
                          "Charms › Pendants"]
    chains = tree["Chains"]
    assert (chains.items, chains.on_hand, chains.reserved, chains.available) == (2, 5, 1, 4)
    assert chains.at_cost == {"EUR": Decimal("19.00")} and chains.at_price == {"EUR": Decimal("46.00")}
    charms = tree["Charms"]
    assert charms.at_cost == {"USD": Decimal("4.00")} and charms.without_cost == 1
    total = reports.grand_totals(list(tree.values()))
    assert total.at_cost == {"EUR": Decimal("19.00"), "USD": Decimal("4.00")} and total.on_hand == 14


def test_reports_page_and_exports_are_for_managers(client_for, org, make_user):
    make_item(org.id, "=HYPERLINK(1)", stock=1, title="+cmd|' /C calc'!A0")
    staff, manager = client_for(make_user(org, Role.STAFF)), client_for(make_user(org, Role.MANAGER))
    for url in ("/inventory/reports", "/inventory/reports/export?kind=items", "/orders/export"):
        assert staff.get(url).status_code == 403, url
    assert manager.get("/inventory/reports").status_code == 200
    rows = _rows(manager.get("/inventory/reports/export?kind=items"))
    assert rows[0]["sku"] == "'=HYPERLINK(1)" and rows[0]["title"].startswith("'+cmd")


def test_a_bad_range_is_explained_and_a_good_one_exports(manager_client, org):
    item = make_item(org.id, "L-1", stock=2)
    order = make_order(org.id, [(item, 1)], customer={"name": "@Ana"}, due_date="2030-01-02")
    response = manager_client.get("/orders/export?kind=orders&date_from=2026-13-01&date_to=2026-12-31")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "YYYY-MM-DD" in page and 'value="2026-13-01"' in page
    response = manager_client.get("/inventory/reports/export?kind=ledger&date_from=2030-02-01&date_to=2030-01-01")
    assert response.status_code == 422 and "before the first day" in response.get_data(as_text=True)
    day = order.created_at.date().isoformat()
    rows = _rows(manager_client.get(f"/orders/export?kind=orders&date_from={day}&date_to={day}"))
    assert [(r["number"], r["customer_name"], r["due_date"]) for r in rows] == [(order.number, "'@Ana", "2030-01-02")]
    lines = _rows(manager_client.get(f"/orders/export?kind=lines&date_from={day}&date_to={day}"))
    assert [(r["sku"], r["quantity"], r["production_status"]) for r in lines] == [("L-1", "1", "waiting")]
    ledger = _rows(manager_client.get(f"/inventory/reports/export?kind=ledger&date_from={day}&date_to={day}"))
    assert [(r["sku"], r["kind"], r["on_hand_delta"]) for r in ledger] == [("L-1", "adjustment", "2")]
