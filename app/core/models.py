"""Organisations, users, the audit log and worker pings: the rows every domain leans on."""
from __future__ import annotations

from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, DateTime, Enum, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.enums import LabelledEnum
from app.extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC)


def user_id_of(user) -> int | None:
    """The id of the person acting (`by` in every service), for audit and owner columns; None for the system."""
    return user.id if user is not None else None


class UTCDateTime(db.TypeDecorator):
    """Stores naive UTC, always returns aware UTC (SQLite forgets the zone otherwise)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Role(LabelledEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    STAFF = "staff"


class Organisation(db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    review_threshold: Mapped[int] = mapped_column(Integer, default=80, server_default="80")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=func.now())

    users: Mapped[list[User]] = relationship(back_populates="organisation")


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="", server_default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16,
                                            values_callable=lambda e: [m.value for m in e]))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=func.now())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship(back_populates="users")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users at login and on every request
        return self.active

    def has_role(self, *roles: Role | str) -> bool:
        """Admins may do everything; others need one of the named roles."""
        wanted = {Role(r) for r in roles}
        return self.role == Role.ADMIN or self.role in wanted

    @property
    def display_name(self) -> str:
        return self.name or self.email


class AuditEntry(db.Model):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(80))
    object_type: Mapped[str] = mapped_column(String(80))
    object_id: Mapped[str | None] = mapped_column(String(80))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # The personal API token the actor acted through, if any: its id and its name at the time
    # (the log keeps what was true then, whatever becomes of the token).
    api_token_id: Mapped[int | None] = mapped_column(Integer)
    api_token_name: Mapped[str | None] = mapped_column(String(80))

    actor: Mapped[User | None] = relationship()

    @property
    def who(self) -> str:
        """The actor as the log shows them: "ada@example.com via token 'shop sync'", or "system"."""
        name = self.actor.email if self.actor is not None else "system"
        return f"{name} via token '{self.api_token_name}'" if self.api_token_name else name


class WorkerPing(db.Model):
    """A round trip web → queue → worker → event → browser, asked for from the dashboard."""

    __tablename__ = "worker_pings"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    worker_name: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)

    requested_by: Mapped[User | None] = relationship()

    @property
    def round_trip_ms(self) -> int | None:
        if self.answered_at is None:
            return None
        return int((self.answered_at - self.requested_at).total_seconds() * 1000)


class StoredImageColumns:
    """The columns of a picture checked like product photos and stored by content hash (with its
    thumbnail): shared by item and design images, which differ only in what they belong to."""

    sha256: Mapped[str] = mapped_column(String(64))
    thumb_sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255), default="", server_default="")
    format: Mapped[str] = mapped_column(String(10))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
