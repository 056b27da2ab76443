"""E-mail replies through the organisation's own SMTP server."""
from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

from app.core import http
from app.inbox.channels.base import ChannelConf, Outgoing, SendFailed, Sent

PERMANENT = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPAuthenticationError)


def send(conf: ChannelConf, out: Outgoing, *, timeout: float) -> Sent:
    """Send one e-mail; Sent with its Message-ID, or SendFailed with the server's words."""
    email = EmailMessage()
    email["From"], email["To"] = conf.address, out.recipient
    email["Subject"] = out.subject or "Your order"
    email["Message-ID"] = make_msgid(domain=conf.address.rsplit("@", 1)[-1] or None)
    if out.in_reply_to:
        email["In-Reply-To"] = email["References"] = out.in_reply_to
    email.set_content(out.body)
    host, port = conf.setting("host"), int(conf.setting("port", "25"))
    try:
        # The host is typed by an organisation's admin: the outbound guard decides whether it may be called.
        http.resolve_checked(host, port)
    except http.HttpFailure as exc:
        raise SendFailed(f"SMTP server {host}: {exc.reason}", retryable=exc.retryable) from None
    try:
        with smtplib.SMTP(host, port, timeout=timeout) as smtp:
            if conf.setting("starttls").lower() in ("1", "yes", "true"):
                smtp.starttls()
            if conf.setting("username"):
                smtp.login(conf.setting("username"), conf.secret("password"))
            smtp.send_message(email)
    except PERMANENT as exc:
        raise SendFailed(f"SMTP server refused: {exc}") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise SendFailed(f"SMTP: {exc}", retryable=True) from None
    return Sent(external_id=email["Message-ID"][:120])
