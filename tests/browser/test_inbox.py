"""A message arrives by webhook while the inbox is open: the conversation and its unread badge appear live."""
import json
import urllib.request

from playwright.sync_api import expect

from app.extensions import db
from app.inbox import services
from app.inbox.signatures import SIGNATURE_HEADER, hmac_sha256
from tests.browser.conftest import sign_in


def _send(live_server, config, ident: str, text: str) -> int:
    body = json.dumps({"id": ident, "from": "+447700900555", "text": text, "channel": "whatsapp",
                       "name": "Live Customer"}).encode()
    request = urllib.request.Request(f"{live_server.url}/hooks/{config.hook_token}/json", data=body, method="POST",
                                     headers={"Content-Type": "application/json",
                                              SIGNATURE_HEADER: hmac_sha256(config.json_secret, body)})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def test_webhook_message_appears_in_open_inbox_without_reload(page, staff, live_server, live_worker):
    config, _ = services.channel_config_get_or_create(org_id=staff.organisation_id)
    db.session.commit()
    sign_in(page, staff)
    page.goto("/inbox/")
    expect(page.get_by_text("No conversations yet")).to_be_visible()
    expect(page.locator("#live-dot.on")).to_be_visible()  # the event stream is open
    page.evaluate("window.__notReloaded = true")

    assert _send(live_server, config, "live-1", "Hi, 2 bracelets please") == 201
    row = page.get_by_role("row").filter(has_text="Live Customer")
    expect(row).to_be_visible(timeout=20_000)
    badge = row.locator("[data-testid^=unread-]")
    expect(badge).to_have_text("1")

    assert _send(live_server, config, "live-2", "and a necklace") == 201
    expect(badge).to_have_text("2", timeout=20_000)
    assert page.evaluate("window.__notReloaded") is True


def test_two_language_message_with_an_unknown_product_waits_for_a_person(page, staff, live_server, live_worker):
    from tests.inbox.helpers import make_catalogue

    make_catalogue(staff.organisation_id)
    config, _ = services.channel_config_get_or_create(org_id=staff.organisation_id)
    db.session.commit()
    sign_in(page, staff)
    page.goto("/inbox/review")
    expect(page.locator("#live-dot.on")).to_be_visible()
    text = "Hello! 2 Silver Hoop Earrings please, et aussi trois étoiles filantes dorées. Merci"
    assert _send(live_server, config, "two-lang-1", text) == 201

    marked = page.locator("[data-testid=message-text] mark.not-understood")
    expect(marked).to_have_text("trois étoiles filantes dorées", timeout=20_000)  # arrives live, no reload
    panel = page.locator("section.extraction")
    expect(panel.locator("[data-testid^=line-]").first).to_contain_text("EAR-100")
    expect(panel.get_by_role("button", name="Create order and reserve stock")).to_have_count(0)
    expect(panel.get_by_test_id("order-blocked")).to_be_visible()

    panel.get_by_role("button", name="Mark as handled").click()
    expect(panel.get_by_test_id("part-0")).to_contain_text("handled")
    expect(panel.get_by_role("button", name="Create order and reserve stock")).to_have_count(0)  # a line lacks its product
    panel.locator("[data-testid^=line-]").filter(has_text="no product").get_by_role("button", name="Remove").click()
    expect(panel.get_by_role("button", name="Create order and reserve stock")).to_be_visible()
