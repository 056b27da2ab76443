"""Inbox writes: channel secrets, inbound messages, replies, conversation state, customer privacy.

Each function validates, writes in one transaction, commits once, then enqueues jobs and
publishes events after the commit.
"""
from __future__ import annotations

import logging
import re
import secrets
from datetime import datetime

from sqlalchemy import String, cast, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.core import audit
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.events import publish_after_commit
from app.core.models import User, user_id_of, utcnow
from app.core.queue import enqueue_after_commit
from app.extensions import db
from app.inbox import pii
from app.inbox.models import (
    Channel,
    ChannelConfig,
    Conversation,
    ConversationStatus,
    CustomerProfile,
    Direction,
    Message,
    MessageAttachment,
    ReplyStatus,
)
from app.orders.models import Customer, Order

log = logging.getLogger(__name__)
CONVERSATION_EVENT = "conversation-changed"
MAX_BODY = 20_000


# --- channel settings ---------------------------------------------------------------------------

def _new_secrets() -> dict:
    return {"json_secret": secrets.token_urlsafe(32)}


def channel_config_get_or_create(*, org_id: int) -> tuple[ChannelConfig, bool]:
    """The organisation's JSON webhook token and secret, created on first use; (config, created now)."""
    config = db.session.scalar(select(ChannelConfig).where(ChannelConfig.organisation_id == org_id))
    if config is not None:
        return config, False
    config = ChannelConfig(organisation_id=org_id, hook_token=secrets.token_urlsafe(24), **_new_secrets())
    db.session.add(config)
    try:
        db.session.commit()
    except IntegrityError:  # another request created it first
        db.session.rollback()
        return db.session.scalar(select(ChannelConfig).where(ChannelConfig.organisation_id == org_id)), False
    return config, True


def channel_secrets_rotate(*, org_id: int, by: User | None, token_too: bool = False) -> ChannelConfig:
    """A new JSON webhook secret (and a new address when asked); the old one stops working."""
    config, _ = channel_config_get_or_create(org_id=org_id)
    for name, value in _new_secrets().items():
        setattr(config, name, value)
    if token_too:
        config.hook_token = secrets.token_urlsafe(24)
    config.rotated_at = utcnow()
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="inbox.channel_secrets_rotate",
                 object_type="channel_config", object_id=config.id, after={"new_address": token_too})
    db.session.commit()
    return config


def config_by_org(org_id: int) -> ChannelConfig | None:
    return db.session.scalar(select(ChannelConfig).where(ChannelConfig.organisation_id == org_id))


def config_by_token(token: str) -> ChannelConfig | None:
    """The channel settings a webhook address belongs to."""
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(ChannelConfig).where(ChannelConfig.hook_token == token))


# --- customers ----------------------------------------------------------------------------------

