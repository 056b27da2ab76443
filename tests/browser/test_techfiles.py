"""A manager starts a tech pack for a product and watches it reach 100 % without reloading."""
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
    page.select_option("#tf-kind", "tech_pack")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_test_id("collection-progress")).to_be_visible()
    page.evaluate("window.__notReloaded = true")
    expect(page.get_by_test_id("collection-progress")).to_have_text("100 %", timeout=60_000)
    expect(page.get_by_role("link", name="Download the tech pack (PDF)")).to_be_visible()
    assert page.evaluate("window.__notReloaded") is True
    db.session.rollback()  # end the test's read snapshot: the server and worker wrote since
    collection = db.session.query(Collection).one()
    assert collection.status.value == "completed" and len(collection.items) == 8
    expect(page.locator(".tf-thumb img")).to_have_count(8)
