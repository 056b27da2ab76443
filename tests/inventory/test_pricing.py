"""The organisation's pricing rule: the arithmetic, imports, "apply to unpriced", selections, bulk editing."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.core.errors import InvalidInput
from app.core.models import AuditEntry
from app.extensions import db
from app.inventory import imports, pricing
from app.inventory.models import Item
from tests.conftest import FIXTURES
from tests.inventory.factories import make_item

D = Decimal


@pytest.mark.parametrize(("cost", "markup", "ending", "margin", "expected"), [
    ("4.20", "150", "0.90", "0", "10.90"),     # 10.50 rounded up to the next .90
    ("4.20", "150", None, "0", "10.50"),
    ("10.00", "100", "0.99", "0", "20.99"),    # exactly 20.00 goes up to 20.99, never down to 19.99
    ("10.00", "10", "0.00", "50", "20.00"),    # the minimum margin wins over a small markup
    ("0.33", "0", "0.90", "0", "0.90"),
    ("3.05", "200", "0.95", "0", "9.95"),      # 9.15 -> 9.95
])
def test_price_from_cost(cost, markup, ending, margin, expected):
    price = pricing.price_from_cost(D(cost), markup_percent=D(markup), price_ending=D(ending) if ending else None,
                                    min_margin_percent=D(margin))
    assert price == D(expected)
    assert (price - D(cost)) / price >= D(margin) / 100


def test_rule_validation_keeps_nothing_half_written(org, manager):
    for field, values in (("markup_percent", {"markup_percent": "lots"}),
                          ("markup_percent", {"markup_percent": "-5"}),
                          ("min_margin_percent", {"min_margin_percent": "99"}),
                          ("price_ending", {"price_ending": "0.37"})):
        kwargs = {"markup_percent": "100", "price_ending": "0.90", "min_margin_percent": "0", **values}
        with pytest.raises(InvalidInput) as caught:
            pricing.pricing_rule_save(org_id=org.id, by=manager, **kwargs)
        assert caught.value.field == field
        db.session.rollback()
    assert pricing.pricing_rule_for(org.id) is None
    rule = pricing.pricing_rule_save(org_id=org.id, by=manager, markup_percent="120 %", price_ending="0.99",
                                     min_margin_percent="")
    assert (rule.markup_percent, rule.price_ending, rule.min_margin_percent) == (D("120.00"), D("0.99"), D("0"))


def test_supplier_import_prices_new_items_from_the_rule(org, manager):
    pricing.pricing_rule_save(org_id=org.id, by=manager, markup_percent="150", price_ending="0.90",
                              min_margin_percent="40")
    data = (FIXTURES / "aliexpress" / "jewellery-orders-135.json").read_bytes()
    record = imports.supplier_import_preview(org_id=org.id, by=manager, data=data, filename="jewellery.json")
    imports.supplier_import_confirm(org_id=org.id, import_id=record.id, valid_only=True, by=manager)
    imports.supplier_import_run(import_id=record.id)
    items = db.session.scalars(select(Item).where(Item.organisation_id == org.id)).all()
    assert len(items) > 100
    for item in items:
        if item.unit_cost:
            assert item.price == pricing.price_from_cost(item.unit_cost, markup_percent=D(150),
                                                         price_ending=D("0.90"), min_margin_percent=D(40))
            assert str(item.price).endswith(".90")
        else:
            assert item.price is None  # nothing to start from: left for a person
    assert any("by the pricing rule" in row["message"] for row in record.report)


def test_apply_to_unpriced_keeps_typed_prices_and_says_what_it_left(org, manager):
    typed = make_item(org, sku="TYPED", unit_cost="2.00", price="9.00", currency="USD")
    blank = make_item(org, sku="BLANK", unit_cost="2.00", currency="USD")
    no_cost = make_item(org, sku="NOCOST", currency="USD")
    with pytest.raises(InvalidInput):
        pricing.prices_apply(org_id=org.id, by=manager)  # no rule yet
    pricing.pricing_rule_save(org_id=org.id, by=manager, markup_percent="100", price_ending="0.99",
                              min_margin_percent="0")
    outcome = pricing.prices_apply(org_id=org.id, by=manager)
    assert [i.sku for i in outcome.priced] == ["BLANK"] and [i.sku for i in outcome.without_cost] == ["NOCOST"]
    assert "1 left unpriced because they have no unit cost" in outcome.summary
    db.session.expire_all()
    assert (db.session.get(Item, typed.id).price, db.session.get(Item, blank.id).price) == (D("9.00"), D("4.99"))
    assert db.session.get(Item, no_cost.id).price is None
    # A person's explicit selection replaces a typed price.
    pricing.prices_apply(org_id=org.id, by=manager, item_ids=[typed.id])
    assert db.session.get(Item, typed.id).price == D("4.99")
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "prices.apply").limit(1)) is not None


def test_bulk_price_editing_is_all_or_nothing(org, manager):
    a = make_item(org, sku="A", currency="EUR")
    b = make_item(org, sku="B", currency="EUR")
    with pytest.raises(pricing.BulkPriceErrors) as caught:
        pricing.prices_set(org_id=org.id, by=manager, prices={a.id: "5.50", b.id: "five"})
    assert list(caught.value.errors) == [b.id]
    db.session.expire_all()
    assert db.session.get(Item, a.id).price is None
    changed = pricing.prices_set(org_id=org.id, by=manager, prices={a.id: "5.50", b.id: "7"})
    assert {i.sku: i.price for i in changed} == {"A": D("5.50"), "B": D("7.00")}


def test_prices_page_roles_tenancy_and_inline_errors(org, other_org, manager_client, staff_client):
    item = make_item(org, sku="BR-1", title="Bracelet chain", unit_cost="1.50", currency="USD")
    page = staff_client.get("/inventory/prices")
    assert page.status_code == 200 and b"needs a price" in page.data and b"Save rule" not in page.data
    assert staff_client.post("/inventory/prices/rule", data={"markup_percent": "100"}).status_code == 403
    assert staff_client.post("/inventory/prices/apply", data={}).status_code == 403
    assert staff_client.post("/inventory/prices", data={}).status_code == 403

    bad = manager_client.post("/inventory/prices/rule", data={"markup_percent": "abc", "price_ending": "0.90",
                                                              "min_margin_percent": "10"})
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "must be a number" in body and 'value="abc"' in body
    ok = manager_client.post("/inventory/prices/rule", data={"markup_percent": "100", "price_ending": "0.90",
                                                             "min_margin_percent": "0"})
    assert ok.status_code == 302
    bad = manager_client.post("/inventory/prices", data={f"price_{item.id}": "1,2,3"})
    assert bad.status_code == 422 and b'value="1,2,3"' in bad.data and b"nothing was changed" in bad.data
    manager_client.post("/inventory/prices/apply", data={"scope": "unpriced"})
    db.session.expire_all()
    assert db.session.get(Item, item.id).price == D("3.90")

    # Another organisation's item is not priced through a selection, and its page shows none of ours.
    foreign = make_item(other_org, sku="OTHER-1", unit_cost="1.00", currency="USD")
    manager_client.post("/inventory/prices/apply", data={"scope": "selected", "item_ids": [str(foreign.id)]})
    manager_client.post("/inventory/prices", data={f"price_{foreign.id}": "99"})
    db.session.expire_all()
    assert db.session.get(Item, foreign.id).price is None
    assert b"OTHER-1" not in manager_client.get("/inventory/prices").data


def test_order_picker_shows_unpriced_matches_greyed_with_a_link(org, manager_client):
    make_item(org, sku="BR-PRICED", title="Gold bracelet", price="9.90", unit_cost="2", currency="USD", on_hand=3)
    make_item(org, sku="BR-UNPRICED", title="Silver bracelet", unit_cost="2", currency="USD", on_hand=3)
    body = manager_client.get("/orders/picker?q=bracelet").get_data(as_text=True)
    assert 'data-testid="pick-BR-PRICED"' in body
    assert 'data-testid="unpriced-BR-UNPRICED"' in body and "needs a price" in body
    assert 'data-testid="pick-BR-UNPRICED"' not in body and "/inventory/prices?q=BR-UNPRICED" in body
    assert "No sellable item matches" not in body
