"""WhatsApp message templates: an admin registers the organisation's approved templates per WhatsApp
Cloud API channel; outside the 24-hour window staff send one, through (a local stand-in of) the Graph
API's messages endpoint with Meta's documented template payload; Meta's refusals show on the reply."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from app.core.models import utcnow
from app.extensions import db
from app.inbox.channels import services as channel_services
from app.inbox.channels.models import WhatsAppTemplate
from app.inbox.models import Message
from tests.inbox.standins import HTTPStandIn
from tests.inbox.test_channels_meta import SAMPLES, _channel, _post

TEMPLATE = {"name": "order_ready", "language": "en_US", "body_params": "2",
            "preview": "Hello {{1}}, your order {{2}} is ready to collect."}


def _add(admin_client, row, **changes):
    return admin_client.post(f"/inbox/settings/channels/{row.id}/templates", data={**TEMPLATE, **changes})


def _closed_conversation(client, row):
    _post(client, row, SAMPLES["text_message"])
    inbound = db.session.scalar(select(Message))
    inbound.created_at = utcnow() - timedelta(hours=30)
    db.session.commit()
    return inbound.conversation_id


def _outgoing() -> Message | None:
    db.session.expire_all()
    return db.session.scalar(select(Message).where(Message.direction == "out"))


def test_admin_registers_templates_and_bad_ones_say_why(app, org, admin_client):
    row = _channel(org.id)
    assert _add(admin_client, row).status_code == 302
    page = admin_client.get("/inbox/settings/channels/").get_data(as_text=True)
    assert "order_ready" in page and "Hello {{1}}, your order {{2}} is ready to collect." in page
    for changes, words in (({"name": "Order Ready"}, "lower-case letters"), ({"language": "english"}, "like en"),
                           ({"body_params": "two"}, "whole number"), ({"body_params": "3"}, "{{3}}"),
                           ({"preview": ""}, "body text"), ({}, "already registered")):
        refused = _add(admin_client, row, **changes)
        text = refused.get_data(as_text=True)
        assert refused.status_code == 422 and words in text, (changes, text[:300])
        assert (changes.get("preview") or TEMPLATE["preview"]) in text or "preview" in changes  # input kept
    fragment = admin_client.htmx("post", f"/inbox/settings/channels/{row.id}/templates",
                                 data={**TEMPLATE, "name": "x y"})
    assert fragment.status_code == 422 and "lower-case letters" in fragment.get_data(as_text=True)
    assert db.session.scalar(select(func.count(WhatsAppTemplate.id))) == 1


def test_templates_only_on_whatsapp_cloud_api_channels_and_removed_by_admins(app, org, admin_client, staff_client):
    from tests.inbox.helpers import TWILIO_SID

    twilio_row = channel_services.channel_create(
        org_id=org.id, kind="whatsapp", provider="twilio", name="Twilio WA", address="+15550001111",
        settings={"account_sid": TWILIO_SID}, secrets={"auth_token": "t" * 32},
        hook_url_for=lambda token, provider: f"http://localhost/hooks/ch/{token}/{provider}", by=None)
    assert _add(admin_client, twilio_row).status_code == 409
    row = _channel(org.id)
    _add(admin_client, row)
    template = db.session.scalar(select(WhatsAppTemplate))
    assert staff_client.post(f"/inbox/settings/channels/templates/{template.id}/remove").status_code == 403
    assert admin_client.post(f"/inbox/settings/channels/templates/{template.id}/remove").status_code == 302
    assert db.session.scalar(select(WhatsAppTemplate)) is None


def test_template_reply_outside_the_window_sends_metas_documented_payload(app, org, client, admin_client,
                                                                          staff_client, run_jobs):
    row = _channel(org.id)
    _add(admin_client, row)
    conversation_id = _closed_conversation(client, row)
    page = staff_client.get(f"/inbox/c/{conversation_id}").get_data(as_text=True)
    assert "Send a template" in page and 'id="reply-body"' not in page and "send one from the reply box" in page
    template = db.session.scalar(select(WhatsAppTemplate))
    with HTTPStandIn([(200, {"messaging_product": "whatsapp", "contacts": [{"input": "16505551234",
                                                                             "wa_id": "16505551234"}],
                             "messages": [{"id": "wamid.template-1"}]})]) as api:
        app.config["CHANNELS_GRAPH_API_URL"] = api.url
        response = staff_client.post(f"/inbox/c/{conversation_id}/template", data={
            "template_id": template.id, "param-1": "Sheena", "param-2": "#1042"})
        assert response.status_code == 302
        run_jobs()
    [request] = api.requests
    assert request["path"] == "/106540352242922/messages"
    assert request["headers"]["Authorization"] == "Bearer EAAG-access-token"
    # The shape of Meta's "Send a template message" example, parameter for parameter.
    assert json.loads(request["body"]) == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": "16505551234", "type": "template",
        "template": {"name": "order_ready", "language": {"code": "en_US"},
                     "components": [{"type": "body", "parameters": [{"type": "text", "text": "Sheena"},
                                                                    {"type": "text", "text": "#1042"}]}]}}
    reply = _outgoing()
    assert reply.delivery_status == "sent" and reply.external_id == "wamid.template-1"
    assert reply.body == "Hello Sheena, your order #1042 is ready to collect."
    assert reply.template == {"name": "order_ready", "language": "en_US", "params": ["Sheena", "#1042"]}
    report = json.loads(json.dumps(SAMPLES["status_delivered"]))
    report["entry"][0]["changes"][0]["value"]["statuses"][0].update(id="wamid.template-1", status="delivered")
    assert _post(client, row, report).status_code == 200
    assert _outgoing().delivery_status == "delivered"
    thread = staff_client.get(f"/inbox/c/{conversation_id}/thread").get_data(as_text=True)
    assert "template order_ready (en_US)" in thread and "Hello Sheena, your order #1042" in thread


def test_metas_template_refusal_is_shown_on_the_reply(app, org, client, admin_client, staff_client, run_jobs):
    row = _channel(org.id)
    _add(admin_client, row, body_params="0", preview="We miss you! Reply to this message to pick up where we left.")
    conversation_id = _closed_conversation(client, row)
    template = db.session.scalar(select(WhatsAppTemplate))
    error = {"error": {"message": "(#132001) Template name does not exist in the translation", "type": "OAuthException",
                       "code": 132001, "error_data": {"messaging_product": "whatsapp",
                                                      "details": "template name (order_ready) does not exist in en_US"},
                       "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam"}}
    with HTTPStandIn([(404, error)]) as api:
        app.config["CHANNELS_GRAPH_API_URL"] = api.url
        staff_client.post(f"/inbox/c/{conversation_id}/template", data={"template_id": template.id})
        run_jobs()
    assert "components" not in json.loads(api.requests[0]["body"])["template"]  # no parameters: none sent
    reply = _outgoing()
    assert reply.delivery_status == "failed" and "132001" in reply.delivery_error
    assert "Template name does not exist" in reply.delivery_error and "WhatsApp Manager" in reply.delivery_error
    thread = staff_client.get(f"/inbox/c/{conversation_id}/thread").get_data(as_text=True)
    assert "Template name does not exist in the translation" in thread and "Retry" in thread


def test_template_parameters_are_checked_and_nothing_is_queued(app, org, other_org, client, admin_client,
                                                              staff_client):
    row = _channel(org.id)
    _add(admin_client, row)
    conversation_id = _closed_conversation(client, row)
    template = db.session.scalar(select(WhatsAppTemplate))
    url = f"/inbox/c/{conversation_id}/template"
    for data, words in (({"param-1": "Sheena"}, "Fill in parameter {{2}}"),
                        ({"param-1": "Sheena", "param-2": "a\nb"}, "new line"),
                        ({"param-1": "Sheena", "param-2": "x" * 1025}, "1,024"),
                        ({"template_id": "nope"}, "Choose one of the templates")):
        refused = staff_client.htmx("post", url, data={"template_id": template.id, **data})
        assert refused.status_code == 422 and words in refused.get_data(as_text=True), data
    assert _outgoing() is None
    free_form = staff_client.htmx("post", f"/inbox/c/{conversation_id}/reply", data={"body": "Hello?"})
    assert free_form.status_code == 409 and "Send a template" in free_form.get_data(as_text=True)
