"""Channels per organisation: Twilio's published signature vectors, the settings page, replies through a
local stand-in of Twilio's Messages API, status callbacks, retries, and the relay hook's bad input."""
from __future__ import annotations

import json
from types import SimpleNamespace
from urllib.parse import parse_qs

from sqlalchemy import select, text
from werkzeug.middleware.proxy_fix import ProxyFix

from app.extensions import db
from app.inbox.channels import services as channel_services
from app.inbox.channels import twilio
from app.inbox.channels.models import InboxChannel
from app.inbox.models import Message
from app.inbox.signatures import SIGNATURE_HEADER, hmac_sha256
from tests.conftest import FIXTURES
from tests.inbox.helpers import TWILIO_SID, channel, post_json, post_twilio, twilio_channel
from tests.inbox.standins import HTTPStandIn, closed_port_url

VECTORS = json.loads((FIXTURES / "channels" / "twilio_signatures.json").read_text())
CALLBACKS = json.loads((FIXTURES / "channels" / "twilio_status_callback.json").read_text())
INBOUND = {"MessageSid": "SMin0001", "From": "+447700900123", "To": "+15559990000", "Body": "2 bracelets please",
           "NumMedia": "0"}


def test_twilio_signature_matches_twilios_published_vectors():
    token, url, params = VECTORS["auth_token"], VECTORS["url"], [tuple(p) for p in VECTORS["params"]]
    assert twilio.signature(token, url, params) == VECTORS["signature"]
    assert twilio.signature(token, url, [tuple(p) for p in VECTORS["duplicate_params"]]) == VECTORS[
        "duplicate_signature"]
    assert twilio.signature_valid(token, [url], params, VECTORS["signature"])
    # Twilio may sign the URL with or without the default port: both are accepted, like its own validators.
    assert twilio.signature_valid(token, [url], params, VECTORS["https_with_port_443_signature"])
    assert twilio.signature_valid(token, [VECTORS["http_with_port_1234_url"]], params,
                                  VECTORS["http_with_port_1234_signature"])
    assert not twilio.signature_valid(token, [url], [*params[:-1], ("Caller", "+1")], VECTORS["signature"])
    assert not twilio.signature_valid(token, [url], params, None)
    assert not twilio.signature_valid(token, [url], params, "é" + VECTORS["signature"])
    assert not twilio.signature_valid(token, [url], params, VECTORS["signature"].encode() + b"\xff")


def _add_twilio(client, **overrides):
    form = {"kind": "sms", "provider": "twilio", "name": "Shop number", "address": "+1 555 999 0000",
            "account_sid": TWILIO_SID, "auth_token": "f00dfeedf00dfeedf00dfeedf00dfeed", **overrides}
    return client.post("/inbox/settings/channels/", data=form)


def test_admin_adds_a_twilio_channel_and_its_token_is_encrypted_and_masked(app, org, admin_client):
    response = _add_twilio(admin_client)
    assert response.status_code == 302
    row = db.session.scalar(select(InboxChannel))
    assert row.address == "+15559990000" and row.secrets == {"auth_token": "f00dfeedf00dfeedf00dfeedf00dfeed"}
    assert row.hook_url == f"http://localhost/hooks/ch/{row.hook_token}/twilio"
    stored = db.session.execute(text("SELECT secrets FROM inbox_channels")).scalar()
    assert "f00dfeed" not in stored  # a Fernet token, not the Auth Token
    page = admin_client.get("/inbox/settings/channels/").get_data(as_text=True)
    assert row.hook_url in page and "f00dfeedf00dfeedf00dfeedf00dfeed" not in page and "••••feed" in page


def test_webhook_address_is_the_public_one_behind_a_trusted_proxy(app, org, admin_client):
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # what TRUSTED_PROXIES=1 installs
    public = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "shop.example.com",
              "Referer": "https://shop.example.com/inbox/settings/channels/"}  # Flask-WTF checks it on https
    admin_client.post("/inbox/settings/channels/", headers=public,
                      data={"kind": "whatsapp", "provider": "twilio", "name": "WhatsApp", "address": "+15559990001",
                            "account_sid": TWILIO_SID, "auth_token": "t" * 32})
    row = db.session.scalar(select(InboxChannel))
    assert row.hook_url == f"https://shop.example.com/hooks/ch/{row.hook_token}/twilio"


