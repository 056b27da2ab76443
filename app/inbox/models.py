"""Inbox rows: customer profiles, channel settings, conversations, messages, their attachments and the
local outbox.

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
from app.inbox.statuses import (  # noqa: F401 - part of this domain's model
    AttachmentStatus,
    ConversationStatus,
    HandoffStatus,
    ReplyStatus,
)
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
    pii: Mapped[list] = mapped_column(JSON, default=list)  # kinds found: phone, email, card, iban
    processed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    delivery_status: Mapped[ReplyStatus] = status_column(ReplyStatus, length=20, default=ReplyStatus.NONE,
                                                         server_default="")
    delivery_error: Mapped[str] = mapped_column(Text, default="", server_default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # tries at the provider
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a queued reply is not sent before
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when delivery_status last changed
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # A WhatsApp template reply: {"name", "language", "params"}; the body is its preview filled in.
    template: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")
    sent_by: Mapped[User | None] = relationship()
    attachments: Mapped[list[MessageAttachment]] = relationship(
        back_populates="message", order_by="MessageAttachment.position", cascade="all, delete-orphan")


class MessageAttachment(db.Model):
    """A file a customer sent with a message: where the provider keeps it, and our checked copy once stored."""

    __tablename__ = "message_attachments"
    __table_args__ = (UniqueConstraint("message_id", "position"),
                      Index("ix_message_attachments_status_next_attempt_at", "status", "next_attempt_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    # As the provider declared them: a label and a hint, never trusted for what the file is.
    filename: Mapped[str] = mapped_column(String(255), default="", server_default="")
    content_type: Mapped[str] = mapped_column(String(100), default="", server_default="")
    declared_size: Mapped[int | None] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(String(1000), default="", server_default="")  # Twilio media, a relay's link
    media_id: Mapped[str] = mapped_column(String(200), default="", server_default="")  # WhatsApp Cloud API
    status: Mapped[AttachmentStatus] = status_column(AttachmentStatus, length=20, default=AttachmentStatus.PENDING)
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")  # why not stored, or the last try's error
    # The bytes as received (an e-mail's part) until checked, then our checked copy; cleared when refused.
    sha256: Mapped[str | None] = mapped_column(String(64))
    thumb_sha256: Mapped[str | None] = mapped_column(String(64))
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    mime: Mapped[str] = mapped_column(String(100), default="", server_default="")  # found from the content
    preview: Mapped[str] = mapped_column(Text, default="", server_default="")  # a PDF's first page as text
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the sweep re-queues a lost try after
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handoff: Mapped[HandoffStatus] = status_column(HandoffStatus, length=20, default=HandoffStatus.NONE,
                                                   server_default="")
    handoff_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    message: Mapped[Message] = relationship(back_populates="attachments")

    @property
    def is_image(self) -> bool:
        return (self.mime or self.content_type or "").startswith("image/")

    @property
    def label(self) -> str:
        return self.filename or self.mime or self.content_type or "file"


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
