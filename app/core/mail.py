"""The installation's outgoing e-mail: SMTP when SMTP_HOST is set, otherwise nothing leaves the machine
(the caller keeps the message in its own outbox table and shows it there)."""
from __future__ import annotations

import smtplib
from email.message import EmailMessage

from flask import current_app


class MailError(Exception):
    """The mail server refused the message or could not be reached; the text says why."""


def smtp_configured() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def smtp_send(*, recipient: str, subject: str, body: str, timeout: float = 10) -> None:
    """Send one plain-text message through the installation's SMTP server; MailError when it fails."""
    config = current_app.config
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = config.get("SMTP_FROM") or "stockroom@localhost", recipient, subject
    message.set_content(body)
    try:
        with smtplib.SMTP(config["SMTP_HOST"], int(config.get("SMTP_PORT") or 25), timeout=timeout) as smtp:
            if str(config.get("SMTP_STARTTLS") or "").lower() in ("1", "true", "yes", "on"):
                smtp.starttls()
            if config.get("SMTP_USER"):
                smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException, ValueError) as exc:
        raise MailError(f"SMTP: {exc}"[:500]) from None
