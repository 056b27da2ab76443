"""Replies through SMTP and a Twilio-style API, outgoing webhooks, and the external text model with its
budget, each against a local stand-in server."""
from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal

from sqlalchemy import func, select

from app.core import ai_ledger
from app.core.ai_models import AICall
from app.extensions import db
from app.inbox import usage, webhooks_out
from app.inbox.channels import services as channel_services
from app.inbox.models import Message
from app.inbox.review_models import Extraction, WebhookDelivery, WebhookEndpoint
from tests.inbox.helpers import channel, make_catalogue, post_json
from tests.inbox.standins import HTTPStandIn, SMTPStandIn


def _conversation(client, org_id: int, sender: str, channel_name: str):
    post_json(client, channel(org_id), {"id": f"o-{sender}", "from": sender, "text": "hello",
                                        "channel": channel_name, "subject": "Spring order"})
    return db.session.scalar(select(Message)).conversation


def test_email_reply_through_the_organisations_smtp_server(app, org, client, staff_client, run_jobs):
    conversation = _conversation(client, org.id, "Ann <ann@example.com>", "email")
    with SMTPStandIn() as smtp:
        app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"
        channel_services.channel_create(
            org_id=org.id, kind="email", provider="smtp", name="Shop mail", address="shop@acme.test",
            settings={"host": "127.0.0.1", "port": str(smtp.port)}, secrets={}, hook_url_for=lambda token, provider: "", by=None)
        staff_client.post(f"/inbox/c/{conversation.id}/reply", data={"body": "Thanks, it ships Friday."})
        run_jobs()
    assert len(smtp.messages) == 1
    sent = smtp.messages[0]
    assert "ann@example.com" in sent["to"][0] and "shop@acme.test" in sent["from"]
    assert "Subject: Re: Spring order" in sent["data"] and "Thanks, it ships Friday." in sent["data"]
    reply = db.session.scalar(select(Message).where(Message.direction == "out"))
    assert reply.delivery_status == "sent" and reply.external_id.startswith("<")


def test_outgoing_webhooks_are_signed_retried_and_switched_off(app, org, admin, client, admin_client, run_jobs):
    app.config["WEBHOOK_RETRY_BASE_SECONDS"] = 0
    with HTTPStandIn([(500, {"error": "down"}), (200, {"ok": True})]) as hook:
        response = admin_client.post("/inbox/settings/webhooks", data={"url": hook.url + "/in",
                                                                      "events": ["message.received"]})
        assert response.status_code == 200 and b"shown only once" in response.data
        endpoint = db.session.scalar(select(WebhookEndpoint))
        post_json(client, channel(org.id), {"id": "wh-1", "from": "+15550008", "text": "hello"})
        run_jobs()
    assert len(hook.requests) == 2  # a failure, then the retry got through
    first = hook.requests[1]
    body = first["body"]
    assert first["headers"]["X-Stockroom-Signature"] == "sha256=" + hmac.new(
        endpoint.secret.encode(), body, hashlib.sha256).hexdigest()
    assert json.loads(body)["event"] == "message.received"
    delivery = db.session.scalar(select(WebhookDelivery))
    assert delivery.status == "delivered" and delivery.attempts == 2 and delivery.response_code == 200
    assert db.session.get(WebhookEndpoint, endpoint.id).failure_count == 0
    assert b"delivered" in admin_client.get("/inbox/settings/webhooks").data

    with HTTPStandIn([(503, {})]) as broken:
        endpoint.url = broken.url
        db.session.commit()
        post_json(client, channel(org.id), {"id": "wh-2", "from": "+15550008", "text": "again"})
        run_jobs()
    db.session.expire_all()
    endpoint = db.session.get(WebhookEndpoint, endpoint.id)
    assert len(broken.requests) == webhooks_out.MAX_CONSECUTIVE_FAILURES
    assert endpoint.active is False and "failed deliveries in a row" in endpoint.disabled_reason
    assert db.session.scalar(select(WebhookDelivery).order_by(WebhookDelivery.id.desc())).status == "failed"


def test_bad_webhook_url_is_refused(app, org, admin_client):
    response = admin_client.post("/inbox/settings/webhooks", data={"url": "ftp://x", "events": ["order.created"]})
    assert response.status_code == 422 and b"http://" in response.data
    assert db.session.scalar(select(func.count(WebhookEndpoint.id))) == 0


def _completion(content: dict, tokens=(120, 30)) -> dict:
    return {"choices": [{"message": {"role": "assistant", "content": json.dumps(content)}}],
            "usage": {"prompt_tokens": tokens[0], "completion_tokens": tokens[1]}}