def test_bad_channel_input_is_shown_inline_with_what_was_typed(app, org, admin_client):
    response = _add_twilio(admin_client, account_sid="AC-not-a-sid", name="Second shop number")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "AC followed by 32" in page and "Second shop number" in page
    assert _add_twilio(admin_client, address="0800 CALL NOW").status_code == 422
    assert _add_twilio(admin_client, provider="smtp").status_code == 422  # SMS cannot go through SMTP
    assert db.session.scalar(select(InboxChannel)) is None


def test_two_numbers_of_one_kind_and_edits_keep_the_stored_token(app, org, admin_client):
    first, second = twilio_channel(org.id, name="Shop"), twilio_channel(org.id, name="Wholesale", number="+15559990002")
    page = admin_client.get("/inbox/settings/channels/").get_data(as_text=True)
    assert first.hook_url in page and second.hook_url in page
    response = admin_client.htmx("post", f"/inbox/settings/channels/{first.id}", data={
        "kind": "sms", "provider": "twilio", "name": "Shop (front desk)", "address": "+15559990000",
        "account_sid": TWILIO_SID, "auth_token": "", "active": "y"})
    assert response.status_code == 200 and "Shop (front desk)" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(InboxChannel, first.id).secrets == {"auth_token": "twilio-auth-token-0001"}


def test_settings_routes_are_for_admins_of_the_organisation(app, org, other_org, staff_client, manager_client,
                                                           admin_client):
    theirs = twilio_channel(other_org.id)
    mine = twilio_channel(org.id)
    for client in (staff_client, manager_client):
        assert client.get("/inbox/settings/channels/").status_code == 403
        assert client.post(f"/inbox/settings/channels/{mine.id}/test", data={"to": "+15550001111"}).status_code == 403
    assert admin_client.get(f"/inbox/settings/channels/{theirs.id}", headers={"HX-Request": "true"}).status_code == 404
    assert admin_client.post(f"/inbox/settings/channels/{theirs.id}/test",
                             data={"to": "+15550001111"}).status_code == 404


def _reply_through_twilio(app, client, staff_client, run_jobs, org, api, body="Your order is ready"):
    app.config["CHANNELS_TWILIO_API_URL"] = api.url
    row = twilio_channel(org.id, kind="whatsapp")
    assert post_twilio(client, row, {**INBOUND, "From": "whatsapp:+447700900123"}).status_code == 200
    conversation = db.session.scalar(select(Message)).conversation
    staff_client.post(f"/inbox/c/{conversation.id}/reply", data={"body": body})
    run_jobs()
    return row, db.session.scalar(select(Message).where(Message.direction == "out"))


def test_reply_goes_to_twilio_and_status_callbacks_move_it_forward(app, org, client, staff_client, run_jobs):
    with HTTPStandIn([(201, {"sid": "SMreply1", "status": "queued"})]) as api:
        row, reply = _reply_through_twilio(app, client, staff_client, run_jobs, org, api)
    request = api.requests[0]
    assert request["path"] == f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    form = parse_qs(request["body"].decode())
    assert form["To"] == ["whatsapp:+447700900123"] and form["From"] == ["whatsapp:+15559990000"]
    assert form["StatusCallback"] == [f"{row.hook_url}/status?m={reply.id}"]
    assert request["headers"]["Authorization"].startswith("Basic ")
    assert reply.delivery_status == "sent" and reply.external_id == "SMreply1" and reply.channel_id == row.id

    delivered = {**CALLBACKS["delivered"], "MessageSid": "SMreply1", "SmsSid": "SMreply1"}
    assert post_twilio(client, row, delivered, path=f"/status?m={reply.id}").status_code == 204
    late_sent = {**delivered, "MessageStatus": "sent", "SmsStatus": "sent"}
    assert post_twilio(client, row, late_sent, path=f"/status?m={reply.id}").status_code == 204
    db.session.expire_all()
    assert db.session.get(Message, reply.id).delivery_status == "delivered"  # never moved back
    forged = post_twilio(client, row, {**delivered, "MessageStatus": "read"}, path=f"/status?m={reply.id}",
                         token="someone-elses-token")
    assert forged.status_code == 403
    page = staff_client.get(f"/inbox/c/{reply.conversation_id}").get_data(as_text=True)
    assert "delivered" in page


def test_undelivered_callback_shows_twilios_error(app, org, client, staff_client, run_jobs):
    with HTTPStandIn([(201, {"sid": "SMreply2"})]) as api:
        row, reply = _reply_through_twilio(app, client, staff_client, run_jobs, org, api)
    undelivered = {**CALLBACKS["undelivered"], "MessageSid": "SMreply2"}
    assert post_twilio(client, row, undelivered, path="/status").status_code == 204  # found by its SID
    db.session.expire_all()
    failed = db.session.get(Message, reply.id)
    assert failed.delivery_status == "failed" and "30003" in failed.delivery_error
    bad = post_twilio(client, row, {**undelivered, "MessageStatus": "exploded"}, path="/status")
    assert bad.status_code == 400


