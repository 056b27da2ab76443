"""Personal data: flags, masking in logs and exports, view audit, export and erase; webhook tenancy and limits."""
from __future__ import annotations

import json
import logging

from sqlalchemy import select

from app.core.models import AuditEntry
from app.extensions import db
from app.inbox.models import Conversation, Message
from app.orders.models import Customer, Order
from tests.inbox.helpers import channel, make_catalogue, post_json, post_twilio, twilio_channel

CARD_TEXT = "2 Rose Quartz Bracelet, pay with 4111 1111 1111 1111, mail me at rae@example.com"


def _seed(client, org_id: int) -> Message:
    make_catalogue(org_id)
    post_json(client, channel(org_id), {"id": "pv-1", "from": "+15550005", "text": CARD_TEXT, "name": "Rae Private"})
    return db.session.scalar(select(Message))


def test_pii_flagged_on_message_and_masked_in_logs(app, org, client, caplog):
    with caplog.at_level(logging.INFO, logger="app.inbox.services"):
        message = _seed(client, org.id)
    assert message.pii == ["card", "email"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "inbox:" in logged and "4111 1111 1111 1111" not in logged and "rae@example.com" not in logged


def test_viewing_exporting_and_erasing_a_customer_are_audited(app, org, client, manager_client, staff_client,
                                                               run_jobs):
    message = _seed(client, org.id)
    run_jobs()
    customer_id = message.conversation.customer_id
    from app.inbox.review_models import Extraction
    extraction = db.session.scalar(select(Extraction))
    assert manager_client.htmx("post", f"/inbox/x/{extraction.id}/confirm").status_code == 200
    order = db.session.scalar(select(Order))

    assert staff_client.get(f"/inbox/customers/{customer_id}").status_code == 200
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "customer.view"))

    assert staff_client.get(f"/inbox/customers/{customer_id}/export").status_code == 403
    export = manager_client.get(f"/inbox/customers/{customer_id}/export")
    assert export.status_code == 200 and "attachment" in export.headers["Content-Disposition"]
    data = json.loads(export.data)
    body = data["conversations"][0]["messages"][0]["body"]
    assert "4111 1111 1111 1111" not in body and "[card …1111]" in body
    assert data["orders"][0]["number"] == order.number
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "customer.export"))

    assert manager_client.post(f"/inbox/customers/{customer_id}/erase").status_code == 302
    db.session.expire_all()
    customer = db.session.get(Customer, customer_id)
    assert customer.name == f"Erased customer #{customer_id}" and customer.phone == ""
    assert db.session.get(Message, message.id).body == "[erased]"
    kept = db.session.get(Order, order.id)
    assert kept.number == order.number and kept.total == order.total and kept.customer_phone == ""
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "customer.erase"))
    assert manager_client.post(f"/inbox/customers/{customer_id}/erase").status_code == 409


def test_webhooks_are_per_organisation(app, org, other_org, client):
    mine, theirs = channel(org.id), channel(other_org.id)
    # Their secret on my address is a bad signature; my token with my secret lands in my organisation only.
    assert post_json(client, mine, {"id": "t-1", "from": "+1555", "text": "hi"}, secret=theirs.json_secret).status_code == 403
    params = {"MessageSid": "SMt", "From": "whatsapp:+15550006", "To": "whatsapp:+1", "Body": "2 bracelets"}
    my_number = twilio_channel(org.id, kind="whatsapp", auth_token="mine-auth-token")
    their_number = twilio_channel(other_org.id, kind="whatsapp", auth_token="their-auth-token")
    assert post_twilio(client, my_number, params, token="their-auth-token").status_code == 403
    assert post_twilio(client, their_number, params).status_code == 200
    assert post_json(client, theirs, {"id": "t-1", "from": "+1555", "text": "hi"}).status_code == 201
    assert post_json(client, mine, {"id": "t-1", "from": "+1555", "text": "hi"}).status_code == 201  # same id, other org
    orgs = sorted(c.organisation_id for c in db.session.scalars(select(Conversation)))
    assert orgs == sorted([org.id, other_org.id, other_org.id])  # their WhatsApp message stayed theirs


def test_twilio_whatsapp_hook_keeps_media_and_profile_name(app, org, client):
    row = twilio_channel(org.id, kind="whatsapp")
    params = {"MessageSid": "SMw1", "From": "whatsapp:+447700900123", "To": "whatsapp:+15559990000",
              "Body": "2 bracelets", "ProfileName": "Wanda", "NumMedia": "1",
              "MediaUrl0": "https://media.example/1.jpg", "MediaContentType0": "image/jpeg"}
    response = post_twilio(client, row, params)
    assert response.status_code == 200 and b"<Response>" in response.data
    message = db.session.scalar(select(Message).where(Message.channel == "whatsapp"))
    assert message.sender == "+447700900123" and message.attachments[0].content_type == "image/jpeg"
    assert message.conversation.customer.name == "Wanda"
    assert message.channel_id == row.id and message.conversation.channel_id == row.id


def test_hooks_are_rate_limited(app, org, client):
    app.config["INBOX_HOOK_LIMIT"] = "3 per minute"
    config = channel(org.id)
    codes = [post_json(client, config, {"id": f"rl-{i}", "from": "+1555", "text": "hi"}).status_code for i in range(5)]
    assert codes[:3] == [201, 201, 201] and codes[3:] == [429, 429]


def test_thread_masks_payment_data_but_shows_contact(app, org, client, staff_client):
    message = _seed(client, org.id)
    page = staff_client.get(f"/inbox/c/{message.conversation_id}").get_data(as_text=True)
    assert "4111 1111 1111 1111" not in page and "[card …1111]" in page
    assert "rae@example.com" in page and "contains card, email" in page
