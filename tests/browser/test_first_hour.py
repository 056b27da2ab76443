"""A new user's first hour: the seeded demo has something on every main page; a pricing rule prices an
item the order picker showed as "needs a price", and the item can then be ordered."""
from playwright.sync_api import expect

from app.demo import seed_demo_warehouse
from tests.browser.conftest import sign_in
from tests.inventory.factories import make_item


def test_demo_pages_a_pricing_rule_and_an_order_of_a_formerly_unpriced_item(context, org, manager, staff):
    seed_demo_warehouse(org_id=org.id, manager=manager, staff=staff)
    make_item(org, sku="MOON-1", title="Moonstone drop pendant", unit_cost="3.10", currency="USD", on_hand=4)
    page = context.new_page()
    sign_in(page, manager)

    page.goto("/inventory/")
    expect(page.locator(".pagination")).to_contain_text("136 rows")
    page.goto("/orders/")
    for status in ("Shipped", "In production", "Confirmed", "Draft"):
        expect(page.locator("main tbody").first).to_contain_text(status)
    page.goto("/inbox/")
    expect(page.locator("main")).to_contain_text("the usual please")
    page.goto("/batches/")
    expect(page.locator("main")).to_contain_text("new-collection.csv")
    page.goto("/products/")
    expect(page.locator("#board .product-card")).to_have_count(3)

    # The picker finds the item but says why it cannot be added, with a way to fix it.
    page.goto("/orders/new")
    page.fill("#picker-q", "Moonstone")
    unpriced = page.get_by_test_id("unpriced-MOON-1")
    expect(unpriced).to_contain_text("needs a price")
    expect(page.get_by_test_id("pick-MOON-1")).to_have_count(0)
    expect(page.get_by_test_id("set-price-MOON-1")).to_have_attribute("href", "/inventory/prices?q=MOON-1")

    page.goto("/inventory/prices")
    page.fill("#markup_percent", "200")
    page.select_option("#price_ending", "0.99")
    page.fill("#min_margin_percent", "50")
    page.get_by_test_id("rule-save").click()
    expect(page.locator(".flash, .alert, [role=status]").first).to_contain_text("Pricing rule saved")
    expect(page.get_by_test_id("rule-example")).to_contain_text("12.99")
    expect(page.get_by_test_id("unpriced-summary")).to_contain_text("1 item")
    page.get_by_test_id("apply-unpriced").click()
    expect(page.locator("main")).to_contain_text("1 item priced by the rule")
    expect(page.get_by_test_id("unpriced-summary")).to_contain_text("Every sellable item has a price")

    page.goto("/orders/new")
    page.fill("#picker-q", "Moonstone")
    page.get_by_test_id("pick-MOON-1").click()
    expect(page.get_by_test_id("line-MOON-1")).to_be_visible()
    page.fill("#customer_name", "Ana Nowak")
    page.get_by_role("button", name="Create draft order").click()
    expect(page.get_by_test_id("order-status")).to_contain_text("Draft")
    expect(page.get_by_test_id("order-line-MOON-1")).to_contain_text("9.99")


def test_layout_details_at_1366(browser, live_server, org, manager):
    """The sign-in checkbox sits beside its label; a new order's lines with long charm names fit their card."""
    ctx = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 900})
    page = ctx.new_page()
    page.goto("/login")
    box = page.locator("input[name=remember]").bounding_box()
    label = page.locator("label", has_text="Keep me signed in").bounding_box()
    # One line: the box at the label's left, the words beside it (not a full-width box above them).
    assert label["height"] < 2 * box["height"] + 8 and box["width"] < 40 and abs(box["x"] - label["x"]) < 8

    make_item(org, sku="CH-45", title="Gold chain 45 cm", price="12.50", currency="USD", on_hand=5,
              category_path="Chains › Necklace Chains")
    for n in range(3):
        make_item(org, sku=f"CM-{n}", title=f"Very long charm name number {n} with enamel flowers and a lobster clasp",
                  price="3.20", currency="USD", on_hand=3, category_path="Charms › Pendants")
    sign_in(page, manager)
    page.goto("/orders/new")
    page.fill("#picker-q", "CH-45")
    page.get_by_test_id("pick-CH-45").click()
    line = page.get_by_test_id("line-CH-45")
    expect(line).to_be_visible()
    card = page.locator(".order-form > .card").first.bounding_box()
    for control in (line.locator("input[name$='-engraving']"), line.get_by_role("button", name="Remove")):
        right = control.bounding_box()
        assert right["x"] + right["width"] <= card["x"] + card["width"] + 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    ctx.close()