def test_text_model_is_metered_and_stops_at_the_hard_limit(app, org, admin, client, staff_client, run_jobs):
    items = make_catalogue(org.id)
    answer = _completion({"lines": [{"quantity": 4, "unit": "box", "product": "rose quartz bracelet"}],
                          "wanted_date": "2026-12-01", "address": "5 Mill Lane"})
    with HTTPStandIn([(200, answer)]) as model:
        app.config.update(TEXT_API_URL=model.url + "/v1", TEXT_MODEL="tiny", TEXT_PRICE_IN_PER_1K="0.5",
                          TEXT_PRICE_OUT_PER_1K="1.5")
        post_json(client, channel(org.id), {"id": "tm-1", "from": "+15550009", "text": "four boxes of the pink ones"})
        run_jobs()
        extraction = db.session.scalar(select(Extraction))
        assert extraction.provider == "text-model:tiny"
        assert [(x.item_id, x.quantity) for x in extraction.lines] == [(items["BR-300"].id, 4)]
        assert extraction.address_hint == "5 Mill Lane" and extraction.wanted_date.isoformat() == "2026-12-01"
        record = db.session.scalar(select(AICall))
        assert (record.capability, record.model, record.prompt_tokens, record.completion_tokens, record.cost) == (
            "text", "tiny", 120, 30, Decimal("0.105"))
        message = extraction.message
        assert (record.object_type, record.object_id, record.parent_type, record.parent_id) == (
            "message", message.id, "conversation", message.conversation_id)
        assert json.loads(model.requests[0]["body"])["model"] == "tiny"
        assert model.requests[0]["path"] == "/v1/chat/completions"

        usage.budget_set(org_id=org.id, warning_amount="0.05", hard_limit="0.10", currency="USD", by=admin)
        post_json(client, channel(org.id), {"id": "tm-2", "from": "+15550009", "text": "2 Rose Quartz Bracelet"})
        run_jobs()
    assert len(model.requests) == 1  # the budget stopped the second call
    second = db.session.scalar(select(Extraction).order_by(Extraction.id.desc()))
    assert second.provider == "offline" and "budget reached" in second.provider_note
    assert second.lines[0].item_id == items["BR-300"].id
    assert usage.budget_state(org.id)["level"] == "stopped"
    refused = db.session.scalar(select(AICall).order_by(AICall.id.desc()))
    assert refused.over_budget and refused.object_id == second.message_id
    page = staff_client.get(f"/inbox/c/{second.message.conversation_id}").get_data(as_text=True)
    assert 'data-testid="ai-cost"' in page and "0.105 USD" in page and "Monthly AI budget reached" in page


def test_text_model_failure_falls_back_to_offline(app, org, client, run_jobs):
    make_catalogue(org.id)
    with HTTPStandIn([(500, {"error": "overloaded"})]) as model:
        app.config.update(TEXT_API_URL=model.url, AI_RETRY_BACKOFF_SECONDS="0.01")
        post_json(client, channel(org.id), {"id": "tm-3", "from": "+15550010", "text": "2 Rose Quartz Bracelet"})
        run_jobs()
    extraction = db.session.scalar(select(Extraction))
    assert extraction.provider == "offline" and "HTTP 500" in extraction.provider_note
    call = db.session.scalar(select(AICall))
    assert call.ok is False and call.retried and len(model.requests) == 2


def test_usage_page_chart_and_budget_form(app, org, manager_client):
    ai_ledger.record(served=ai_ledger.Served(org.id, "message", 1, "conversation", 1), capability="text",
                     provider="openai-compatible", model="tiny", ok=True, prompt_tokens=10, completion_tokens=5,
                     cost=Decimal("0.0200"))
    page = manager_client.get("/inbox/usage").get_data(as_text=True)
    assert "<svg" in page and "<rect" in page and "tiny" in page and 'data-capability="text"' in page
    bad = manager_client.post("/inbox/usage/budget", data={"warning_amount": "20", "hard_limit": "10"})
    assert bad.status_code == 422 and "must not be above" in bad.get_data(as_text=True)
    ok = manager_client.post("/inbox/usage/budget", data={"warning_amount": "5", "hard_limit": "10", "currency": "eur"})
    assert ok.status_code == 302
    assert usage.budget_for(org.id).currency == "EUR"


def test_sweep_command_requeues_unread_messages(app, org, client, run_jobs):
    make_catalogue(org.id)
    post_json(client, channel(org.id), {"id": "sw-1", "from": "+15550011", "text": "2 Rose Quartz Bracelet"})
    from app.core.queue import get_queue

    for name in ("default", "low", "high"):
        get_queue(name).empty()  # the job was lost
    result = app.test_cli_runner().invoke(args=["inbox", "sweep"])
    assert "messages queued for extraction: 1" in result.output, result.output
    run_jobs()
    assert db.session.scalar(select(Extraction)).lines[0].item_id == items_id(org.id, "BR-300")


def items_id(org_id: int, sku: str) -> int:
    from app.inventory.selectors import item_by_sku

    return item_by_sku(org_id, sku).id


def test_demo_command_receives_two_messages(app, org, run_jobs):
    make_catalogue(org.id)
    result = app.test_cli_runner().invoke(args=["inbox", "demo", "--org", org.name])
    assert result.output.count("received") == 2, result.output
    run_jobs()
    statuses = sorted(e.status.value for e in db.session.scalars(select(Extraction)))
    assert statuses == ["ready", "review"]
    assert "No organisation" in app.test_cli_runner().invoke(args=["inbox", "demo", "--org", "Nobody"]).output
