"""Inbox reads for pages and other domains."""
from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.inbox.models import Conversation, ConversationStatus, CustomerMerge, CustomerProfile, Direction, Message
from app.inbox.review_models import (
    OPEN_EXTRACTION,
    ExtractedLine,
    Extraction,
    ExtractionStatus,
    WebhookDelivery,
    WebhookEndpoint,
)
from app.inbox.services import customer_search_clause
from app.inventory.models import Item
from app.orders.models import Customer, Order


def conversations_query(org_id: int, *, status: str = "open", q: str = "", mine_id: int | None = None) -> Select:
    query = (select(Conversation).options(joinedload(Conversation.customer), joinedload(Conversation.assigned_to))
             .where(Conversation.organisation_id == org_id).order_by(Conversation.last_message_at.desc(),
                                                                      Conversation.id.desc()))
    if status in ("open", "closed"):
        query = query.where(Conversation.status == ConversationStatus(status))
    if mine_id is not None:
        query = query.where(Conversation.assigned_to_id == mine_id)
    if q.strip():
        query = query.join(Customer, Customer.id == Conversation.customer_id).where(customer_search_clause(q))
    return query


def last_messages(conversation_ids: list[int]) -> dict[int, Message]:
    """The newest message of each conversation."""
    if not conversation_ids:
        return {}
    newest = (select(func.max(Message.id)).where(Message.conversation_id.in_(conversation_ids))
              .group_by(Message.conversation_id))
    return {m.conversation_id: m for m in db.session.scalars(select(Message).where(Message.id.in_(newest)))}


def open_extractions_by_conversation(org_id: int, conversation_ids: list[int]) -> dict[int, int]:
    if not conversation_ids:
        return {}
    rows = db.session.execute(select(Message.conversation_id, func.count(Extraction.id))
                              .join(Extraction, Extraction.message_id == Message.id)
                              .where(Extraction.organisation_id == org_id,
                                     Extraction.status == ExtractionStatus.REVIEW,
                                     Message.conversation_id.in_(conversation_ids))
                              .group_by(Message.conversation_id))
    return dict(rows.all())


def conversation_kinds(org_id: int, conversation_ids: list[int]) -> dict[int, str]:
    """The kind of each conversation's newest read message, when it is not an order (question, cancellation…)."""
    if not conversation_ids:
        return {}
    newest = (select(func.max(Extraction.id)).join(Message, Message.id == Extraction.message_id)
              .where(Extraction.organisation_id == org_id, Message.conversation_id.in_(conversation_ids))
              .group_by(Message.conversation_id))
    rows = db.session.execute(select(Message.conversation_id, Extraction.kind)
                              .join(Extraction, Extraction.message_id == Message.id)
                              .where(Extraction.id.in_(newest)))
    return {conversation_id: kind for conversation_id, kind in rows if kind and kind != "order"}


def thread(conversation: Conversation) -> list[tuple[Message, Extraction | None]]:
    messages = db.session.scalars(select(Message).options(selectinload(Message.attachments))
                                  .where(Message.conversation_id == conversation.id)
                                  .order_by(Message.created_at, Message.id)).all()
    extractions = {e.message_id: e for e in db.session.scalars(
        select(Extraction).options(selectinload(Extraction.lines).joinedload(ExtractedLine.item))
        .where(Extraction.message_id.in_([m.id for m in messages])))}
    return [(m, extractions.get(m.id)) for m in messages]


def review_queue(org_id: int, *, include_ready: bool = True) -> list[Extraction]:
    statuses = OPEN_EXTRACTION if include_ready else (ExtractionStatus.REVIEW,)
    return list(db.session.scalars(
        select(Extraction).options(joinedload(Extraction.message).joinedload(Message.conversation)
                                   .joinedload(Conversation.customer),
                                   selectinload(Extraction.lines).joinedload(ExtractedLine.item))
        .where(Extraction.organisation_id == org_id, Extraction.status.in_(statuses))
        .order_by(Extraction.status.desc(), Extraction.created_at).limit(200)))