def normalise_address(channel: Channel, raw: str) -> str:
    """'whatsapp:+44 7700-900 123' -> '+447700900123'; e-mails lower-cased, display names dropped."""
    raw = (raw or "").strip()
    if channel == Channel.EMAIL:
        m = re.search(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", raw)
        return (m.group() if m else raw).lower()[:254]
    raw = raw.split(":", 1)[1] if raw.lower().startswith("whatsapp:") else raw
    digits = re.sub(r"\D", "", raw)
    return ("+" if raw.startswith("+") else "") + digits


def _profile(customer: Customer) -> CustomerProfile:
    profile = db.session.scalar(select(CustomerProfile).where(CustomerProfile.customer_id == customer.id))
    if profile is None:
        profile = CustomerProfile(organisation_id=customer.organisation_id, customer=customer, phones=[], emails=[],
                                  labels=[], flags=[])
        db.session.add(profile)
    return profile


def _find_customer(org_id: int, channel: Channel, address: str) -> Customer | None:
    column = Customer.email if channel == Channel.EMAIL else Customer.phone
    found = db.session.scalar(select(Customer).where(Customer.organisation_id == org_id,
                                                     func.lower(column) == address.lower()).order_by(Customer.id))
    if found is not None:
        return found
    field = CustomerProfile.emails if channel == Channel.EMAIL else CustomerProfile.phones
    # JSON lists differ between databases; a LIKE narrows, the Python check decides.
    for profile in db.session.scalars(select(CustomerProfile).where(
            CustomerProfile.organisation_id == org_id, cast(field, String).like(f"%{address}%"))):
        if address in (profile.emails if channel == Channel.EMAIL else profile.phones):
            return profile.customer
    return None


def _customer_for(org_id: int, channel: Channel, address: str, name: str) -> Customer:
    customer = _find_customer(org_id, channel, address)
    merged_into = _profile(customer).merged_into_id if customer is not None else None
    if merged_into:
        customer = db.session.get(Customer, merged_into)
    if customer is None:
        is_email = channel == Channel.EMAIL
        customer = Customer(organisation_id=org_id, name=(name or address)[:200],
                            email=address if is_email else "", phone="" if is_email else address[:40])
        db.session.add(customer)
        db.session.flush()
    profile = _profile(customer)
    bucket = "emails" if channel == Channel.EMAIL else "phones"
    if address not in getattr(profile, bucket):
        setattr(profile, bucket, [*getattr(profile, bucket), address])
    return customer


# --- inbound ------------------------------------------------------------------------------------

def message_receive(*, org_id: int, channel: Channel, sender: str, body: str, external_id: str | None,
                    subject: str = "", sender_name: str = "", attachments: list | None = None,
                    received_at: datetime | None = None, channel_id: int | None = None,
                    receipt_digest: str | None = None) -> tuple[Message, bool]:
    """Store an inbound message (once per external id, and once per signed body when `receipt_digest`
    is given) in the sender's open conversation; (message, new)."""
    from app.inbox.channels import services as channel_services  # that package imports this module

    address = normalise_address(channel, sender)
    if not address:
        raise InvalidInput("The message has no sender.")
    external_id = (external_id or "").strip()[:120] or None
    if external_id:
        existing = _by_external_id(org_id, channel, external_id)
        if existing is not None:
            return existing, False
    try:
        message = _store_inbound(org_id, channel, address, body, external_id, subject, sender_name,
                                 attachments or [], received_at or utcnow(), channel_id)
        if receipt_digest:  # in the same transaction: the receipt's unique key lets one request store it
            channel_services.receipt_claim(org_id=org_id, digest=receipt_digest, message=message)
        logged = (message.id, pii.mask(message.body[:200]))  # read before the commit expires the row
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # the same message arrived twice at once: the other request stored it
        existing = _by_external_id(org_id, channel, external_id) if external_id else None
        if existing is None and receipt_digest:
            existing = channel_services.replayed_message(org_id=org_id, digest=receipt_digest) or None
        if existing is None:
            raise
        return existing, False
    log.info("inbox: %s message %s from %s: %s", channel.value, logged[0], pii.mask(address), logged[1])
    return message, True


def _by_external_id(org_id: int, channel: Channel, external_id: str) -> Message | None:
    return db.session.scalar(select(Message).where(Message.organisation_id == org_id, Message.channel == channel,
                                                   Message.external_id == external_id))


def _store_inbound(org_id, channel, address, body, external_id, subject, sender_name, attachments, when,
                   channel_id) -> Message:
    from app.inbox import webhooks_out

    customer = _customer_for(org_id, channel, address, sender_name)
    conversation = db.session.scalar(select(Conversation).where(
        Conversation.organisation_id == org_id, Conversation.customer_id == customer.id,
        Conversation.channel == channel, Conversation.status == ConversationStatus.OPEN).order_by(Conversation.id))
    if conversation is None:
        conversation = Conversation(organisation_id=org_id, customer=customer, channel=channel, address=address,
                                    status=ConversationStatus.OPEN, unread_count=0, last_message_at=when)
        db.session.add(conversation)
    if channel_id is not None:
        conversation.channel_id = channel_id  # replies leave from the number or mailbox the customer last wrote to
    text = (body or "")[:MAX_BODY]
    message = Message(organisation_id=org_id, conversation=conversation, direction=Direction.IN, channel=channel,
                      channel_id=channel_id, external_id=external_id, sender=address, subject=(subject or "")[:300], body=text,
                      pii=pii.find(f"{subject}\n{text}"), processed=False, created_at=when)
    db.session.add(message)
    if attachments:
        from app.inbox.channels.attachments import attachments_add  # the channels package imports this module

        attachments_add(message=message, items=attachments)
    conversation.unread_count = (conversation.unread_count or 0) + 1
    conversation.last_message_at = max(conversation.last_message_at or when, when)
    db.session.flush()
    if "blocked" in (_profile(customer).flags or []):
        message.processed = True  # kept for the record, never read into an order
    else:
        from app.inbox import tasks  # tasks import this module

        enqueue_after_commit(tasks.extract_message, message.id, org_id=org_id, queue="default")
    webhooks_out.dispatch(org_id, "message.received", {
        "message_id": message.id, "conversation_id": conversation.id, "channel": channel.value,
        "customer_id": customer.id, "received_at": when.isoformat()})
    publish_after_commit(org_id, CONVERSATION_EVENT, {"conversation_id": conversation.id})
    return message


# --- conversations ------------------------------------------------------------------------------

def _conversation(org_id: int, conversation_id: int) -> Conversation:
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is None or conversation.organisation_id != org_id:
        raise NotFound("No such conversation in your organisation.")
    return conversation


def conversation_mark_read(*, org_id: int, conversation_id: int) -> None:
    """Opening a conversation clears its unread badge."""
    moved = db.session.execute(update(Conversation).where(
        Conversation.id == conversation_id, Conversation.organisation_id == org_id, Conversation.unread_count > 0)
        .values(unread_count=0).execution_options(synchronize_session=False)).rowcount
    if moved:
        publish_after_commit(org_id, CONVERSATION_EVENT, {"conversation_id": conversation_id})
    db.session.commit()


def conversation_set_status(*, org_id: int, conversation_id: int, status: str, by: User | None) -> Conversation:
    """Close or reopen a conversation."""
    try:
        target = ConversationStatus(status)
    except ValueError:
        raise InvalidInput("Status must be open or closed.") from None
    conversation = _conversation(org_id, conversation_id)
    if target == ConversationStatus.OPEN and conversation.status != target:
        other = db.session.scalar(select(Conversation.id).where(
            Conversation.organisation_id == org_id, Conversation.customer_id == conversation.customer_id,
            Conversation.channel == conversation.channel, Conversation.status == ConversationStatus.OPEN))
        if other:
            raise Conflict("This customer already has an open conversation on this channel.")
    conversation.status = target
    audit.record(org_id=org_id, actor_id=user_id_of(by), action=f"conversation.{target.value}",
                 object_type="conversation", object_id=conversation.id)
    publish_after_commit(org_id, CONVERSATION_EVENT, {"conversation_id": conversation.id})
    db.session.commit()
    return conversation


def conversation_assign(*, org_id: int, conversation_id: int, user_id: int | None, by: User | None) -> Conversation:
    """Give a conversation to a staff member of the organisation (or to nobody)."""
    conversation = _conversation(org_id, conversation_id)
    if user_id is not None:
        user = db.session.get(User, user_id)
        if user is None or user.organisation_id != org_id or not user.active:
            raise InvalidInput("Choose a member of your organisation.", field="user_id")
    conversation.assigned_to_id = user_id
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="conversation.assign", object_type="conversation",
                 object_id=conversation.id, after={"assigned_to_id": user_id})
    publish_after_commit(org_id, CONVERSATION_EVENT, {"conversation_id": conversation.id})
    db.session.commit()
    return conversation


