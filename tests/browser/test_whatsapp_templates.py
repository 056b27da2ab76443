"""An admin registers an approved WhatsApp template on the channel settings page; on a conversation
whose 24-hour window has closed, the reply box offers only templates: the admin picks one, fills in its
parameters and sends it; (a local stand-in of) the Graph API gets Meta's template payload, and the
reply's state moves to "sent to provider" and then "delivered" on the page without a reload."""
from __future__ import annotations

import json
import urllib.request
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from app.core.database import write_intent
from app.core.models import utcnow
from app.extensions import db
from app.inbox import services
from app.inbox.channels import meta, templates
from app.inbox.channels import services as channel_services
from app.inbox.models import Channel, Message
from tests.browser.conftest import sign_in, wait_until
from tests.inbox.standins import HTTPStandIn

APP_SECRET = "browser-app-secret-0123456789"


def _outgoing() -> Message | None:
    db.session.rollback()
    return db.session.scalar(select(Message).where(Message.direction == "out"))


def _post_signed(url: str, payload: dict) -> int:
    body = json.dumps(payload).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": meta.signature(APP_SECRET, body)})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def test_template_picked_and_sent_outside_the_window(page, admin, live_server, worker_env, start_worker):
    org_id = admin.organisation_id
    with write_intent():
        row = channel_services.channel_create(
            org_id=org_id, kind="whatsapp", provider="meta", name="Shop WhatsApp", address="+15550783881",
            settings={"phone_number_id": "106540352242922", "verify_token": "verify-me"},
            secrets={"access_token": "EAAG-browser", "app_secret": APP_SECRET},
            hook_url_for=lambda token, provider: f"{live_server.url}/hooks/ch/{token}/{provider}", by=None)
    with write_intent():
        inbound, _ = services.message_receive(
            org_id=org_id, channel=Channel.WHATSAPP, channel_id=row.id, sender="+16505551234",
            body="Is my order ready?", external_id="wamid.in-1", sender_name="Sheena Nelson",
            received_at=utcnow() - timedelta(hours=30))
    with write_intent():
        templates.template_add(org_id=org_id, channel_id=row.id, name="we_miss_you", language="en", body_params=0,
                               preview="We miss you! Reply to pick up where we left off.", by=None)
    conversation_id, hook_url = inbound.conversation_id, row.hook_url
    db.session.commit()

    with HTTPStandIn([(200, {"messaging_product": "whatsapp", "messages": [{"id": "wamid.browser-template"}]})]) as api:
        worker_env["CHANNELS_GRAPH_API_URL"] = api.url
        start_worker()
        sign_in(page, admin)
        page.goto("/inbox/settings/channels/")
        expect(page.locator("#live-dot.on")).to_be_visible()  # connected: news from now on refreshes the card
        card = page.get_by_test_id(f"channel-{row.id}")
        card.get_by_text("Add a template").click()
        form = card.get_by_test_id(f"add-template-{row.id}")
        form.get_by_label("Template name").fill("order_ready")
        form.get_by_label("Language code").fill("en_US")
        form.get_by_label("Body parameters").fill("3")
        form.get_by_label("Body text").fill("Hello {{1}}, your order {{2}} is ready to collect.")
        form.get_by_role("button", name="Add template").click()
        expect(form.get_by_role("alert")).to_contain_text("{{3}}")  # the mismatch is said inline
        expect(form.get_by_label("Body text")).to_have_value("Hello {{1}}, your order {{2}} is ready to collect.")
        form.get_by_label("Body parameters").fill("2")
        form.get_by_role("button", name="Add template").click()
        expect(page.get_by_test_id(f"templates-{row.id}")).to_contain_text("order_ready")

        page.goto(f"/inbox/c/{conversation_id}")
        expect(page.locator("#live-dot.on")).to_be_visible()
        expect(page.get_by_test_id("whatsapp-window")).to_contain_text("24-hour window is closed")
        expect(page.locator("#reply-body")).to_have_count(0)  # a free-form reply would be refused
        box = page.get_by_test_id("template-reply")
        box.get_by_text("order_ready (en_US)").click()
        box.get_by_label("Parameter {{1}}").fill("Sheena")
        box.get_by_label("Parameter {{2}}").fill("#1042")
        page.evaluate("window.__notReloaded = true")
        box.get_by_role("button", name="Send template order_ready").click()

        reply = wait_until(lambda: (m := _outgoing()) and m.delivery_status == "sent" and m)
        state = page.get_by_test_id(f"delivery-{reply.id}")
        expect(state).to_have_text("sent to provider", timeout=20_000)
        expect(page.get_by_test_id(f"message-{reply.id}")).to_contain_text(
            "Hello Sheena, your order #1042 is ready to collect.")
        sent = json.loads(api.requests[0]["body"])
        assert sent["type"] == "template" and sent["template"]["name"] == "order_ready"
        assert [p["text"] for p in sent["template"]["components"][0]["parameters"]] == ["Sheena", "#1042"]

        status = {"object": "whatsapp_business_account", "entry": [{"id": "0", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783881",
                                                          "phone_number_id": "106540352242922"},
            "statuses": [{"id": "wamid.browser-template", "status": "delivered", "timestamp": "1750000000",
                          "recipient_id": "16505551234"}]}}]}]}
        assert _post_signed(hook_url, status) == 200
        expect(state).to_have_text("delivered", timeout=20_000)
        assert page.evaluate("window.__notReloaded") is True
