"""Extractions (order lines read from a message), feedback and outgoing webhooks."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.crypto import EncryptedText
from app.core.models import User, UTCDateTime, utcnow
from app.core.statuses import status_column
from app.extensions import db
from app.inbox.models import Message
from app.inbox.statuses import (  # noqa: F401 - part of this domain's model
    OPEN_EXTRACTION,
    DeliveryStatus,
    ExtractionStatus,
    LineStatus,
)
from app.inventory.models import Item
from app.orders.models import Order
from app.orders.statuses import ORDER_WEBHOOK_EVENTS

KIND_LABELS = {"order": "order", "question": "question", "cancellation": "cancellation", "other": "not an order"}


class Extraction(db.Model):
    __tablename__ = "extractions"
    __table_args__ = (UniqueConstraint("message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    status: Mapped[ExtractionStatus] = status_column(ExtractionStatus, length=20, index=True)
    confidence: Mapped[int] = mapped_column(Integer, default=0)  # 0..100
    provider: Mapped[str] = mapped_column(String(40), default="offline")
    provider_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    wanted_date: Mapped[date | None] = mapped_column(Date)
    wanted_text: Mapped[str] = mapped_column(String(120), default="", server_default="")
    address_hint: Mapped[str] = mapped_column(Text, default="", server_default="")
    reasons: Mapped[list] = mapped_column(JSON, default=list)  # why it needs review
    kind: Mapped[str] = mapped_column(String(20), default="order", server_default="order")  # order, question…
    # parts of the message not read into a line: {"text", "start", "end", "reason", "quantity", "unit",
    # "candidates", "resolved_by", "resolved_at"}; one click waits until every part is resolved
    not_understood: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    other_reading: Mapped[dict | None] = mapped_column(JSON)  # the reading that disagreed (text model vs offline)
    reject_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    message: Mapped[Message] = relationship()
    order: Mapped[Order | None] = relationship()
    reviewed_by: Mapped[User | None] = relationship()
    lines: Mapped[list[ExtractedLine]] = relationship(back_populates="extraction", order_by="ExtractedLine.position",
                                                      cascade="all, delete-orphan")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_EXTRACTION

    @property
    def active_lines(self) -> list[ExtractedLine]:
        return [line for line in self.lines if line.status != "removed"]

    @property
    def open_parts(self) -> list[dict]:
        """Parts not understood that no person has resolved yet."""
        return [p for p in self.not_understood or [] if not p.get("resolved_at")]

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind or "order", self.kind or "order")

    @property
    def can_confirm(self) -> bool:
        """The order button shows: open, every line with a product and a quantity, nothing left not understood."""
        lines = self.active_lines
        return (self.is_open and bool(lines) and all(x.item_id and x.quantity for x in lines)
                and not self.open_parts and (self.kind or "order") == "order")


class ExtractedLine(db.Model):
    __tablename__ = "extracted_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    extraction_id: Mapped[int] = mapped_column(ForeignKey("extractions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    quantity: Mapped[int | None] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(20), default="", server_default="")
    product_text: Mapped[str] = mapped_column(String(300), default="", server_default="")
    item_id: Mapped[int | None] = mapped_column(ForeignKey("inventory_items.id"))
    confidence: Mapped[int] = mapped_column(Integer, default=0)
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[LineStatus] = status_column(LineStatus, length=20, default=LineStatus.MATCHED)

    extraction: Mapped[Extraction] = relationship(back_populates="lines")
    item: Mapped[Item | None] = relationship()


class ExtractionFeedback(db.Model):
    """A correction made in review: what the extractor said and what the person set."""

    __tablename__ = "extraction_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    extraction_id: Mapped[int] = mapped_column(ForeignKey("extractions.id", ondelete="CASCADE"), index=True)
    line_id: Mapped[int | None] = mapped_column(ForeignKey("extracted_lines.id", ondelete="SET NULL"))
    product_text: Mapped[str] = mapped_column(String(300), default="", server_default="")
    original: Mapped[dict] = mapped_column(JSON, default=dict)
    corrected: Mapped[dict] = mapped_column(JSON, default=dict)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Every order event (app.orders.timeline) can be subscribed to, whatever page or message made the order.
WEBHOOK_EVENTS = (*ORDER_WEBHOOK_EVENTS, "message.received", "review.required")


class WebhookEndpoint(db.Model):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    events: Mapped[list] = mapped_column(JSON, default=list)
    secret: Mapped[str] = mapped_column(EncryptedText)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failure_count: Mapped[int] = mapped_column(Integer, default=0)  # consecutive
    disabled_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(db.Model):
    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[DeliveryStatus] = status_column(DeliveryStatus, length=20, default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    response_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(Text, default="", server_default="")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    endpoint: Mapped[WebhookEndpoint] = relationship()
