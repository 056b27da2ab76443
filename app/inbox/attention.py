"""The inbox's attention items: customer messages whose reading waits for a person."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.core.attention import Item, register_query_source
from app.inbox import pii
from app.inbox.extraction import REVIEW_EVENT
from app.inbox.models import Conversation, Message
from app.inbox.review_models import Extraction, ExtractionStatus


def _in_review(org_id: int):
    return select(Extraction).where(Extraction.organisation_id == org_id, Extraction.status == ExtractionStatus.REVIEW)


def _item(extraction: Extraction) -> Item:
    message = extraction.message
    customer = message.conversation.customer
    who = getattr(customer, "name", "") or message.sender or "a customer"
    # The title travels in alert e-mails and webhooks: no phone, e-mail, card number or IBAN in it.
    text = " ".join(pii.mask(message.subject + " " + message.body).split())
    title = f"Message from {who}: “{text[:60]}{'…' if len(text) > 60 else ''}”"
    why = "Waiting for review" + (f": {extraction.reasons[0]}" if extraction.reasons else "")
    return Item(kind="message_review", subject=str(extraction.id), title=title, why=why,
                endpoint="inbox.conversation", args={"conversation_id": message.conversation_id},
                since=extraction.created_at, level="warning")


register_query_source("message_review", label="Messages waiting for review", roles=("staff", "manager"),
                      rows=_in_review, id_column=Extraction.id, order_by=(Extraction.created_at, Extraction.id),
                      item=_item, options=(joinedload(Extraction.message).joinedload(Message.conversation)
                                           .joinedload(Conversation.customer),),
                      events=(REVIEW_EVENT,), order=20)
