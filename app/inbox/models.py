"""Inbox rows: customer profiles, channel settings, conversations, messages and the local outbox.

Customers themselves live in the orders domain (`customers`); the inbox keeps what it adds
(every phone and e-mail seen, labels, notes, flags) in `customer_profiles`, one per customer.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.crypto import EncryptedText
from app.core.enums import LabelledEnum, db_enum, set_labels
from app.core.models import User, UTCDateTime, utcnow
from app.core.statuses import status_column
from app.extensions import db
from app.inbox.statuses import ConversationStatus, ReplyStatus  # noqa: F401 - part of this domain's model
from app.orders.models import Customer


class Channel(LabelledEnum):
    SMS = "sms"
    WHATSAPP = "whatsapp"
    EMAIL = "email"


set_labels(Channel, {"sms": "SMS", "whatsapp": "WhatsApp", "email": "E-mail"})


class Direction(LabelledEnum):
    IN = "in"
    OUT = "out"


class CustomerProfile(db.Model):
    """What the inbox knows about a customer beyond the orders domain's row."""

    __tablename__ = "customer_profiles"
    __table_args__ = (UniqueConstraint("customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    # Set when this customer was merged into another one (see CustomerMerge); hidden from lists.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    phones: Mapped[list] = mapped_column(JSON, default=list)
    emails: Mapped[list] = mapped_column(JSON, default=list)
    labels: Mapped[list] = mapped_column(JSON, default=list)
    flags: Mapped[list] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    customer: Mapped[Customer] = relationship(foreign_keys=[customer_id])


class CustomerMerge(db.Model):
    """One customer merged into another: what moved, so that it can be split again."""

    __tablename__ = "customer_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    moved: Mapped[dict] = mapped_column(JSON, default=dict)  # conversation ids, phones, e-mails
    merged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    split_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    split_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    source: Mapped[Customer] = relationship(foreign_keys=[source_id])


class ChannelConfig(db.Model):
    """An organisation's generic JSON webhook (a relay of its own): its address (one token) and signing secret."""

    __tablename__ = "channel_configs"
    __table_args__ = (UniqueConstraint("organisation_id"), UniqueConstraint("hook_token"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    hook_token: Mapped[str] = mapped_column(String(64))
    json_secret: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Conversation(db.Model):
    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_organisation_id_last_message_at", "organisation_id", "last_message_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    channel: Mapped[Channel] = mapped_column(db_enum(Channel, length=20))
    # The organisation's channel (number, mailbox) the customer wrote to: replies leave from it.
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("inbox_channels.id", ondelete="SET NULL"), index=True)
    address: Mapped[str] = mapped_column(String(254))  # the customer's number or e-mail on this channel
    status: Mapped[ConversationStatus] = status_column(ConversationStatus, length=20, default=ConversationStatus.OPEN)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    unread_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    customer: Mapped[Customer] = relationship()
    assigned_to: Mapped[User | None] = relationship()
    messages: Mapped[list[Message]] = relationship(back_populates="conversation", order_by="Message.id")


class Message(db.Model):
    __tablename__ = "messages"
    # The same provider message delivered twice is stored once.
    __table_args__ = (UniqueConstraint("organisation_id", "channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    direction: Mapped[Direction] = mapped_column(db_enum(Direction, length=4))
    channel: Mapped[Channel] = mapped_column(db_enum(Channel, length=20))
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("inbox_channels.id", ondelete="SET NULL"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(120))
    sender: Mapped[str] = mapped_column(String(254), default="", server_default="")
    subject: Mapped[str] = mapped_column(String(300), default="", server_default="")
    body: Mapped[str] = mapped_column(Text, default="", server_default="")
    attachments: Mapped[list] = mapped_column(JSON, default=list)
    pii: Mapped[list] = mapped_column(JSON, default=list)  # kinds found: phone, email, card, iban
    processed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    delivery_status: Mapped[ReplyStatus] = status_column(ReplyStatus, length=20, default=ReplyStatus.NONE,
                                                         server_default="")
    delivery_error: Mapped[str] = mapped_column(Text, default="", server_default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # tries at the provider
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a queued reply is not sent before
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when delivery_status last changed
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")
    sent_by: Mapped[User | None] = relationship()


class OutboxMessage(db.Model):
    """What the local (development) adapter "sent": nothing leaves the machine."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300), default="", server_default="")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
