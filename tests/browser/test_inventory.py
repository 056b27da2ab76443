"""Inline stock adjustment on the inventory list, and a row following a change made elsewhere."""
from playwright.sync_api import expect

from app.core.database import write_intent
from app.extensions import db
from app.inventory.stock import stock_reserve
from tests.browser.conftest import sign_in
from tests.inventory.factories import make_item


def test_adjust_stock_inline_and_see_available_change(page, org, manager):
    make_item(org, sku="CHAIN-18", title="Paperclip bracelet chain 18cm", on_hand=5)
    hook_id = make_item(org, sku="HOOK-1", title="Ear hooks", on_hand=2).id
    sign_in(page, manager)
    page.goto("/inventory/")
    expect(page.locator("#live-dot.on")).to_be_visible()
    expect(page.get_by_test_id("available-CHAIN-18")).to_have_text("5")
    page.evaluate("window.__notReloaded = true")
    page.get_by_test_id("delta-CHAIN-18").fill("-2")
    page.get_by_test_id("reason-CHAIN-18").fill("damaged in transit")
    page.get_by_test_id("adjust-CHAIN-18").click()
    expect(page.get_by_test_id("available-CHAIN-18")).to_have_text("3")
    expect(page.get_by_test_id("on-hand-CHAIN-18")).to_have_text("3")

    # A change made by someone else (here: a reservation committed outside the page) arrives over SSE.
    db.session.commit()
    with write_intent():
        stock_reserve(org_id=org.id, lines=[(hook_id, 2)], reference="SO-TEST", by=None)
        db.session.commit()
    expect(page.get_by_test_id("available-HOOK-1")).to_have_text("0")
    expect(page.get_by_test_id("status-HOOK-1")).to_contain_text("Out of stock")

    # A refused adjustment shows why and changes nothing.
    page.get_by_test_id("delta-HOOK-1").fill("-1")
    page.get_by_test_id("reason-HOOK-1").fill("lost")
    page.get_by_test_id("adjust-HOOK-1").click()
    expect(page.locator("#toasts")).to_contain_text("at most 0 can be removed")
    expect(page.get_by_test_id("on-hand-HOOK-1")).to_have_text("2")
    assert page.evaluate("window.__notReloaded") is True
