"""A confirmed order's line moves through production and part of it ships; a second tab sees
"partly shipped" arrive live, without a reload."""
from PIL import Image
from playwright.sync_api import expect

from app.extensions import db
from app.orders import services
from app.orders.models import Order
from tests.browser.conftest import sign_in
from tests.orders.helpers import make_item, make_order


def test_make_a_line_ship_part_and_see_partly_shipped_live(context, org, staff):
    chain = make_item(org.id, "CH-45", price="12.50", stock=5, title="Gold chain 45 cm")
    ring = make_item(org.id, "RG-1", price="30.00", stock=2, title="Silver ring")
    order = make_order(org.id, [(chain, 2), (ring, 1)], due_date="2030-01-31")
    order_id = order.id
    desk, watcher = context.new_page(), context.new_page()
    sign_in(desk, staff)
    desk.goto(f"/orders/{order_id}")
    watcher.goto(f"/orders/{order_id}")
    expect(watcher.locator("#live-dot.on")).to_be_visible()
    watcher.evaluate("window.__notReloaded = true")

    desk.get_by_role("button", name="Confirm and reserve stock").click()
    expect(desk.get_by_test_id("order-status")).to_contain_text("Confirmed")
    expect(watcher.get_by_test_id("order-status")).to_contain_text("Confirmed")

    chain_cell = desk.get_by_test_id("production-CH-45")
    chain_cell.get_by_role("button", name="Mark in production").click()
    expect(desk.get_by_test_id("order-status")).to_contain_text("In production")
    desk.get_by_test_id("production-CH-45").get_by_role("button", name="Mark made").click()
    expect(desk.get_by_test_id("production-CH-45")).to_contain_text("Made")
    expect(desk.get_by_test_id("production-RG-1")).to_contain_text("Waiting")
    expect(watcher.get_by_test_id("production-CH-45")).to_contain_text("Made")

    form = desk.get_by_test_id("ship-form")
    form.get_by_label("Pieces of CH-45 in this parcel").fill("2")
    form.get_by_label("Carrier").fill("DHL")
    form.get_by_label("Tracking number").fill("JD014600006281")
    form.get_by_role("button", name="Ship parcel").click()
    expect(desk.get_by_test_id("order-status")).to_contain_text("Partly shipped")
    expect(desk.get_by_test_id("shipment-1")).to_contain_text("JD014600006281")

    expect(watcher.get_by_test_id("order-status")).to_contain_text("Partly shipped")
    expect(watcher.get_by_test_id("shipped-CH-45")).to_have_text("2")
    expect(watcher.get_by_test_id("shipment-1")).to_contain_text("DHL")
    assert watcher.evaluate("window.__notReloaded") is True
    db.session.rollback()  # end the test's read snapshot: the server committed since
    assert db.session.get(Order, order_id).status.value == "partly_shipped"


def _confirmed_order_page(context, org, staff, sku: str, quantity: int):
    """A confirmed order of `quantity` × a new item, open on its page."""
    item = make_item(org.id, sku, price="5.00", stock=3)
    order = make_order(org.id, [(item, quantity)])
    services.order_confirm(org_id=org.id, order_id=order.id, by=staff)
    page = context.new_page()
    sign_in(page, staff)
    page.goto(f"/orders/{order.id}")
    return page


def test_a_refused_parcel_is_explained_in_the_form(context, org, staff):
    page = _confirmed_order_page(context, org, staff, "ONE-1", 1)
    form = page.get_by_test_id("ship-form")
    form.get_by_label("Tracking number").fill("KEEP-1")
    form.get_by_role("button", name="Ship parcel").click()
    expect(page.get_by_test_id("ship-error")).to_contain_text("Choose what goes in this parcel")
    expect(page.get_by_test_id("ship-form").get_by_label("Tracking number")).to_have_value("KEEP-1")
    expect(page.get_by_test_id("order-status")).to_contain_text("Confirmed")


