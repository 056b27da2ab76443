"""WhatsApp Cloud API (Meta): the verification handshake, X-Hub-Signature-256, Meta's documented
payloads, replies through a local stand-in of the Graph API, status reports and the 24-hour window."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from app.core.models import utcnow
from app.extensions import db
from app.inbox.channels import meta
from app.inbox.channels import services as channel_services
from app.inbox.models import Message
from tests.conftest import FIXTURES
from tests.inbox.standins import HTTPStandIn

SAMPLES = json.loads((FIXTURES / "channels" / "meta_webhooks.json").read_text())
APP_SECRET = "meta-app-secret-0123456789"


def _channel(org_id: int):
    return channel_services.channel_create(
        org_id=org_id, kind="whatsapp", provider="meta", name="WhatsApp Cloud", address="+15550783881",
        settings={"phone_number_id": "106540352242922", "verify_token": "my-verify-token"},
        secrets={"access_token": "EAAG-access-token", "app_secret": APP_SECRET},
        hook_url_for=lambda token, provider: f"http://localhost/hooks/ch/{token}/{provider}", by=None)


def _post(client, row, payload, *, signature: str | None = None):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post(row.hook_url, data=body, csrf=False, headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": signature or meta.signature(APP_SECRET, body)})


def test_signature_matches_the_published_vector():
    vector = SAMPLES["signature_vector"]
    assert meta.signature(vector["secret"], vector["payload"].encode()) == vector["signature"]
    assert meta.signature_valid(vector["secret"], vector["payload"].encode(), vector["signature"])
    assert not meta.signature_valid(vector["secret"], b"Hello, World?", vector["signature"])
    assert not meta.signature_valid(vector["secret"], vector["payload"].encode(), vector["signature"] + "é")


def test_verification_handshake(app, org, client):
    row = _channel(org.id)
    ok = client.get(row.hook_url, query_string={"hub.mode": "subscribe", "hub.verify_token": "my-verify-token",
                                                "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.get_data(as_text=True) == "1158201444"
    wrong = client.get(row.hook_url, query_string={"hub.mode": "subscribe", "hub.verify_token": "guess",
                                                   "hub.challenge": "1"})
    assert wrong.status_code == 403
    assert client.get("/hooks/ch/unknown/meta", query_string={"hub.mode": "subscribe"}).status_code == 404


def test_documented_text_and_image_messages_are_stored_once(app, org, client):
    row = _channel(org.id)
    assert _post(client, row, SAMPLES["text_message"]).status_code == 200
    assert _post(client, row, SAMPLES["text_message"]).status_code == 200  # Meta retries: stored once
    assert _post(client, row, SAMPLES["image_message"]).status_code == 200
    text_message, image = db.session.scalars(select(Message).order_by(Message.id)).all()
    assert text_message.body == "Does it come in another color?" and text_message.sender == "+16505551234"
    assert text_message.conversation.customer.name == "Sheena Nelson" and text_message.channel_id == row.id
    assert image.body == "This one, in blue"
    [attachment] = image.attachments
    assert (attachment.media_id, attachment.content_type, attachment.url) == ("1003383421387256", "image/jpeg", "")


def test_bad_signature_and_bad_payloads_store_nothing(app, org, client):
    row = _channel(org.id)
    assert _post(client, row, SAMPLES["text_message"], signature="sha256=" + "0" * 64).status_code == 403
    assert _post(client, row, SAMPLES["text_message"], signature="sha256=é").status_code == 403
    broken = json.loads(json.dumps(SAMPLES["text_message"]))
    broken["entry"][0]["changes"][0]["value"]["messages"][0]["text"] = "not an object"
    assert _post(client, row, broken).status_code == 400
    broken["entry"][0]["changes"][0]["value"]["messages"] = "x"
    assert _post(client, row, broken).status_code == 400
    assert _post(client, row, b"[" * 50_000 + b"]" * 50_000).status_code == 400
    assert db.session.scalar(select(Message)) is None


def _reply(app, client, staff_client, run_jobs, org, api):
    app.config["CHANNELS_GRAPH_API_URL"] = api.url
    row = _channel(org.id)
    _post(client, row, SAMPLES["text_message"])
    conversation = db.session.scalar(select(Message)).conversation
    response = staff_client.post(f"/inbox/c/{conversation.id}/reply", data={"body": "Yes, in blue and green."})
    run_jobs()
    return row, response, conversation


def test_reply_through_the_graph_api_and_status_reports(app, org, client, staff_client, run_jobs):
    with HTTPStandIn([(200, {"messaging_product": "whatsapp", "messages": [{"id": "wamid.reply-1"}]})]) as api:
        row, _, conversation = _reply(app, client, staff_client, run_jobs, org, api)
    request = api.requests[0]
    assert request["path"] == "/106540352242922/messages"
    assert request["headers"]["Authorization"] == "Bearer EAAG-access-token"
    sent = json.loads(request["body"])
    assert sent["to"] == "16505551234" and sent["text"]["body"] == "Yes, in blue and green."
    reply = db.session.scalar(select(Message).where(Message.direction == "out"))
    assert reply.delivery_status == "sent" and reply.external_id == "wamid.reply-1"

    for status in ("delivered", "read"):
        report = json.loads(json.dumps(SAMPLES["status_delivered"]))
        report["entry"][0]["changes"][0]["value"]["statuses"][0].update(id="wamid.reply-1", status=status)
        assert _post(client, row, report).status_code == 200
        db.session.expire_all()
        assert db.session.get(Message, reply.id).delivery_status == status
    page = staff_client.get(f"/inbox/c/{conversation.id}").get_data(as_text=True)
    assert "24-hour window is open until" in page


def test_outside_the_24_hour_window_a_reply_is_refused_and_says_why(app, org, client, staff_client, run_jobs):
    row = _channel(org.id)
    _post(client, row, SAMPLES["text_message"])
    inbound = db.session.scalar(select(Message))
    inbound.created_at = utcnow() - timedelta(hours=25)
    db.session.commit()
    page = staff_client.get(f"/inbox/c/{inbound.conversation_id}").get_data(as_text=True)
    assert "24-hour window is closed" in page and "templates approved by Meta" in page
    refused = staff_client.htmx("post", f"/inbox/c/{inbound.conversation_id}/reply", data={"body": "Hello?"})
    assert refused.status_code == 409 and "24 hours" in refused.get_data(as_text=True)
    assert db.session.scalar(select(Message).where(Message.direction == "out")) is None


def test_graph_api_window_error_is_shown_in_metas_words(app, org, client, staff_client, run_jobs):
    error = {"error": {"message": "(#131047) Re-engagement message", "type": "OAuthException", "code": 131047}}
    with HTTPStandIn([(400, error)]) as api:
        _reply(app, client, staff_client, run_jobs, org, api)
    reply = db.session.scalar(select(Message).where(Message.direction == "out"))
    assert reply.delivery_status == "failed" and "Re-engagement message" in reply.delivery_error
    assert "approved template" in reply.delivery_error


def test_meta_channel_needs_its_ids_and_secrets(app, org, admin_client):
    form = {"kind": "whatsapp", "provider": "meta", "name": "Cloud", "address": "+15550783881",
            "phone_number_id": "not-a-number", "access_token": "t", "app_secret": "s"}
    response = admin_client.post("/inbox/settings/channels/", data=form)
    assert response.status_code == 422 and "phone number ID" in response.get_data(as_text=True)
    response = admin_client.post("/inbox/settings/channels/", data={**form, "phone_number_id": "1065", "app_secret": ""})
    assert response.status_code == 422 and "App secret" in response.get_data(as_text=True)
    assert admin_client.post("/inbox/settings/channels/", data={**form, "phone_number_id": "1065"}).status_code == 302
    page = admin_client.get("/inbox/settings/channels/").get_data(as_text=True)
    assert "/hooks/ch/" in page and "/meta" in page and "verify token" in page