def reply_send(*, org_id: int, conversation_id: int, body: str, by: User | None) -> Message:
    """Queue a reply to the customer; a job hands it to the conversation's channel (app.inbox.channels.delivery)."""
    text = (body or "").strip()
    if not text:
        raise InvalidInput("Write a reply first.", field="body")
    if len(text) > 4000:
        raise InvalidInput("A reply is limited to 4,000 characters.", field="body")
    conversation = reply_conversation(org_id, conversation_id)
    _check_whatsapp_window(conversation)
    return reply_queue(conversation, text, by=by)


def reply_conversation(org_id: int, conversation_id: int) -> Conversation:
    """The conversation a reply goes to; Conflict when its customer's contact details were erased."""
    conversation = _conversation(org_id, conversation_id)
    if conversation.address in ("", "erased"):
        raise Conflict("This customer's contact details were erased; a reply cannot be sent.")
    return conversation


def reply_queue(conversation: Conversation, text: str, *, by: User | None, template: dict | None = None,
                channel_id: int | None = None) -> Message:
    """Store a checked reply as queued and hand it to a job after the commit."""
    org_id = conversation.organisation_id
    message = Message(organisation_id=org_id, conversation=conversation, direction=Direction.OUT,
                      channel=conversation.channel, channel_id=channel_id or conversation.channel_id, sender="", body=text,
                      pii=pii.find(text), processed=True, delivery_status=ReplyStatus.QUEUED,
                      status_at=utcnow(), sent_by_id=user_id_of(by), template=template)
    db.session.add(message)
    conversation.last_message_at = utcnow()
    db.session.flush()
    from app.inbox.channels.tasks import reply_deliver

    enqueue_after_commit(reply_deliver, message.id, org_id=org_id, queue="high")
    publish_after_commit(org_id, CONVERSATION_EVENT, {"conversation_id": conversation.id})
    db.session.commit()
    return message


