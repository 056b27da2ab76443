"""Rows of every inbox URL argument, for the cross-organisation route walk."""
from __future__ import annotations

from app.extensions import db
from app.inbox import merges, services, webhooks_out
from app.inbox.channels import attachments, templates
from app.inbox.channels import services as channel_services
from app.inbox.models import Channel
from app.inbox.review_models import ExtractedLine, Extraction, ExtractionStatus
from tests.inbox.helpers import twilio_channel
from tests.tenancy_rows import factory


@factory
def inbox_rows(org, user) -> dict:
    message, _ = services.message_receive(org_id=org.id, channel=Channel.SMS, sender="+15550001111",
                                          body="2 boxes of something", external_id=f"walk-{org.id}")
    extraction = Extraction(organisation_id=org.id, message_id=message.id, status=ExtractionStatus.REVIEW,
                            confidence=0, provider="offline", reasons=[])
    line = ExtractedLine(organisation_id=org.id, extraction=extraction, position=1, quantity=2,
                         product_text="something", confidence=0, evidence={}, status="unmatched")
    db.session.add_all([extraction, line])
    db.session.commit()
    endpoint, _ = webhooks_out.endpoint_create(org_id=org.id, url="http://127.0.0.1:9/hook",
                                               events=["order.created"], by=user)
    number = twilio_channel(org.id)
    by_email, _ = services.message_receive(org_id=org.id, channel=Channel.EMAIL, sender="walk@example.com",
                                           body="hello", external_id=f"walk-mail-{org.id}")
    merge = merges.customer_merge(org_id=org.id, target_id=message.conversation.customer_id,
                                  source_id=by_email.conversation.customer_id, by=user)
    reply = services.reply_send(org_id=org.id, conversation_id=message.conversation_id, body="On its way", by=user)
    with_file, _ = services.message_receive(
        org_id=org.id, channel=Channel.EMAIL, sender="files@example.com", body="the form", external_id=f"walk-pdf-{org.id}",
        attachments=[{"filename": "form.pdf", "content_type": "application/pdf", "content": b"%PDF-1.4\n%%EOF\n"}])
    attachment_id = with_file.attachments[0].id
    cloud = channel_services.channel_create(
        org_id=org.id, kind="whatsapp", provider="meta", name="Cloud", address="+15550783881",
        settings={"phone_number_id": "1065"}, secrets={"access_token": "token", "app_secret": "secret"},
        hook_url_for=lambda token, provider: f"http://localhost/hooks/ch/{token}/{provider}", by=None)
    template = templates.template_add(org_id=org.id, channel_id=cloud.id, name="order_ready", language="en",
                                      body_params=0, preview="Your order is ready.", by=user)
    attachments.attachment_download(attachment_id=attachment_id)  # the bytes came with the message: no network
    return {"conversation_id": message.conversation_id, "extraction_id": extraction.id, "line_id": line.id,
            "customer_id": message.conversation.customer_id, "endpoint_id": endpoint.id, "channel_id": number.id,
            "message_id": reply.id, "attachment_id": attachment_id, "merge_id": merge.id,
            "template_id": template.id}
