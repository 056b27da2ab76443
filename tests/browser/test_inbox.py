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
