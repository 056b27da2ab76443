"""The market phase through its run(ctx) contract, with real rows: price lists, items, orders."""
from __future__ import annotations

import json
import threading
from decimal import Decimal as D
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from app.core.ai_ledger import budget_set
from app.core.ai_models import AICall
from app.extensions import db
from app.listings.phases import market
from app.listings.price_lists import price_list_import
from app.orders import services as orders
from tests.listings.helpers import context, finish, make_product
from tests.orders.helpers import make_item, make_order

GTIN = "4006381333931"
PRICES = (b"GTIN,MSRP,Competitor price,Source,Date\n"
          b"4006381333931,29.99,19.00,Shop A,2026-10-01\n"
          b"4006381333931,,21.00,Shop B,2026-10-02\n"
          b"4006381333931,,25.00,Shop C,2026-10-03\n")


def matched(item) -> dict:
    return {"gtin_match": {"gtin": GTIN, "rows": [{"key": f"item:{item.id}", "name": item.title}]}}


def run_market(product, logs=None):
    outcome = market.run(context(product, "market", {"analysis": {}}, logs))
    assert outcome.status == "completed"
    finish(outcome)
    return outcome.result


def test_price_list_and_unit_cost_give_a_suggested_price_with_its_rule(app, org, manager):
    item = make_item(org.id, "CB-18", title="Curb Chain Bracelet")
    item.unit_cost, item.gtin = D("4.00"), GTIN
    db.session.commit()
    price_list_import(org_id=org.id, by=manager, filename="p.csv", data=PRICES, currency="EUR")
    product = make_product(org, evidence=matched(item))
    logs = []
    result = run_market(product, logs)
    assert result["status"] == "priced" and result["currency"] == "EUR"
    assert result["msrp"] == "29.99" and result["competitive_price"] == "21.00"
    assert result["suggested_price"] == "20.58"
    assert result["rule"] == "median of 3 competitor price(s) −2 %, floored at unit cost × 1.3"
    assert result["unit_cost"] == {"amount": "4.00", "currency": "EUR", "source": "inventory item CB-18"}
    assert result["item_id"] == item.id and result["sku"] == "CB-18"
    assert {s["source"] for s in result["sources"]} == {"Shop A", "Shop B", "Shop C"}
    assert any("suggested 20.58 EUR" in message for _level, message, _details in logs)


def test_nothing_known_is_no_market_data(app, org):
    result = run_market(make_product(org, gtin="036000291452"))
    assert result["status"] == "no market data"
    assert result["suggested_price"] is None and result["msrp"] is None and result["sources"] == []


def test_other_organisations_prices_are_not_used(app, org, other_org, make_user):
    price_list_import(org_id=other_org.id, by=make_user(other_org), filename="p.csv", data=PRICES, currency="EUR")
    assert run_market(make_product(org))["status"] == "no market data"


def test_own_past_sales_price_the_item(app, org, staff):
    item = make_item(org.id, "RING-7", price="30.00", stock=5, title="Signet Ring")
    item.gtin = "036000291452"
    db.session.commit()
    for quantity in (1, 2):
        order = make_order(org.id, [(item, quantity)], by=staff)
        orders.order_confirm(org_id=org.id, order_id=order.id, by=staff)
    draft = make_order(org.id, [(item, 1)], by=staff)  # a draft is not a sale
    assert draft.id
    product = make_product(org, name="Signet Ring", gtin=None, evidence={
        "text_matches": [{"row": {"key": f"item:{item.id}", "name": "Signet Ring"}, "score": 95}]})
    result = run_market(product)
    assert result["status"] == "priced"
    assert result["suggested_price"] == "30.00" and result["rule"] == "median of 2 own past sale price(s)"
    assert [s["kind"] for s in result["sources"]] == ["sale", "sale"]
    assert all(s["reference"].startswith("SO-") for s in result["sources"])


class _Prices(BaseHTTPRequestHandler):
    answer: bytes = b""
    seen: list = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        type(self).seen.append((self.path, self.headers.get("Authorization")))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(type(self).answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def price_server():
    _Prices.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Prices)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/prices", _Prices
    server.shutdown()
    server.server_close()


def test_external_price_provider_adds_prices_and_records_the_call(app, org, price_server):
    url, handler = price_server
    handler.answer = json.dumps({"prices": [
        {"kind": "competitor", "price": "15.00", "currency": "EUR", "source": "Marketplace X", "date": "2026-11-01"},
        {"kind": "msrp", "price": "20.00", "currency": "EUR"},
        {"kind": "competitor", "price": "free", "currency": "EUR"},  # dropped, never repaired
    ]}).encode()
    app.config.update(PRICE_PROVIDER_URL=url, PRICE_PROVIDER_TOKEN="s3cret", PRICE_PROVIDER_PRICE_PER_CALL="0.002",
                      PRICE_PROVIDER_CURRENCY="eur")
    product = make_product(org)
    result = run_market(product)
    assert result["competitive_price"] == "15.00" and result["msrp"] == "20.00"
    assert result["suggested_price"] == "14.70"
    path, auth = handler.seen[0]
    assert f"gtin={GTIN}" in path and auth == "Bearer s3cret"
    call = db.session.scalars(select(AICall)).one()
    assert call.ok and call.capability == "price" and call.provider == "http-json"
    assert call.model.startswith("127.0.0.1") and (call.object_type, call.object_id) == ("product", product.id)
    assert call.cost == D("0.002") and call.currency == "EUR" and not call.retried


def test_price_provider_down_is_noted_and_the_phase_completes(app, org):
    app.config.update(PRICE_PROVIDER_URL="http://127.0.0.1:9/nothing-listens-here", PRICE_PROVIDER_TIMEOUT="2",
                      AI_RETRY_BACKOFF_SECONDS="0.01")
    product = make_product(org)
    result = run_market(product)
    assert result["status"] == "no market data"
    assert result["notes"][0].startswith("price provider skipped: price provider unreachable")
    call = db.session.scalars(select(AICall)).one()
    assert call.ok is False and call.attempts == 2 and "could not be reached" in call.error  # refused: retried once
    assert call.object_id == product.id


def test_the_budget_hard_limit_stops_the_price_provider(app, org, manager, price_server):
    url, handler = price_server
    app.config.update(PRICE_PROVIDER_URL=url)
    budget_set(org_id=org.id, warning_amount="0", hard_limit="0", currency="USD", by=manager)
    product = make_product(org)
    result = run_market(product)
    assert handler.seen == [] and result["status"] == "no market data"
    assert "Monthly AI budget reached" in result["notes"][0]
    call = db.session.scalars(select(AICall)).one()
    assert call.over_budget and (call.capability, call.object_id) == ("price", product.id)


def test_provider_is_off_by_default(app):
    from app.listings.price_provider import configured_provider

    assert not app.config["PRICE_PROVIDER_URL"]
    assert configured_provider() is None