def inbox_counts(org_id: int) -> dict:
    """Unread conversations, messages and lines waiting for review: the dashboard card's figures."""
    unread = db.session.execute(select(func.count(Conversation.id), func.coalesce(func.sum(Conversation.unread_count), 0))
                                .where(Conversation.organisation_id == org_id, Conversation.unread_count > 0)).one()
    lines = db.session.scalar(select(func.count(ExtractedLine.id)).join(Extraction).where(
        Extraction.organisation_id == org_id, Extraction.status == ExtractionStatus.REVIEW,
        ExtractedLine.status != "removed"))
    waiting = db.session.scalar(select(func.count(Extraction.id)).where(
        Extraction.organisation_id == org_id, Extraction.status == ExtractionStatus.REVIEW))
    ready = db.session.scalar(select(func.count(Extraction.id)).where(
        Extraction.organisation_id == org_id, Extraction.status == ExtractionStatus.READY))
    return {"unread_conversations": unread[0], "unread_messages": int(unread[1] or 0), "review_lines": lines or 0,
            "review_messages": waiting or 0, "ready_messages": ready or 0}


def customers_query(org_id: int, q: str = "") -> Select:
    merged = select(CustomerProfile.customer_id).where(CustomerProfile.organisation_id == org_id,
                                                       CustomerProfile.merged_into_id.is_not(None))
    query = (select(Customer).where(Customer.organisation_id == org_id, Customer.id.not_in(merged))
             .order_by(Customer.name, Customer.id))
    if q.strip():
        query = query.where(customer_search_clause(q))
    return query


def profile_of(customer_id: int) -> CustomerProfile | None:
    return db.session.scalar(select(CustomerProfile).where(CustomerProfile.customer_id == customer_id))


def customer_orders(org_id: int, customer_id: int) -> list[Order]:
    return list(db.session.scalars(select(Order).where(Order.organisation_id == org_id, Order.customer_id == customer_id)
                                   .order_by(Order.created_at.desc()).limit(100)))


def merges_into(org_id: int, customer_id: int) -> list[CustomerMerge]:
    """Customers merged into this one and not split again."""
    return list(db.session.scalars(select(CustomerMerge).where(
        CustomerMerge.organisation_id == org_id, CustomerMerge.target_id == customer_id,
        CustomerMerge.split_at.is_(None)).order_by(CustomerMerge.id)))


def order_origins(merges: list[CustomerMerge]) -> dict[int, CustomerMerge]:
    """Order id -> the merge that brought it to this customer (its source is where it came from)."""
    return {order_id: m for m in merges for order_id in (m.moved or {}).get("orders", [])}


def merge_candidates(org_id: int, customer_id: int, limit: int = 200) -> list[Customer]:
    """Other customers of the organisation that could be merged into this one (bounded list)."""
    return list(db.session.scalars(customers_query(org_id).where(Customer.id != customer_id).limit(limit)))


def customer_conversations(org_id: int, customer_id: int) -> list[Conversation]:
    return list(db.session.scalars(select(Conversation).where(
        Conversation.organisation_id == org_id, Conversation.customer_id == customer_id)
        .order_by(Conversation.last_message_at.desc())))


def item_search(org_id: int, q: str, limit: int = 12) -> list[Item]:
    """Items whose SKU or title contains the words (the review's product picker)."""
    query = select(Item).where(Item.organisation_id == org_id, Item.discontinued.is_(False))
    for word in q.lower().split()[:5]:
        like = f"%{word}%"
        query = query.where(func.lower(Item.sku).like(like) | func.lower(Item.title).like(like))
    return list(db.session.scalars(query.order_by(Item.title).limit(limit)))


def endpoints(org_id: int) -> list[WebhookEndpoint]:
    return list(db.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.organisation_id == org_id)
                                   .order_by(WebhookEndpoint.id)))


def deliveries(org_id: int, limit: int = 100) -> list[WebhookDelivery]:
    return list(db.session.scalars(select(WebhookDelivery).options(joinedload(WebhookDelivery.endpoint))
                                   .where(WebhookDelivery.organisation_id == org_id)
                                   .order_by(WebhookDelivery.id.desc()).limit(limit)))


def inbound_count(conversation_id: int) -> int:
    return db.session.scalar(select(func.count(Message.id)).where(Message.conversation_id == conversation_id,
                                                                  Message.direction == Direction.IN)) or 0
