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


def _outgoing(message: Message) -> adapters.Outgoing:
    conversation = message.conversation
    subject = ""
    if message.channel == Channel.EMAIL:
        last = next((m for m in reversed(conversation.messages) if m.direction == Direction.IN and m.subject), None)
        subject = f"Re: {last.subject}" if last else "Your order"
    return adapters.Outgoing(org_id=message.organisation_id, message_id=message.id, channel=message.channel,
                             recipient=conversation.address, subject=subject, body=message.body)


def deliver_reply(message_id: int) -> None:
    """Send a queued reply through its channel's adapter; the result is written on the message."""
    message = db.session.get(Message, message_id)
    if message is None or message.direction != Direction.OUT or message.delivery_status not in ("queued", "failed"):
        return
    out = _outgoing(message)
    db.session.commit()  # no transaction (nor SQLite's write lock) held during the network call
    external_id, error = None, ""
    try:
        name, external_id = adapters.send(out)
        log.info("inbox: reply %s sent through %s", message_id, name)
    except adapters.DeliveryError as exc:
        error = str(exc)[:1000]
        log.warning("inbox: reply %s failed: %s", message_id, exc)
    message = db.session.get(Message, message_id)
    message.delivery_status, message.delivery_error = ("failed", error) if error else ("sent", "")
    if external_id:
        message.external_id = external_id
    publish_after_commit(out.org_id, CONVERSATION_EVENT, {"conversation_id": message.conversation_id})
    db.session.commit()
