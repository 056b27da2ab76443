"""What the attention queue and the alerts store. The items themselves are never stored: they are
computed from each domain's state (app.core.attention). Stored are only what people add to them
(an assignment, a snooze), the memory that makes an alert go out once per condition, what each
person wants to hear about, and the alerts and messages that went out.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.attention.statuses import DeliveryStatus
from app.core.crypto import EncryptedText
from app.core.models import User, UTCDateTime, utcnow
from app.core.statuses import status_column
from app.extensions import db


class AttentionMark(db.Model):
    """Who took an item, and until when it is put aside. Removed when the item is resolved."""

    __tablename__ = "attention_marks"
    __table_args__ = (UniqueConstraint("organisation_id", "kind", "subject"),
                      Index("ix_attention_marks_assigned_to_id", "assigned_to_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(120))
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    snoozed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id])
    snoozed_by: Mapped[User | None] = relationship(foreign_keys=[snoozed_by_id])

    @property
    def key(self) -> str:
        return f"{self.kind}.{self.subject}"


class AlertCondition(db.Model):
    """One condition (an item, a budget level) and whether it is on. A condition that comes on
    alerts once; it can alert again only after it went off. One row per condition, ever: the
    unique key is what lets exactly one of several evaluators switch it on."""

    __tablename__ = "alert_conditions"
    __table_args__ = (UniqueConstraint("organisation_id", "kind", "subject"),
                      Index("ix_alert_conditions_org_kind_active", "organisation_id", "kind", "active"),
                      Index("ix_alert_conditions_org_started_at", "organisation_id", "started_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    # What it was when it started, for the digest (the item itself may be gone by then).
    title: Mapped[str] = mapped_column(String(300), default="")
    why: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(500), default="")


class AlertSettings(db.Model):
    """One person's choices: per kind of item, how to hear of it (at once, in the daily digest,
    or not) in the app, by e-mail and by webhook; and the webhook's address and signing secret."""

    __tablename__ = "alert_settings"
    __table_args__ = (UniqueConstraint("user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # {kind: {"app": "now"|"digest"|"off", "email": …, "webhook": …}}; kinds not named use the defaults
    channels: Mapped[dict] = mapped_column(JSON, default=dict)
    webhook_url: Mapped[str] = mapped_column(String(500), default="")
    webhook_secret: Mapped[str] = mapped_column(EncryptedText, default="")  # encrypted at rest like every secret
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Alert(db.Model):
    """An alert shown in the app to one person: conditions that started, or a daily digest."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("user_id", "digest_slot"),
                      Index("ix_alerts_user_id_read_at", "user_id", "read_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(32))  # "digest" for a digest
    title: Mapped[str] = mapped_column(String(300))
    lines: Mapped[list] = mapped_column(JSON, default=list)  # [{"title", "why", "url"}]
    url: Mapped[str] = mapped_column(String(500), default="")
    digest_slot: Mapped[str | None] = mapped_column(String(10))  # the day a digest covers
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AlertDelivery(db.Model):
    """One e-mail or webhook call carrying alerts to one person, tried by a job until it is sent
    or has failed MAX_ATTEMPTS times. With no SMTP server set up, e-mails stay here: this table is
    the local outbox."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (UniqueConstraint("user_id", "channel", "digest_slot"),
                      Index("ix_alert_deliveries_status_next", "status", "next_attempt_at"),
                      Index("ix_alert_deliveries_user_id_id", "user_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(String(16))  # "email" | "webhook"
    digest_slot: Mapped[str | None] = mapped_column(String(10))
    recipient: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[DeliveryStatus] = status_column(DeliveryStatus, length=16, default=DeliveryStatus.PENDING)
    transport: Mapped[str] = mapped_column(String(16), default="")  # smtp, outbox, http
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
