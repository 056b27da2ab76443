"""Channel adapters for replies: the local outbox (development default), SMTP, and a Twilio-style HTTP API.

Which adapter a channel uses follows the environment: e-mail goes through SMTP when SMTP_HOST
is set, SMS and WhatsApp through the HTTP API when TWILIO_API_URL is set; otherwise both land
in the local outbox table, and nothing leaves the machine.
"""
from __future__ import annotations

import json
import smtplib
from email.message import EmailMessage

from app.extensions import db
from app.inbox.http import HTTPFailure, post
from app.inbox.models import Channel, Message, OutboxMessage
from app.inbox.text_model import setting


class DeliveryError(Exception):
    """The channel refused or could not be reached; the message says why."""


def adapter_for(channel: Channel) -> str:
    if channel == Channel.EMAIL and setting("SMTP_HOST"):
        return "smtp"
    if channel in (Channel.SMS, Channel.WHATSAPP) and setting("TWILIO_API_URL"):
        return "twilio"
    return "outbox"


def send(message: Message, recipient: str, subject: str = "") -> str:
    """Hand the reply to its channel's adapter; returns the adapter's name or raises DeliveryError."""
    name = adapter_for(message.channel)
    {"smtp": send_smtp, "twilio": send_twilio, "outbox": send_outbox}[name](message, recipient, subject)
    return name


def send_outbox(message: Message, recipient: str, subject: str = "") -> None:
    db.session.add(OutboxMessage(organisation_id=message.organisation_id, message_id=message.id,
                                 channel=message.channel.value, recipient=recipient, subject=subject,
                                 body=message.body))


def send_smtp(message: Message, recipient: str, subject: str = "") -> None:
    email = EmailMessage()
    email["From"] = setting("SMTP_FROM", "stockroom@localhost")
    email["To"] = recipient
    email["Subject"] = subject or "Your order"
    email.set_content(message.body)
    try:
        with smtplib.SMTP(setting("SMTP_HOST"), int(setting("SMTP_PORT", "25")), timeout=10) as smtp:
            if setting("SMTP_STARTTLS") in ("1", "true", "yes"):
                smtp.starttls()
            if setting("SMTP_USER"):
                smtp.login(setting("SMTP_USER"), setting("SMTP_PASSWORD"))
            smtp.send_message(email)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"SMTP: {exc}") from None


def send_twilio(message: Message, recipient: str, subject: str = "") -> None:
    sid = setting("TWILIO_ACCOUNT_SID")
    url = f"{setting('TWILIO_API_URL').rstrip('/')}/2010-04-01/Accounts/{sid}/Messages.json"
    prefix = "whatsapp:" if message.channel == Channel.WHATSAPP else ""
    sender = setting("TWILIO_WHATSAPP_FROM" if prefix else "TWILIO_FROM") or setting("TWILIO_FROM")
    data = {"To": prefix + recipient, "From": (prefix + sender) if prefix and not sender.startswith(prefix) else sender,
            "Body": message.body}
    try:
        status, text = post(url, form=data, auth=(sid, setting("TWILIO_AUTH_TOKEN")), timeout=10)
    except HTTPFailure as exc:
        raise DeliveryError(f"Twilio API: {exc}") from None
    if status >= 300:
        raise DeliveryError(f"Twilio API answered HTTP {status}: {text[:200]}")
    try:
        sid_out = json.loads(text).get("sid")
    except (ValueError, AttributeError):
        sid_out = None
    if sid_out:
        message.external_id = str(sid_out)[:120]
