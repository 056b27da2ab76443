"""The open conversation shows a new message of its own without reload, and a reply being typed survives it."""
from playwright.sync_api import expect

from app.core.database import write_intent
from app.extensions import db
from app.inbox import services
from app.inbox.models import Channel
from tests.browser.conftest import sign_in


def test_thread_updates_live_and_keeps_the_reply_draft(page, staff, live_server):
    org_id = staff.organisation_id
    first, _ = services.message_receive(org_id=org_id, channel=Channel.SMS, sender="+15550123", body="Hello there",
                                        external_id="th-1")
    services.message_receive(org_id=org_id, channel=Channel.SMS, sender="+15550999", body="Other customer",
                             external_id="th-0")
    db.session.commit()
    sign_in(page, staff)
    page.goto(f"/inbox/c/{first.conversation_id}")
    expect(page.locator("#live-dot.on")).to_be_visible()
    page.fill("#reply-body", "Half-written reply")
    page.evaluate("window.__notReloaded = true")

    db.session.commit()  # end the test's read transaction; the next one takes SQLite's write lock up front
    with write_intent():
        services.message_receive(org_id=org_id, channel=Channel.SMS, sender="+15550999", body="Unrelated",
                                 external_id="th-2")
    db.session.commit()
    with write_intent():
        services.message_receive(org_id=org_id, channel=Channel.SMS, sender="+15550123", body="Two more please",
                                 external_id="th-3")
    expect(page.get_by_text("Two more please")).to_be_visible(timeout=20_000)
    expect(page.get_by_text("Unrelated")).to_have_count(0)
    expect(page.locator("#reply-body")).to_have_value("Half-written reply")
    assert page.evaluate("window.__notReloaded") is True
