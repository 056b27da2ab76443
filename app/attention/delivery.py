"""Sending alerts: e-mails (SMTP, or kept in the local outbox) and webhook calls, retried with backoff.

A delivery is tried by a job on the `low` queue, never by the code that raised the alert. A failure
(the mail server refuses, the webhook answers 500 or cannot be reached) is written on the row and
the next try is scheduled after ALERTS_RETRY_BASE_SECONDS × 2^(attempt−1), up to
ALERTS_MAX_ATTEMPTS tries; the sweeper sends again any delivery whose scheduled job was lost.
Without SMTP_HOST, an e-mail is "sent" into the local outbox: the row itself, shown on the
person's alerts page. Webhook calls are JSON, signed with HMAC-SHA256 of the body under the
person's secret (header X-Stockroom-Signature: sha256=<hex>), through app.core.http (which
refuses addresses inside the network unless the operator allows them).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from app.attention.models import AlertDelivery, AlertSettings
from app.attention.statuses import DeliveryStatus
from app.core import http, mail
from app.core.models import utcnow
from app.core.queue import enqueue, get_queue
from app.extensions import db

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Stockroom-Signature"
TIMEOUT_SECONDS = 10
LOST_AFTER = timedelta(minutes=5)  # a due delivery not tried for this long lost its job
CLAIM_FOR = timedelta(seconds=4 * TIMEOUT_SECONDS)  # a try in progress; after it, the sweeper may try again
EARLY = timedelta(seconds=5)  # a scheduled retry may start this much before its time (clocks differ)


class ChannelFailed(Exception):
    """The channel did not take the alert; the text says why."""


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _send_email(recipient: str, subject: str, body: str) -> str:
    if not mail.smtp_configured():
        return "outbox"
    try:
        mail.smtp_send(recipient=recipient, subject=subject, body=body)
    except mail.MailError as exc:
        raise ChannelFailed(str(exc)) from None
    return "smtp"


def _send_webhook(url: str, secret: str, delivery_id: int, payload: dict) -> str:
    body = json.dumps({**payload, "delivery_id": delivery_id}, sort_keys=True, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature(secret, body),
               "X-Stockroom-Event": str(payload.get("event", "")), "X-Stockroom-Delivery": str(delivery_id)}
    try:
        # Never retried inside one try: the schedule below spaces the tries out instead.
        answer = http.request("POST", url, body=body, headers=headers, timeout=TIMEOUT_SECONDS, max_bytes=65536,
                              truncate=True)
    except http.HttpFailure as exc:
        raise ChannelFailed(f"Could not connect ({exc.reason})") from None
    if not answer.ok:
        raise ChannelFailed(f"HTTP {answer.status}: {answer.text()}")
    return "http"


def _claim(delivery_id: int) -> bool:
    """Take the delivery for one try: only one job sends it, however many were queued for it."""
    now = utcnow()
    claimed = db.session.execute(update(AlertDelivery).where(
        AlertDelivery.id == delivery_id, AlertDelivery.status.in_(tuple(DeliveryStatus.group("open"))),
        AlertDelivery.next_attempt_at <= now + EARLY).values(next_attempt_at=now + CLAIM_FOR)
        .returning(AlertDelivery.id), execution_options={"synchronize_session": False}).first()
    db.session.commit()
    return claimed is not None


def delivery_attempt(*, delivery_id: int) -> AlertDelivery | None:
    """Try one delivery now; on failure schedule the next try or give up. Sent ones are never sent again."""
    if not _claim(delivery_id):
        return db.session.get(AlertDelivery, delivery_id)
    delivery = db.session.get(AlertDelivery, delivery_id)
    secret = ""
    if delivery.channel == "webhook":
        settings = db.session.scalar(select(AlertSettings).where(AlertSettings.user_id == delivery.user_id))
        secret = settings.webhook_secret if settings else ""
    sending = (delivery.channel, delivery.recipient, delivery.subject, delivery.body, dict(delivery.payload or {}))
    db.session.commit()  # no transaction (nor SQLite's write lock) is held while the channel answers
    channel, recipient, subject, body, payload = sending
    try:
        if channel == "email":
            transport = _send_email(recipient, subject, body)
        else:
            transport = _send_webhook(recipient, secret, delivery_id, payload)
        error = ""
    except ChannelFailed as exc:
        transport, error = "", str(exc)[:1000]
    return _record(delivery_id, transport, error)


def _record(delivery_id: int, transport: str, error: str) -> AlertDelivery:
    delivery = db.session.get(AlertDelivery, delivery_id)
    delivery.attempts += 1
    if not error:
        DeliveryStatus.check(delivery.status, DeliveryStatus.SENT)
        delivery.status, delivery.transport, delivery.sent_at = DeliveryStatus.SENT, transport, utcnow()
        delivery.error, delivery.next_attempt_at = "", None
        db.session.commit()
        return delivery
    delivery.error = error
    config = current_app.config
    if delivery.attempts >= int(config["ALERTS_MAX_ATTEMPTS"]):
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
        log.warning("alert delivery %s failed for good after %s tries: %s", delivery_id, delivery.attempts, error)
        db.session.commit()
        return delivery
    delay = float(config["ALERTS_RETRY_BASE_SECONDS"]) * 2 ** (delivery.attempts - 1)
    delivery.status, delivery.next_attempt_at = DeliveryStatus.RETRYING, utcnow() + timedelta(seconds=delay)
    org_id = delivery.organisation_id
    db.session.commit()
    _schedule(delivery_id, org_id, delay)
    return delivery


def _schedule(delivery_id: int, org_id: int, delay: float) -> None:
    from app.attention.tasks import deliver

    get_queue("low").enqueue_in(timedelta(seconds=delay), deliver, delivery_id, meta={"organisation_id": org_id},
                                job_timeout=120)


def resend_lost(limit: int = 200) -> int:
    """Deliveries due for a while that no job tried (a lost scheduled job): queued again."""
    from app.attention.tasks import deliver

    due = db.session.execute(select(AlertDelivery.id, AlertDelivery.organisation_id).where(
        AlertDelivery.status.in_(tuple(DeliveryStatus.group("open"))),
        AlertDelivery.next_attempt_at <= utcnow() - LOST_AFTER).order_by(AlertDelivery.id).limit(limit)).all()
    for delivery_id, org_id in due:
        enqueue(deliver, delivery_id, org_id=org_id, queue="low", timeout=120)
    return len(due)
