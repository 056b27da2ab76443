"""An admin connects a Twilio number with the account's Auth Token; a message signed with that token
shows up live in the open inbox; the reply goes to (a local stand-in of) Twilio's Messages API and its
state moves from "sent to provider" to "delivered" on the page when Twilio's status callback arrives."""
from __future__ import annotations

import urllib.parse
import urllib.request

from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.inbox.channels import twilio
from app.inbox.models import Message
from tests.browser.conftest import sign_in, wait_until
from tests.inbox.helpers import TWILIO_SID
from tests.inbox.standins import HTTPStandIn

AUTH_TOKEN = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"


def _post_signed(url: str, params: dict) -> int:
    data = urllib.parse.urlencode(params).encode()
    request = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": twilio.signature(AUTH_TOKEN, url, params.items())})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def _outgoing() -> Message | None:
    db.session.rollback()
    return db.session.scalar(select(Message).where(Message.direction == "out"))


def test_twilio_channel_from_settings_to_delivered_reply(page, admin, live_server, worker_env, start_worker):
    with HTTPStandIn([(201, {"sid": "SMbrowser1", "status": "queued"})]) as twilio_api:
        worker_env["CHANNELS_TWILIO_API_URL"] = twilio_api.url
        start_worker()
        sign_in(page, admin)
        page.goto("/inbox/settings/channels/")
        form = page.get_by_test_id("add-channel")
        form.get_by_label("Kind", exact=True).select_option("sms")
        form.get_by_label("Provider", exact=True).select_option("twilio")
        form.get_by_label("Name", exact=True).fill("Shop number")
        form.get_by_label("Our number or address").fill("+15559990000")
        form.get_by_label("Account SID", exact=True).fill(TWILIO_SID)
        form.get_by_label("Auth Token", exact=True).fill(AUTH_TOKEN)
        form.get_by_role("button", name="Add channel").click()
        hook_url = page.locator("[data-testid^=hook-url-]").first.inner_text().strip()
        assert hook_url.startswith(f"{live_server.url}/hooks/ch/") and hook_url.endswith("/twilio")
        assert AUTH_TOKEN not in page.content()

        page.goto("/inbox/")
        expect(page.locator("#live-dot.on")).to_be_visible()
        page.evaluate("window.__notReloaded = true")
        assert _post_signed(hook_url, {"MessageSid": "SMin1", "From": "+447700900555", "To": "+15559990000",
                                       "Body": "Do you have the rose quartz bracelet?", "NumMedia": "0"}) == 200
        row = page.get_by_role("row").filter(has_text="+447700900555")
        expect(row).to_be_visible(timeout=20_000)
        assert page.evaluate("window.__notReloaded") is True

        row.get_by_role("link").first.click()
        expect(page.locator("#live-dot.on")).to_be_visible()
        page.fill("#reply-body", "Yes, two left. Shall I reserve one?")
        page.get_by_role("button", name="Send reply").click()
        reply = wait_until(lambda: (m := _outgoing()) and m.delivery_status == "sent" and m)
        state = page.get_by_test_id(f"delivery-{reply.id}")
        expect(state).to_have_text("sent to provider", timeout=20_000)
        page.evaluate("window.__notReloaded = true")
        sent = urllib.parse.parse_qs(twilio_api.requests[0]["body"].decode())
        assert sent["Body"] == ["Yes, two left. Shall I reserve one?"] and sent["To"] == ["+447700900555"]

        callback_url = sent["StatusCallback"][0]
        assert _post_signed(callback_url, {"MessageSid": "SMbrowser1", "MessageStatus": "delivered",
                                           "AccountSid": TWILIO_SID}) == 204
        expect(state).to_have_text("delivered", timeout=20_000)
        assert page.evaluate("window.__notReloaded") is True