def test_provider_down_keeps_the_reply_queued_and_retries(app, org, client, staff_client, run_jobs):
    app.config["CHANNELS_RETRY_BASE_SECONDS"] = 0  # the next try is queued at once instead of scheduled
    with HTTPStandIn([(503, {"message": "Service unavailable"}), (201, {"sid": "SMafter"})]) as api:
        _, reply = _reply_through_twilio(app, client, staff_client, run_jobs, org, api)
    assert len(api.requests) == 2
    assert reply.delivery_status == "sent" and reply.attempts == 2 and reply.external_id == "SMafter"


def test_provider_unreachable_keeps_the_reply_queued(app, org, client, staff_client, run_jobs):
    closed = SimpleNamespace(url=closed_port_url())  # the connection never opens, so nothing was sent
    _, reply = _reply_through_twilio(app, client, staff_client, run_jobs, org, closed)
    assert reply.delivery_status == "queued" and reply.next_attempt_at is not None
    assert reply.delivery_error.startswith("Try 1 failed: Twilio could not be reached")


def test_refused_reply_fails_with_twilios_words_and_can_be_retried(app, org, client, staff_client, run_jobs):
    with HTTPStandIn([(400, {"code": 21211, "message": "The 'To' number is not a valid phone number."}),
                      (201, {"sid": "SMretry"})]) as api:
        _, reply = _reply_through_twilio(app, client, staff_client, run_jobs, org, api)
        assert reply.delivery_status == "failed" and "not a valid phone number" in reply.delivery_error
        assert "21211" in reply.delivery_error and len(api.requests) == 1
        page = staff_client.htmx("post", f"/inbox/messages/{reply.id}/retry").get_data(as_text=True)
        assert "Retry" not in page or "queued" in page
        run_jobs()
    db.session.expire_all()
    assert db.session.get(Message, reply.id).delivery_status == "sent"
    assert staff_client.post(f"/inbox/messages/{reply.id}/retry").status_code == 409  # nothing to retry now


def test_test_message_reports_what_twilio_said(app, org, admin_client, run_jobs):
    row = twilio_channel(org.id)
    with HTTPStandIn([(201, {"sid": "SMtest"})]) as api:
        app.config["CHANNELS_TWILIO_API_URL"] = api.url
        card = admin_client.htmx("post", f"/inbox/settings/channels/{row.id}/test", data={"to": "+15550001111"})
        assert card.status_code == 200 and "queued" in card.get_data(as_text=True)
        assert admin_client.htmx("post", f"/inbox/settings/channels/{row.id}/test",
                                 data={"to": "call me"}).status_code == 422
        run_jobs()
    assert parse_qs(api.requests[0]["body"].decode())["To"] == ["+15550001111"]
    db.session.expire_all()
    last = db.session.get(InboxChannel, row.id).last_test
    assert last["status"] == "sent" and "SMtest" in last["detail"]


def test_inbound_fields_are_type_checked(app, org, client):
    row = twilio_channel(org.id)
    missing_sid = {k: v for k, v in INBOUND.items() if k != "MessageSid"}
    assert post_twilio(client, row, missing_sid).status_code == 400
    assert post_twilio(client, row, {**INBOUND, "NumMedia": "lots"}).status_code == 400
    assert db.session.scalar(select(Message)) is None


def _post_raw(client, config, body: bytes, signature: str | None = None):
    return client.post(f"/hooks/{config.hook_token}/json", data=body, csrf=False,
                       headers={SIGNATURE_HEADER: signature or hmac_sha256(config.json_secret, body),
                                "Content-Type": "application/json"})


def test_relay_hook_refuses_wrong_types_and_deep_json_with_400(app, org, client):
    config = channel(org.id)
    for payload in ({"from": 15550001, "text": "hi"}, {"from": "+1555", "text": {"a": 1}},
                    {"from": "+1555", "attachments": "x"}, {"from": "+1555", "attachments": [{"url": 5}]},
                    {"from": "+1555", "channel": "fax"}, ["not", "an", "object"], {"text": "no sender"}):
        response = post_json(client, config, payload)
        assert response.status_code == 400, payload
        assert "error" in response.get_json()
    nested: dict = {"from": "+1555", "text": "hi"}
    for _ in range(20):
        nested = {"from": "+1555", "text": "hi", "extra": nested}
    assert post_json(client, config, nested).status_code == 400
    very_deep = b'{"from": "+1555", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert _post_raw(client, config, very_deep).status_code == 400
    assert db.session.scalar(select(Message)) is None


