"""A manager starts a tech pack and watches every live element reach its end without reloading;
then shares it with a factory, which opens the link in a fresh browser without a session; revoked,
the link answers 404."""
from playwright.sync_api import expect

from app.core.models import Role
from app.extensions import db
from app.techfiles.models import Collection
from tests.browser.conftest import sign_in
from tests.techfiles.helpers import make_product


def test_tech_pack_progress_reaches_100_live(page, org, make_user, live_worker):
    manager = make_user(org, Role.MANAGER)
    product = make_product(org, manager)
    sign_in(page, manager)
    page.goto(f"/techfiles/products/{product.id}")
    expect(page.locator("#live-dot.on")).to_be_visible()
    page.fill("#name", "Winter 2025 line")
    page.select_option("#kind", "tech_pack")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_test_id("collection-progress")).to_be_visible()
    expect(page.get_by_test_id("collection-name")).to_have_text("Winter 2025 line")
    page.evaluate("window.__notReloaded = true")
    expect(page.get_by_test_id("collection-progress")).to_have_text("100 %", timeout=60_000)
    # Every live element at its end: the state line, the step, the status badge, no "generating" left.
    expect(page.get_by_test_id("collection-state")).to_contain_text("Finished")
    expect(page.get_by_test_id("collection-step")).to_contain_text("Done")
    expect(page.locator("#tf-collection .badge-completed").first).to_be_visible()
    expect(page.locator("text=is generating")).to_have_count(0)
    expect(page.locator("[data-status=processing]")).to_have_count(0)
    expect(page.get_by_role("link", name="Download the tech pack (PDF)")).to_be_visible()
    assert page.evaluate("window.__notReloaded") is True
    db.session.rollback()  # end the test's read snapshot: the server and worker wrote since
    collection = db.session.query(Collection).one()
    assert collection.status.value == "completed" and len(collection.items) == 10
    expect(page.locator("#tf-collection .tf-thumb img")).to_have_count(9)  # and one PDF


def test_share_a_pack_with_a_factory_then_revoke(page, browser, live_server, org, make_user, live_worker):
    manager = make_user(org, Role.MANAGER)
    product = make_product(org, manager, photos=("label.webp",), name="Charm bracelet")
    sign_in(page, manager)
    page.goto(f"/techfiles/products/{product.id}")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_test_id("collection-progress")).to_have_text("100 %", timeout=60_000)
    page.get_by_role("link", name="Share with a factory →").click()
    page.fill("#label", "Ningbo factory")
    page.fill("#days", "7")
    page.get_by_role("button", name="Make the link").click()
    url = page.get_by_test_id("new-share-url").input_value()
    assert "/share/" in url
    page.evaluate("window.__notReloaded = true")

    factory = browser.new_context(base_url=live_server.url)  # a fresh browser: no session, no cookies
    try:
        outside = factory.new_page()
        outside.goto(url)
        expect(outside.get_by_test_id("shared-title")).to_contain_text("Charm bracelet")
        expect(outside.locator(".tf-thumb img")).to_have_count(5)  # base view, 2 close-ups, sketch, category sheet
        expect(outside.get_by_test_id("shared-pdf")).to_be_visible()
        assert outside.locator("text=Logout").count() == 0 and "credits" not in outside.content()
        # The organisation sees the open, live.
        expect(page.locator("[data-testid^=share-opens-]").first).to_have_text("1")
        assert page.evaluate("window.__notReloaded") is True

        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Revoke").click()
        expect(page.locator("#tf-shares .badge-revoked")).to_be_visible()
        response = outside.goto(url)
        assert response.status == 404
    finally:
        factory.close()
