"""The rows behind the AI client: one per model call, and the organisation's monthly budget."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import UTCDateTime, utcnow
from app.extensions import db

CAPABILITIES = ("vision", "price", "text", "image")


class AICall(db.Model):
    """One call to an external model or data provider: what it cost and which object it served."""

    __tablename__ = "ai_calls"
    __table_args__ = (
        Index("ix_ai_calls_organisation_id_created_at", "organisation_id", "created_at"),
        Index("ix_ai_calls_object", "organisation_id", "object_type", "object_id"),
        Index("ix_ai_calls_parent", "organisation_id", "parent_type", "parent_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    capability: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str] = mapped_column(String(80))
    model: Mapped[str] = mapped_column(String(120), default="")
    ok: Mapped[bool] = mapped_column(Boolean, default=True)
    # Not sent at all: the monthly budget's hard limit was reached (the offline path ran instead).
    over_budget: Mapped[bool] = mapped_column(Boolean, default=False)
    retried: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    # Token prices are fractions of a cent: six decimals, Decimal, never float. NULL: no price is set.
    cost: Mapped[Decimal | None] = mapped_column(Numeric(14, 6))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    # What the call served (product, batch_row, collection, tech_file, message) and the page it belongs to.
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[int | None] = mapped_column(Integer)
    parent_type: Mapped[str | None] = mapped_column(String(32))
    parent_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # False from the moment the call is sent until its answer (or failure) is written. One left
    # False belongs to a worker that died during the call: the provider may have charged for it.
    finished: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    # This call repeats that one, which never finished (its worker died and the work resumed).
    repeat_of_id: Mapped[int | None] = mapped_column(Integer)


class Budget(db.Model):
    """The organisation's monthly AI spending: a warning level and a hard stop, over every capability."""

    __tablename__ = "budgets"
    __table_args__ = (UniqueConstraint("organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    warning_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    hard_limit: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
