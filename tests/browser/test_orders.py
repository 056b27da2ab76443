"""Staff create a customised order and confirm it while an inventory list in another tab updates live."""
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.orders.helpers import make_item


def test_confirming_a_customised_order_updates_the_open_inventory_list(context, org, staff):
    make_item(org.id, "CH-45", price="12.50", stock=5, title="Gold chain 45 cm", category="Chains › Necklace Chains")
    charm = make_item(org.id, "CM-STAR", price="3.20", stock=3, title="Star charm", category="Charms › Pendants")
    orders, stock, watcher = context.new_page(), context.new_page(), context.new_page()
    sign_in(orders, staff)

    stock.goto("/inventory/")
    expect(stock.get_by_test_id("available-CH-45")).to_have_text("5")
    expect(stock.get_by_test_id("available-CM-STAR")).to_have_text("3")
    stock.evaluate("window.__notReloaded = true")

    orders.goto("/orders/new")
    orders.fill("#picker-q", "CH-45")
    orders.get_by_test_id("pick-CH-45").click()
    line = orders.get_by_test_id("line-CH-45")
    line.locator("input[name$='-quantity']").fill("1")
    line.locator("input[name$='-chain_length_cm']").fill("45")
    line.locator("select[name$='-charm_ids']").select_option(str(charm.id))
    line.locator("input[name$='-engraving']").fill("For Ana")
    orders.fill("#customer_name", "Ana Nowak")
    orders.fill("#customer_email", "ana@example.com")
    orders.get_by_role("button", name="Create draft order").click()
    expect(orders.get_by_test_id("order-status")).to_contain_text("Draft")
    expect(orders.get_by_test_id("order-line-CH-45")).to_contain_text("45 cm")
    expect(orders.get_by_test_id("order-line-CH-45")).to_contain_text("Star charm")
    expect(orders.get_by_test_id("order-line-CH-45")).to_contain_text("For Ana")

    watcher.goto(orders.url)  # the same order open in a third tab follows the status live
    expect(watcher.get_by_test_id("order-status")).to_contain_text("Draft")
    for tab in (stock, watcher):
        expect(tab.locator("#live-dot.on")).to_be_visible()

    orders.get_by_role("button", name="Confirm and reserve stock").click()
    expect(orders.get_by_test_id("order-status")).to_contain_text("Confirmed")
    expect(orders.get_by_role("button", name="Start production")).to_be_visible()
    expect(orders.get_by_role("button", name="Confirm and reserve stock")).to_have_count(0)

    expect(stock.get_by_test_id("available-CH-45")).to_have_text("4")
    expect(stock.get_by_test_id("available-CM-STAR")).to_have_text("2")
    expect(stock.get_by_test_id("reserved-CM-STAR")).to_have_text("1")
    expect(watcher.get_by_test_id("order-status")).to_contain_text("Confirmed")
    expect(watcher.get_by_test_id("timeline")).to_contain_text("confirmed")
    assert stock.evaluate("window.__notReloaded") is True


def test_insufficient_stock_shows_the_reason_and_keeps_the_draft(context, org, staff):
    from tests.orders.helpers import make_order

    item = make_item(org.id, "LAST-1", price="9.00", stock=1)
    order = make_order(org.id, [(item, 2)])
    page = context.new_page()
    sign_in(page, staff)
    page.goto(f"/orders/{order.id}")
    page.get_by_role("button", name="Confirm and reserve stock").click()
    expect(page.locator("#toasts")).to_contain_text("Insufficient stock for SKU LAST-1: 1 available, 2 requested.")
    expect(page.get_by_test_id("order-status")).to_contain_text("Draft")
