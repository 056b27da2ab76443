"""One manager's to-do queue, live: a product and a message land in review and both appear in /todo
and in the top-bar count without a reload; the product is resolved from the queue in a second tab
(j, Enter, approve) and leaves the first tab's queue and count, still without a reload."""
from playwright.sync_api import expect

from app.extensions import db
from app.inbox import services
from tests.browser.conftest import sign_in
from tests.browser.test_inbox import _send
from tests.pipeline.helpers import BLANK_PHOTO


def test_items_arrive_live_and_leave_when_resolved_from_the_queue(context, manager, live_server, live_worker):
    from tests.inbox.helpers import make_catalogue

    make_catalogue(manager.organisation_id)
    config, _ = services.channel_config_get_or_create(org_id=manager.organisation_id)
    db.session.commit()
    watch, work = context.new_page(), context.new_page()
    sign_in(watch, manager)
    watch.goto("/todo")
    expect(watch.locator("#live-dot.on")).to_be_visible(timeout=30_000)
    count = watch.get_by_test_id("todo-count")
    expect(count).to_have_text("0")
    watch.evaluate("window.__notReloaded = true")

    work.goto("/products/new")
    work.set_input_files("input[name=images]", str(BLANK_PHOTO))
    work.fill("input[name=hint_name]", "Mystery box")
    work.click("#upload-form button[type=submit]")
    expect(work.get_by_test_id("product-status")).to_be_visible()
    product_id = work.url.rstrip("/").rsplit("/", 1)[-1]
    assert _send(live_server, config, "todo-1", "2 Silver Hoop Earrings et trois étoiles filantes dorées") == 201

    product_entry = watch.locator(f'[data-key="product_review.{product_id}"]')
    expect(product_entry).to_be_visible(timeout=120_000)
    expect(product_entry).to_contain_text("Waiting for review")
    message_entry = watch.locator('[data-key^="message_review."]')
    expect(message_entry).to_be_visible(timeout=60_000)
    expect(count).to_have_text("2")

    work.goto("/todo")
    expect(work.locator(f'[data-key="product_review.{product_id}"]')).to_be_visible()
    work.locator("body").click(position={"x": 5, "y": 5})
    work.keyboard.press("j")  # the first entry: products come first in the queue
    expect(work.locator(".todo-entry.selected")).to_have_attribute("data-key", f"product_review.{product_id}")
    work.keyboard.press("Enter")
    expect(work.locator(f'#review[data-product-id="{product_id}"]')).to_be_visible()
    work.fill("#r-name", "Wooden puzzle box")
    work.fill("#r-brand", "Acme Toys")
    work.locator("body").click(position={"x": 5, "y": 5})
    work.keyboard.press("a")  # the review page's approve shortcut
    expect(work.get_by_test_id("review-empty")).to_be_visible()

    expect(product_entry).to_have_count(0, timeout=30_000)
    expect(count).to_have_text("1")
    expect(message_entry).to_be_visible()
    assert watch.evaluate("window.__notReloaded") is True