def whatsapp_window(conversation: Conversation) -> tuple[bool, datetime | None] | None:
    """WhatsApp's customer-service window on a conversation: (open, until), or None for other channels."""
    from app.inbox.channels import meta

    if conversation.channel != Channel.WHATSAPP:
        return None
    last_in = db.session.scalar(select(func.max(Message.created_at)).where(
        Message.conversation_id == conversation.id, Message.direction == Direction.IN))
    return meta.window_open(last_in)


def _check_whatsapp_window(conversation: Conversation) -> None:
    from app.inbox.channels.services import reply_channel

    window = whatsapp_window(conversation)
    if window is None or window[0]:
        return
    if reply_channel(conversation.organisation_id, conversation.channel, conversation.channel_id) is None:
        return  # no provider: the reply stays in the outbox anyway
    raise Conflict("WhatsApp accepts a free-form reply only within 24 hours of the customer's last message, and "
                   "that window has closed. Outside it only a message template approved by Meta can be sent: "
                   "pick one under Send a template (an admin registers them on the channel settings page).")


# --- customers and privacy ----------------------------------------------------------------------

def customer_view(*, org_id: int, customer_id: int, by: User | None) -> Customer:
    """Load a customer for a person to see, and record that they looked."""
    customer = _customer(org_id, customer_id)
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="customer.view", object_type="customer",
                 object_id=customer.id)
    db.session.commit()
    return customer


def _customer(org_id: int, customer_id: int) -> Customer:
    customer = db.session.get(Customer, customer_id)
    if customer is None or customer.organisation_id != org_id:
        raise NotFound("No such customer in your organisation.")
    return customer


def customer_profile_update(*, org_id: int, customer_id: int, labels: str, notes: str, flags: list[str],
                            by: User | None) -> CustomerProfile:
    """Set a customer's labels (comma-separated), notes and flags."""
    customer = _customer(org_id, customer_id)
    profile = _profile(customer)
    before = {"labels": list(profile.labels or []), "flags": list(profile.flags or [])}
    profile.labels = sorted({x.strip()[:40] for x in (labels or "").split(",") if x.strip()})[:20]
    profile.flags = sorted({f for f in flags if f in CUSTOMER_FLAGS})
    profile.notes = (notes or "").strip()[:5000]
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="customer.update", object_type="customer",
                 object_id=customer.id, before=before, after={"labels": profile.labels, "flags": profile.flags})
    db.session.commit()
    return profile


