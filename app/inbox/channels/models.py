"""An organisation's message channels (numbers and mailboxes at a provider) and hook receipts."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.crypto import EncryptedJSON
from app.core.enums import LabelledEnum, db_enum, set_labels
from app.core.models import UTCDateTime, utcnow
from app.extensions import db
from app.inbox.models import Channel


class Provider(LabelledEnum):
    TWILIO = "twilio"
    META = "meta"
    SMTP = "smtp"
    MAILGUN = "mailgun"
    POSTMARK = "postmark"
    RFC822 = "rfc822"


set_labels(Provider, {"twilio": "Twilio", "meta": "WhatsApp Cloud API (Meta)", "smtp": "SMTP (replies by e-mail)",
                      "mailgun": "Mailgun (e-mail in)", "postmark": "Postmark (e-mail in)",
                      "rfc822": "Raw e-mail (RFC 822) from your own relay"})

# What each kind of channel can be connected to.
KIND_PROVIDERS = {Channel.SMS: (Provider.TWILIO,), Channel.WHATSAPP: (Provider.TWILIO, Provider.META),
                  Channel.EMAIL: (Provider.SMTP, Provider.MAILGUN, Provider.POSTMARK, Provider.RFC822)}
# The providers Stockroom can send through; the others only bring messages in.
SENDING_PROVIDERS = (Provider.TWILIO, Provider.META, Provider.SMTP)
# The settings (shown) and secrets (encrypted, shown masked) each provider needs, with their labels.
PROVIDER_FIELDS = {
    Provider.TWILIO: {"settings": {"account_sid": "Account SID"}, "secrets": {"auth_token": "Auth Token"}},
    Provider.META: {"settings": {"phone_number_id": "Phone number ID", "verify_token": "Verify token"},
                    "secrets": {"access_token": "Access token", "app_secret": "App secret"}},
    Provider.MAILGUN: {"settings": {}, "secrets": {"signing_key": "HTTP webhook signing key"}},
    Provider.POSTMARK: {"settings": {"username": "User name in the URL"}, "secrets": {"password": "Password in the URL"}},
    Provider.RFC822: {"settings": {}, "secrets": {"relay_secret": "Relay signing secret"}},
    Provider.SMTP: {"settings": {"host": "SMTP host", "port": "Port", "username": "User name", "starttls": "STARTTLS"},
                    "secrets": {"password": "Password"}},
}


class InboxChannel(db.Model):
    """One number or mailbox: its provider, credentials (encrypted) and the address providers call."""

    __tablename__ = "inbox_channels"
    __table_args__ = (UniqueConstraint("hook_token"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[Channel] = mapped_column(db_enum(Channel, length=20))
    provider: Mapped[Provider] = mapped_column(db_enum(Provider, length=20))
    name: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(254), default="", server_default="")  # our number or e-mail
    hook_token: Mapped[str] = mapped_column(String(64))
    # The inbound URL as shown to the admin when the channel was made: what they pasted, so what
    # the provider signs, even when the request reaches us through a proxy under another name.
    hook_url: Mapped[str] = mapped_column(String(500), default="", server_default="")
    settings: Mapped[dict] = mapped_column(JSON, default=dict)  # account SID, SMTP host…
    secrets: Mapped[dict] = mapped_column(EncryptedJSON, default=dict)  # auth token, passwords…
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    last_test: Mapped[dict] = mapped_column(JSON, default=dict)  # {"at", "to", "status", "detail"}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    templates: Mapped[list[WhatsAppTemplate]] = relationship(
        back_populates="channel", order_by="(WhatsAppTemplate.name, WhatsAppTemplate.language)",
        cascade="all, delete-orphan")

    @property
    def label(self) -> str:
        return f"{self.name} ({self.kind.label} · {self.provider.label})"

    @property
    def takes_templates(self) -> bool:
        """Message templates are sent through the WhatsApp Cloud API (Meta) only."""
        return self.kind == Channel.WHATSAPP and self.provider == Provider.META


class WhatsAppTemplate(db.Model):
    """A message template the organisation had approved by Meta, as an admin registered it here.

    Meta knows the template by name and language; the preview is our copy of its body, with {{1}}…
    where the parameters go, so staff see what the customer will read."""

    __tablename__ = "whatsapp_templates"
    __table_args__ = (UniqueConstraint("channel_id", "name", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("inbox_channels.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(512))
    language: Mapped[str] = mapped_column(String(15))
    body_params: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    preview: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    channel: Mapped[InboxChannel] = relationship(back_populates="templates")

    @property
    def label(self) -> str:
        return f"{self.name} ({self.language})"


class HookReceipt(db.Model):
    """A signed body already taken: the same one again within the window is a replay, stored once."""

    __tablename__ = "hook_receipts"
    __table_args__ = (UniqueConstraint("organisation_id", "digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