def test_relay_signature_with_a_non_ascii_byte_is_403(app, org, client):
    config = channel(org.id)
    body = json.dumps({"id": "na-1", "from": "+1555", "text": "hi"}).encode()
    good = hmac_sha256(config.json_secret, body)
    assert _post_raw(client, config, body, signature=good[:-1] + "é").status_code == 403
    assert _post_raw(client, config, body).status_code == 201


def test_relay_body_without_an_id_is_stored_once_when_replayed(app, org, client):
    config = channel(org.id)
    body = json.dumps({"from": "+15550009", "text": "3 boxes of earrings"}).encode()
    first, again = _post_raw(client, config, body), _post_raw(client, config, body)
    assert first.status_code == 201 and again.status_code == 200 and again.get_json()["duplicate"] is True
    other = json.dumps({"from": "+15550009", "text": "and a necklace"}).encode()
    assert _post_raw(client, config, other).status_code == 201
    assert len(db.session.scalars(select(Message)).all()) == 2
    app.config["CHANNELS_REPLAY_WINDOW_SECONDS"] = 0  # outside the window the same words are a new message
    assert _post_raw(client, config, body).status_code == 201


def test_conf_never_carries_secrets_into_the_audit_log(app, org, admin_client):
    from app.core.models import AuditEntry

    _add_twilio(admin_client)
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("inbox.channel%"))).all()
    assert entries and all("f00dfeed" not in json.dumps([e.before, e.after]) for e in entries)
    assert channel_services.conf_of(db.session.scalar(select(InboxChannel))).secret("auth_token").startswith("f00d")


def test_a_scheduled_retry_waits_and_the_sweep_picks_it_up_when_due(app, org, client, staff_client, run_jobs):
    from datetime import timedelta

    from app.core.models import utcnow

    with HTTPStandIn([(503, {"message": "busy"}), (201, {"sid": "SMlater"})]) as api:
        _, reply = _reply_through_twilio(app, client, staff_client, run_jobs, org, api)
        assert reply.delivery_status == "queued" and "Try 1 failed" in reply.delivery_error
        assert reply.next_attempt_at is not None and len(api.requests) == 1
        page = staff_client.get(f"/inbox/c/{reply.conversation_id}").get_data(as_text=True)
        assert "next try" in page and "busy" in page
        reply.next_attempt_at = utcnow() - timedelta(seconds=1)  # its scheduled job was lost
        db.session.commit()
        assert "reply tries queued: 1" in app.test_cli_runner().invoke(args=["inbox", "sweep"]).output
        run_jobs()
    db.session.expire_all()
    assert db.session.get(Message, reply.id).delivery_status == "sent" and len(api.requests) == 2


def test_two_jobs_holding_one_queued_reply_send_it_once(app, org, client, staff_client, monkeypatch):
    """A second job for the same reply (a retry click, a sweep) that starts while the first one is in
    the provider's call finds the try taken and sends nothing."""
    import threading

    from app.inbox.channels import delivery
    from app.inbox.channels.base import Sent

    row = twilio_channel(org.id, kind="whatsapp")
    assert post_twilio(client, row, {**INBOUND, "From": "whatsapp:+447700900123"}).status_code == 200
    conversation = db.session.scalar(select(Message)).conversation
    staff_client.post(f"/inbox/c/{conversation.id}/reply", data={"body": "On its way"})
    reply = db.session.scalar(select(Message).where(Message.direction == "out"))
    reply_id = reply.id
    db.session.commit()
    calls = []

    def second_job() -> None:
        with app.app_context():
            delivery.reply_attempt(message_id=reply_id)
            db.session.remove()

    def provider(conf, out):
        calls.append(out.message_id)
        if len(calls) == 1:  # while the first call is "on the wire", the second job runs to its end
            other = threading.Thread(target=second_job)
            other.start()
            other.join(30)
        return Sent(external_id=f"SM{len(calls)}")

    monkeypatch.setattr(delivery, "provider_send", provider)
    delivery.reply_attempt(message_id=reply_id)
    db.session.expire_all()
    sent = db.session.get(Message, reply_id)
    assert calls == [reply_id]
    assert sent.delivery_status == "sent" and sent.attempts == 1 and sent.external_id == "SM1"
    assert sent.next_attempt_at is None
