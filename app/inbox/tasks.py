"""Inbox jobs: given ids, idempotent, thin over the services."""
from __future__ import annotations

import logging

from app.core.events import publish_after_commit
from app.extensions import db
from app.inbox import adapters, review, webhooks_out
from app.inbox.models import Channel, Direction, Message
from app.inbox.services import CONVERSATION_EVENT

log = logging.getLogger(__name__)


def extract_message(message_id: int) -> None:
    review.extraction_run(message_id=message_id)


def deliver_webhook(delivery_id: int) -> None:
    webhooks_out.delivery_attempt(delivery_id=delivery_id)


def deliver_reply(message_id: int) -> None:
    """Send a queued reply through its channel's adapter; the result is written on the message."""
    message = db.session.get(Message, message_id)
    if message is None or message.direction != Direction.OUT or message.delivery_status not in ("queued", "failed"):
        return
    conversation = message.conversation
    subject = ""
    if message.channel == Channel.EMAIL:
        last = next((m for m in reversed(conversation.messages) if m.direction == Direction.IN and m.subject), None)
        subject = f"Re: {last.subject}" if last else "Your order"
    try:
        name = adapters.send(message, conversation.address, subject)
        message.delivery_status, message.delivery_error = "sent", ""
        log.info("inbox: reply %s sent through %s", message.id, name)
    except adapters.DeliveryError as exc:
        message.delivery_status, message.delivery_error = "failed", str(exc)[:1000]
        log.warning("inbox: reply %s failed: %s", message.id, exc)
    publish_after_commit(message.organisation_id, CONVERSATION_EVENT, {"conversation_id": conversation.id})
    db.session.commit()
