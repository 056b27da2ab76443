"""Account e-mails (invitations, password resets): kept in the local outbox table, and sent
through SMTP by a job when SMTP_HOST is set. Nothing leaves the machine otherwise."""
from __future__ import annotations

from flask import current_app, request, url_for

from app.accounts.models import AccountEmail
from app.core.mail import MailError, smtp_configured, smtp_send
from app.core.models import utcnow
from app.core.queue import enqueue_after_commit
from app.extensions import db


def external_url(endpoint: str, **values) -> str:
    """An absolute link for an e-mail: ACCOUNT_BASE_URL when set, else the address of this request."""
    path = url_for(endpoint, **values)
    base = current_app.config.get("ACCOUNT_BASE_URL") or request.host_url
    return base.rstrip("/") + path


def mail_queue(*, org_id: int, recipient: str, subject: str, body: str) -> AccountEmail:
    """Keep the message in the outbox and, with SMTP set up, send it after commit (does not commit)."""
    smtp = smtp_configured()
    mail = AccountEmail(organisation_id=org_id, recipient=recipient, subject=subject[:300], body=body,
                        transport="smtp" if smtp else "outbox", sent_at=None if smtp else utcnow())
    db.session.add(mail)
    db.session.flush()
    if smtp:
        from app.accounts.tasks import send_account_mail

        enqueue_after_commit(send_account_mail, mail.id, queue="high", timeout=60, retries=3)
    return mail


def mail_send(mail_id: int) -> None:
    """Send one queued message through SMTP and record the result; a sent message is not sent again."""
    mail = db.session.get(AccountEmail, mail_id)
    if mail is None or mail.sent_at is not None:
        return
    try:
        smtp_send(recipient=mail.recipient, subject=mail.subject, body=mail.body)
    except MailError as exc:
        mail.error = str(exc)[:1000]
        db.session.commit()
        raise
    mail.sent_at, mail.error = utcnow(), None
    db.session.commit()
