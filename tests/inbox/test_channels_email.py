"""E-mail in: Mailgun's signed route posts and raw RFC 822 messages; quoted history and signatures
are not read into orders; replies leave through the organisation's SMTP channel."""
from __future__ import annotations

import base64
import io
import json
import time

from sqlalchemy import select

from app.extensions import db
from app.inbox.channels import email_in
from app.inbox.channels import services as channel_services
from app.inbox.models import Message
from app.inbox.signatures import SIGNATURE_HEADER, hmac_sha256
from tests.conftest import FIXTURES
from tests.inbox.standins import SMTPStandIn

RAW = (FIXTURES / "channels" / "reply-with-quote.eml").read_bytes()
SIGNING_KEY = "key-mailgun-signing-0123456789"


def _channel(org_id: int, provider: str, secrets: dict):
    return channel_services.channel_create(
        org_id=org_id, kind="email", provider=provider, name=f"Orders ({provider})", address="orders@acme.test",
        settings={}, secrets=secrets, hook_url_for=lambda token, p: f"http://localhost/hooks/ch/{token}/{p}", by=None)


def _mailgun_form(timestamp: str | None = None, token: str = "tok-" + "a" * 46, **fields):
    timestamp = timestamp or str(int(time.time()))
    return {"timestamp": timestamp, "token": token,
            "signature": email_in.mailgun_signature(SIGNING_KEY, timestamp, token),
            "from": "Ann Smith <ann@example.com>", "sender": "ann@example.com", "subject": "Re: Spring order",
            "body-plain": "2 Rose Quartz Bracelet please\n\nOn Mon, Shop wrote:\n> ready", "Message-Id": "<mg-1@x>",
            **fields}


def test_new_text_drops_quoted_history_and_signature():
    body = "Hello,\n\n2 boxes please.\n\nThanks\n-- \nAnn\n+44 7700 900123\n\nOn Mon, Shop wrote:\n> ready\n"
    assert email_in.new_text(body) == "Hello,\n\n2 boxes please.\n\nThanks"


def test_raw_rfc822_message_is_read_without_its_history(app, org, client):
    row = _channel(org.id, "rfc822", {"relay_secret": "relay-secret-0123456789"})
    headers = {SIGNATURE_HEADER: hmac_sha256("relay-secret-0123456789", RAW), "Content-Type": "message/rfc822"}
    response = client.post(row.hook_url, data=RAW, csrf=False, headers=headers)
    assert response.status_code == 201, response.data
    assert client.post(row.hook_url, data=RAW, csrf=False, headers=headers).status_code == 200  # same Message-ID
    message = db.session.scalar(select(Message))
    assert message.sender == "ann@example.com" and message.subject == "Re: Spring order"
    assert message.conversation.customer.name == "Ann Smith"
    assert "2 Rose Quartz Bracelet" in message.body and "Café" in message.body
    assert "Silver Hoop" not in message.body and "Example Boutique" not in message.body
    assert [(a.filename, a.content_type, a.size_bytes) for a in message.attachments] == [
        ("purchase-order.pdf", "application/pdf", 16)]
    assert message.external_id == "<CAF-ann-0001@mail.example.com>"
    bad = client.post(row.hook_url, data=RAW, csrf=False, headers={SIGNATURE_HEADER: "sha256=é"})
    assert bad.status_code == 403
    junk = b"not an e-mail at all"
    assert client.post(row.hook_url, data=junk, csrf=False,
                       headers={SIGNATURE_HEADER: hmac_sha256("relay-secret-0123456789", junk)}).status_code == 400


def test_mailgun_route_post_is_verified_and_replays_refused(app, org, client):
    row = _channel(org.id, "mailgun", {"signing_key": SIGNING_KEY})
    form = _mailgun_form()
    files = {"attachment-1": (io.BytesIO(b"%PDF-1.4"), "po.pdf", "application/pdf")}
    response = client.post(row.hook_url, data={**form, **files}, csrf=False, content_type="multipart/form-data")
    assert response.status_code == 201, response.data
    message = db.session.scalar(select(Message))
    assert message.body == "2 Rose Quartz Bracelet please" and message.sender == "ann@example.com"
    assert message.attachments[0].filename == "po.pdf"
    replay = client.post(row.hook_url, data={**form, "Message-Id": "<mg-other@x>"}, csrf=False)
    assert replay.status_code == 200 and replay.get_json()["duplicate"] is True
    old = _mailgun_form(timestamp=str(int(time.time()) - 3600), token="t" * 50, **{"Message-Id": "<mg-2@x>"})
    assert client.post(row.hook_url, data=old, csrf=False).status_code == 403
    forged = {**_mailgun_form(token="u" * 50), "signature": "0" * 64}
    assert client.post(row.hook_url, data=forged, csrf=False).status_code == 403
    assert len(db.session.scalars(select(Message)).all()) == 1


def test_reply_to_mail_that_came_through_mailgun_leaves_through_smtp(app, org, client, staff_client, run_jobs):
    row = _channel(org.id, "mailgun", {"signing_key": SIGNING_KEY})
    client.post(row.hook_url, data=_mailgun_form(), csrf=False)
    conversation = db.session.scalar(select(Message)).conversation
    with SMTPStandIn() as smtp:
        channel_services.channel_create(
            org_id=org.id, kind="email", provider="smtp", name="Shop mail", address="orders@acme.test",
            settings={"host": "127.0.0.1", "port": str(smtp.port)}, secrets={},
            hook_url_for=lambda token, p: "", by=None)
        staff_client.post(f"/inbox/c/{conversation.id}/reply", data={"body": "Added, thank you."})
        run_jobs()
    assert len(smtp.messages) == 1 and "In-Reply-To: <mg-1@x>" in smtp.messages[0]["data"]
    reply = db.session.scalar(select(Message).where(Message.direction == "out"))
    assert reply.delivery_status == "sent"


POSTMARK = json.loads((FIXTURES / "channels" / "postmark_inbound.json").read_text())["payload"]


def test_postmark_inbound_json_with_basic_auth_in_the_url(app, org, client):
    row = channel_services.channel_create(
        org_id=org.id, kind="email", provider="postmark", name="Postmark", address="orders@acme.test",
        settings={"username": "postmark"}, secrets={"password": "pm-password-0123456789"},
        hook_url_for=lambda token, p: f"http://localhost/hooks/ch/{token}/{p}", by=None)
    auth = {"Authorization": "Basic " + base64.b64encode(b"postmark:pm-password-0123456789").decode()}
    response = client.post(row.hook_url, json=POSTMARK, csrf=False, headers=auth)
    assert response.status_code == 201, response.data
    assert client.post(row.hook_url, json=POSTMARK, csrf=False, headers=auth).status_code == 200  # same MessageID
    message = db.session.scalar(select(Message))
    assert message.body == "Please add 2 Rose Quartz Bracelet." and message.sender == "ann@example.com"
    assert [(a.filename, a.content_type, a.declared_size) for a in message.attachments] == [
        ("order.csv", "text/csv", 17)]
    wrong = {"Authorization": "Basic " + base64.b64encode(b"postmark:guess").decode()}
    assert client.post(row.hook_url, json=POSTMARK, csrf=False, headers=wrong).status_code == 403
    assert client.post(row.hook_url, json=POSTMARK, csrf=False).status_code == 403
    bad = {**POSTMARK, "MessageID": "other", "Attachments": [{"Name": "x", "ContentLength": "17"}]}
    assert client.post(row.hook_url, json=bad, csrf=False, headers=auth).status_code == 400
    assert len(db.session.scalars(select(Message)).all()) == 1