def test_news_from_others_keeps_what_is_being_typed_in_the_ship_form(context, org, staff):
    page = _confirmed_order_page(context, org, staff, "TYP-1", 2)
    expect(page.locator("#live-dot.on")).to_be_visible(timeout=30_000)
    form = page.get_by_test_id("ship-form")
    form.get_by_label("Carrier").fill("DHL")
    form.get_by_label("Tracking number").fill("HALF-TYPED")
    page.evaluate("document.getElementById('order-live').dataset.before = '1'")
    page.evaluate("htmx.trigger('#order-live', 'stockroom:resync')")  # what another person's change does
    expect(page.locator("#order-live:not([data-before])")).to_have_count(1)  # the refreshed element
    form = page.locator("#order-live:not([data-before])").get_by_test_id("ship-form")
    expect(form.get_by_label("Carrier")).to_have_value("DHL")
    expect(form.get_by_label("Tracking number")).to_have_value("HALF-TYPED")
    expect(form.get_by_label("Tracking number")).to_be_focused()


def test_a_design_with_a_picture_is_ordered_from_its_page(context, org, staff, tmp_path):
    chain = make_item(org.id, "CH-50", price="14.00", stock=4, title="Gold chain 50 cm")
    picture = tmp_path / "heart.png"
    Image.new("RGB", (640, 480), (180, 40, 60)).save(picture)
    page = context.new_page()
    sign_in(page, staff)
    page.goto("/orders/designs")
    page.get_by_label("Name").fill("Heart on gold")
    page.get_by_label("Product (template item)").select_option(str(chain.id))
    page.get_by_label("Engraving").fill("A ♥ B")
    page.get_by_label("Pictures").set_input_files(str(picture))
    page.get_by_role("button", name="Save design").click()
    expect(page.get_by_role("heading", name="Design Heart on gold")).to_be_visible()
    thumb = page.get_by_test_id("design-images").locator("img")
    expect(thumb).to_have_count(1)
    assert page.evaluate("(img) => img.naturalWidth", thumb.element_handle()) > 0
    page.get_by_role("link", name="Order this design").first.click()
    line = page.get_by_test_id("line-CH-50")
    expect(line.locator("input[name$='-engraving']")).to_have_value("A ♥ B")
    page.fill("#customer_name", "Ola")
    page.get_by_role("button", name="Create draft order").click()
    expect(page.get_by_test_id("order-line-CH-50")).to_contain_text("A ♥ B")
    page.get_by_role("button", name="Confirm and reserve stock").click()
    expect(page.get_by_test_id("order-status")).to_contain_text("Confirmed")


def test_an_expired_reservation_reaches_the_open_order_page(context, org, staff, manager):
    from datetime import timedelta

    from sqlalchemy import update

    from app.core.database import write_intent
    from app.core.models import utcnow
    from app.inventory import holds
    from app.orders import reservations

    holds.stock_settings_set(org_id=org.id, reservation_hours=24, by=manager)
    item = make_item(org.id, "EXP-1", price="5.00", stock=2)
    order = make_order(org.id, [(item, 1)])
    services.order_confirm(org_id=org.id, order_id=order.id, by=staff)
    page = context.new_page()
    sign_in(page, staff)
    page.goto(f"/orders/{order.id}")
    expect(page.get_by_test_id("reserved-until")).to_be_visible()
    expect(page.locator("#live-dot.on")).to_be_visible()
    db.session.rollback()  # a write after the test's reads must take SQLite's write lock up front
    with write_intent():
        db.session.execute(update(Order).where(Order.id == order.id)
                           .values(reserved_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert reservations.orders_sweep() == 1  # what the workers' upkeep runs
    expect(page.get_by_test_id("order-status")).to_contain_text("Draft")
    expect(page.get_by_test_id("order-notice")).to_contain_text("reservation ran out")
    expect(page.get_by_test_id("timeline")).to_contain_text("Reservation expired unpaid")
