"""Channel adapters for replies: the local outbox (development default), SMTP, and a Twilio-style HTTP API.

Which adapter a channel uses follows the environment: e-mail goes through SMTP when SMTP_HOST
is set, SMS and WhatsApp through the HTTP API when TWILIO_API_URL is set; otherwise both land
in the local outbox table, and nothing leaves the machine. Adapters get plain values, not rows,
so the caller can end its database transaction before a slow network call.
"""
from __future__ import annotations

import json
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from flask import current_app

from app.extensions import db
from app.inbox.http import HTTPFailure, post
from app.inbox.models import Channel, OutboxMessage


def setting(name: str, default: str = "") -> str:
    """A reply channel's setting (read from the environment in app.config)."""
    return str(current_app.config.get(name) or default)


class DeliveryError(Exception):
    """The channel refused or could not be reached; the message says why."""


@dataclass(frozen=True)
class Outgoing:
    org_id: int
    message_id: int
    channel: Channel
    recipient: str
    subject: str
    body: str


def adapter_for(channel: Channel) -> str:
    if channel == Channel.EMAIL and setting("SMTP_HOST"):
        return "smtp"
    if channel in (Channel.SMS, Channel.WHATSAPP) and setting("TWILIO_API_URL"):
        return "twilio"
    return "outbox"


def send(out: Outgoing) -> tuple[str, str | None]:
    """Hand the reply to its channel's adapter: (adapter name, provider's message id) or DeliveryError."""
    name = adapter_for(out.channel)
    return name, {"smtp": send_smtp, "twilio": send_twilio, "outbox": send_outbox}[name](out)


def send_outbox(out: Outgoing) -> None:
    db.session.add(OutboxMessage(organisation_id=out.org_id, message_id=out.message_id, channel=out.channel.value,
                                 recipient=out.recipient, subject=out.subject, body=out.body))
    return None


def send_smtp(out: Outgoing) -> None:
    email = EmailMessage()
    email["From"] = setting("SMTP_FROM", "stockroom@localhost")
    email["To"] = out.recipient
    email["Subject"] = out.subject or "Your order"
    email.set_content(out.body)
    try:
        with smtplib.SMTP(setting("SMTP_HOST"), int(setting("SMTP_PORT", "25")), timeout=10) as smtp:
            if setting("SMTP_STARTTLS") in ("1", "true", "yes"):
                smtp.starttls()
            if setting("SMTP_USER"):
                smtp.login(setting("SMTP_USER"), setting("SMTP_PASSWORD"))
            smtp.send_message(email)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"SMTP: {exc}") from None
    return None


def send_twilio(out: Outgoing) -> str | None:
    sid = setting("TWILIO_ACCOUNT_SID")
    url = f"{setting('TWILIO_API_URL').rstrip('/')}/2010-04-01/Accounts/{sid}/Messages.json"
    prefix = "whatsapp:" if out.channel == Channel.WHATSAPP else ""
    sender = setting("TWILIO_WHATSAPP_FROM" if prefix else "TWILIO_FROM") or setting("TWILIO_FROM")
    data = {"To": prefix + out.recipient, "Body": out.body,
            "From": (prefix + sender) if prefix and not sender.startswith(prefix) else sender}
    try:
        status, text = post(url, form=data, auth=(sid, setting("TWILIO_AUTH_TOKEN")), timeout=10)
    except HTTPFailure as exc:
        raise DeliveryError(f"Twilio API: {exc}") from None
    if status >= 300:
        raise DeliveryError(f"Twilio API answered HTTP {status}: {text[:200]}")
    try:
        return str(json.loads(text).get("sid") or "")[:120] or None
    except (ValueError, AttributeError):
        return None
