"""The keyboard alone: signing in, working through the product review queue and correcting an order
line in the inbox's review queue, with Tab to move and Enter to send."""
from __future__ import annotations

from playwright.sync_api import expect

from app.extensions import db
from app.inbox import services as inbox
from app.inbox.models import Channel
from app.inbox.review_models import ExtractedLine, Extraction, ExtractionStatus
from app.pipeline.models import Product
from app.pipeline.statuses import ProductStatus
from tests.conftest import PASSWORD
from tests.inventory.factories import make_item
from tests.pipeline.helpers import create_product

FOCUSED = """() => { const el = document.activeElement;
  return el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.name ? '[name=' + el.name + ']' : ''); }"""


def tab_to(page, selector: str, limit: int = 80) -> list[str]:
    """Press Tab until the focus is on `selector`; the elements it passed on the way."""
    passed = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return passed
        passed.append(page.evaluate(FOCUSED))
    raise AssertionError(f"{selector} not reached with Tab; focus went through {passed}")


def sign_in_by_keyboard(page, user) -> None:
    page.goto("/login")
    expect(page.locator("input[name=email]")).to_be_focused()
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Logout")


def test_review_queue_by_keyboard(page, org, manager, run_jobs):
    product = create_product(org, manager, hint_name="Mystery box")
    run_jobs()
    assert db.session.get(Product, product.id).status == ProductStatus.NEEDS_REVIEW
    sign_in_by_keyboard(page, manager)

    page.goto("/review/")
    expect(page.locator("#r-name")).to_have_value("Mystery box")
    passed = tab_to(page, "#r-name")
    # The filters come first, then the product's own link, in the page's reading order.
    assert "select[name=uploader]" in passed and passed.index("select[name=uploader]") < len(passed) - 1
    page.keyboard.press("Control+A")
    page.keyboard.type("Wooden puzzle box")
    page.keyboard.press("Tab")
    expect(page.locator("#r-brand")).to_be_focused()
    page.keyboard.type("Acme Toys")
    page.keyboard.press("Enter")  # sends the approve form: its first submit button is Approve

    expect(page.get_by_test_id("review-empty")).to_be_visible()
    db.session.rollback()
    approved = db.session.get(Product, product.id)
    assert approved.status != ProductStatus.NEEDS_REVIEW and approved.title == "Wooden puzzle box"

    # Nothing left: the Reject form is gone with the product; the filters still work from the keyboard.
    tab_to(page, "form.filters button")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("review-empty")).to_be_visible()


def test_inbox_review_queue_by_keyboard(page, org, manager):
    clasp = make_item(org, sku="CLASP-1", title="Lobster clasp, gold", price="0.40", currency="USD", on_hand=50)
    message, _ = inbox.message_receive(org_id=org.id, channel=Channel.SMS, sender="+15550001111",
                                       body="2 boxes of bracelet clasps", external_id="kb-1")
    extraction = Extraction(organisation_id=org.id, message_id=message.id, status=ExtractionStatus.REVIEW,
                            confidence=0, provider="offline", reasons=["No quantity for one line"])
    line = ExtractedLine(organisation_id=org.id, extraction=extraction, position=1, quantity=2,
                         product_text="bracelet clasps", confidence=0, evidence={}, status="unmatched")
    db.session.add_all([extraction, line])
    db.session.commit()
    sign_in_by_keyboard(page, manager)

    page.goto("/inbox/review")
    row = page.get_by_test_id(f"line-{line.id}")
    expect(row.locator("input[name=quantity]")).to_have_value("2")
    tab_to(page, f"[data-testid=line-{line.id}] input[name=quantity]")
    page.keyboard.press("Control+A")
    page.keyboard.type("5")
    page.keyboard.press("Tab")
    expect(row.locator("input[name=q]")).to_be_focused()
    page.keyboard.type("clasp")
    expect(row.locator("[data-pick-into]")).to_have_count(1)
    page.keyboard.press("Tab")  # into the picker's list, right after the search field
    expect(row.locator("[data-pick-into]")).to_be_focused()
    page.keyboard.press("Enter")
    expect(row.locator("[data-pick-into]")).to_have_count(0)
    page.keyboard.press("Tab")
    expect(row.get_by_role("button", name="Save")).to_be_focused()
    with page.expect_response(lambda r: r.request.method == "POST") as sent:
        page.keyboard.press("Enter")  # the line's own form, sent by HTMX: the panel comes back in place
    assert sent.value.status == 200
    expect(page.get_by_test_id(f"line-{line.id}")).to_contain_text("CLASP-1")
    db.session.rollback()
    saved = db.session.get(ExtractedLine, line.id)
    assert (saved.quantity, saved.item_id) == (5, clasp.id)