CUSTOMER_FLAGS = ("vip", "blocked", "credit_hold", "wholesale")


def customer_export(*, org_id: int, customer_id: int, by: User | None) -> dict:
    """Everything stored about a customer, as a JSON-ready dict (message bodies with payment data masked)."""
    customer = _customer(org_id, customer_id)
    profile = _profile(customer)
    conversations = db.session.scalars(select(Conversation).where(Conversation.customer_id == customer.id)
                                       .order_by(Conversation.id)).all()
    orders = db.session.scalars(select(Order).where(Order.customer_id == customer.id).order_by(Order.id)).all()
    data = {
        "customer": {"id": customer.id, "name": customer.name, "email": customer.email, "phone": customer.phone,
                     "shipping_address": customer.shipping_address, "billing_address": customer.billing_address,
                     "created_at": customer.created_at.isoformat()},
        "profile": {"phones": profile.phones, "emails": profile.emails, "labels": profile.labels,
                    "flags": profile.flags, "notes": profile.notes},
        "conversations": [{
            "id": c.id, "channel": c.channel.value, "status": c.status.value,
            "messages": [{"id": m.id, "direction": m.direction.value, "at": m.created_at.isoformat(),
                          "subject": pii.mask(m.subject), "body": pii.mask(m.body), "pii": m.pii,
                          "attachments": [{"filename": a.filename, "type": a.mime or a.content_type,
                                           "size": a.size_bytes, "status": a.status.value}
                                          for a in m.attachments]}
                         for m in c.messages]} for c in conversations],
        "orders": [{"number": o.number, "status": o.status.value, "total": str(o.total), "currency": o.currency,
                    "created_at": o.created_at.isoformat()} for o in orders],
        "exported_at": utcnow().isoformat(),
    }
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="customer.export", object_type="customer",
                 object_id=customer.id)
    db.session.commit()
    return data


def customer_erase(*, org_id: int, customer_id: int, by: User | None) -> Customer:
    """Anonymise a customer and their messages; orders keep their numbers and amounts."""
    customer = _customer(org_id, customer_id)
    profile = _profile(customer)
    if profile.erased_at is not None:
        raise Conflict("This customer was already erased.")
    label = f"Erased customer #{customer.id}"
    for name, value in (("name", label), ("email", ""), ("phone", ""), ("shipping_address", ""),
                        ("billing_address", "")):
        setattr(customer, name, value)
    profile.phones, profile.emails, profile.notes, profile.labels = [], [], "", []
    profile.erased_at = utcnow()
    conversation_ids = select(Conversation.id).where(Conversation.customer_id == customer.id)
    message_ids = select(Message.id).where(Message.conversation_id.in_(conversation_ids))
    # The files they sent go with their words (stored copies are swept once nothing names them).
    db.session.execute(delete(MessageAttachment).where(MessageAttachment.message_id.in_(message_ids))
                       .execution_options(synchronize_session=False))
    db.session.execute(update(Message).where(Message.conversation_id.in_(conversation_ids)).values(
        body="[erased]", subject="", sender="", pii=[]).execution_options(synchronize_session=False))
    db.session.execute(update(Conversation).where(Conversation.customer_id == customer.id).values(
        address="erased", status=ConversationStatus.CLOSED).execution_options(synchronize_session=False))
    # The orders' own copies of the contact details go too; number, lines and money stay for the books.
    db.session.execute(update(Order).where(Order.customer_id == customer.id, Order.organisation_id == org_id).values(
        customer_name=label, customer_email="", customer_phone="", shipping_address="", billing_address="")
        .execution_options(synchronize_session=False))
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="customer.erase", object_type="customer",
                 object_id=customer.id)
    publish_after_commit(org_id, CONVERSATION_EVENT, {"customer_id": customer.id})
    db.session.commit()
    return customer


def customer_search_clause(q: str):
    like = f"%{q.strip().lower()}%"
    return or_(func.lower(Customer.name).like(like), func.lower(Customer.email).like(like), Customer.phone.like(like))
