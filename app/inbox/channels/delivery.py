"""Replies on their way out, in honest states: queued, sent to provider, delivered, read, failed (with
the provider's words), or kept in the local outbox because no provider is configured.

A try runs in a job with no transaction open during the network call. A provider that is down or
busy leaves the reply queued with the reason and the time of the next try (base × 2^(try-1));
a refusal, or the last try, makes it failed, and a person can retry it from the conversation.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from app.core import audit
from app.core.errors import Conflict, NotFound
from app.core.events import publish_after_commit
from app.core.models import User, user_id_of, utcnow
from app.core.queue import enqueue, enqueue_after_commit, get_queue
from app.extensions import db
from app.inbox.channels import meta, smtp, twilio
from app.inbox.channels import services as channel_services
from app.inbox.channels.base import ChannelConf, Outgoing, SendFailed, Sent
from app.inbox.channels.models import Provider
from app.inbox.models import Channel, Direction, Message, OutboxMessage
from app.inbox.services import CONVERSATION_EVENT
from app.inbox.statuses import ReplyStatus

log = logging.getLogger(__name__)


def provider_send(conf: ChannelConf, out: Outgoing) -> Sent:
    """Hand one message to the channel's provider (no database work here)."""
    config = current_app.config
    timeout = config["CHANNELS_TIMEOUT_SECONDS"]
    if out.template and conf.provider != Provider.META.value:
        raise SendFailed(f"{conf.name} is not a WhatsApp Cloud API channel: message templates are sent only "
                         "through one")
    if conf.provider == Provider.TWILIO.value:
        status_url = _status_url(conf, out.message_id)
        return twilio.send(conf, out, api_url=config["CHANNELS_TWILIO_API_URL"], status_url=status_url,
                           timeout=timeout)
    if conf.provider == Provider.META.value:
        return meta.send(conf, out, api_url=config["CHANNELS_GRAPH_API_URL"], timeout=timeout)
    if conf.provider == Provider.SMTP.value:
        return smtp.send(conf, out, timeout=timeout)
    raise SendFailed(f"{conf.provider} cannot send messages")


def _status_url(conf: ChannelConf, message_id: int | None) -> str:
    # Built on the address the admin pasted, so the callback reaches the same host and is signed the same way.
    if not conf.hook_url or not message_id:
        return ""
    return f"{conf.hook_url}/status?m={message_id}"


def _outgoing(message: Message) -> Outgoing:
    conversation = message.conversation
    subject, in_reply_to = "", ""
    if message.channel == Channel.EMAIL:
        last = next((m for m in reversed(conversation.messages) if m.direction == Direction.IN), None)
        subject = f"Re: {last.subject}" if last is not None and last.subject else "Your order"
        in_reply_to = (last.external_id or "") if last is not None and "@" in (last.external_id or "") else ""
    return Outgoing(org_id=message.organisation_id, message_id=message.id, kind=message.channel.value,
                    recipient=conversation.address, subject=subject, body=message.body, in_reply_to=in_reply_to,
                    template=dict(message.template) if message.template else None)


def reply_attempt(*, message_id: int) -> None:
    """One try at sending a queued reply; the outcome is written on the message and shown live."""
    message = db.session.get(Message, message_id)
    if message is None or message.direction != Direction.OUT or message.delivery_status != ReplyStatus.QUEUED:
        return
    channel = channel_services.reply_channel(message.organisation_id, message.channel,
                                             message.channel_id or message.conversation.channel_id)
    if channel is None:
        _keep_in_outbox(message)
        return
    conf, out = channel_services.conf_of(channel), _outgoing(message)
    message.channel_id = channel.id
    if not _claim_try(message):
        db.session.rollback()  # another job is trying this reply right now, or its next try is not due
        return
    db.session.commit()  # no transaction (nor SQLite's write lock) held during the network call
    try:
        sent = provider_send(conf, out)
    except SendFailed as exc:
        log.warning("inbox: reply %s through channel %s failed: %s", message_id, conf.id, exc.message)
        _record_failure(message_id, exc)
        return
    _record_sent(message_id, sent)


def _claim_try(message: Message) -> bool:
    """Take this try in one statement before the network call: of two jobs holding the same queued
    reply (a retry click beside a scheduled try, a sweep beside a slow job) one sends, the other
    stops. The try's lease is its next_attempt_at: if the worker dies mid-call, the sweep of due
    replies tries again once the lease has passed."""
    now = utcnow()
    lease = 2 * current_app.config["CHANNELS_TIMEOUT_SECONDS"] + 60
    return db.session.execute(update(Message).where(
        Message.id == message.id, Message.delivery_status == ReplyStatus.QUEUED,
        Message.attempts == message.attempts,
        or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now))
        .values(attempts=Message.attempts + 1, next_attempt_at=now + timedelta(seconds=lease))
        .execution_options(synchronize_session=False)).rowcount == 1


def _finish(message: Message, status: ReplyStatus, error: str = "") -> None:
    message.delivery_status, message.delivery_error, message.status_at = status, error[:1000], utcnow()
    publish_after_commit(message.organisation_id, CONVERSATION_EVENT, {"conversation_id": message.conversation_id})
    db.session.commit()


def _keep_in_outbox(message: Message) -> None:
    db.session.add(OutboxMessage(organisation_id=message.organisation_id, message_id=message.id,
                                 channel=message.channel.value, recipient=message.conversation.address,
                                 subject="", body=message.body))
    _finish(message, ReplyStatus.OUTBOX)


def _move(message: Message, status: ReplyStatus, error: str = "", **values) -> bool:
    """Set a try's outcome in one statement, only while the reply is still queued: a status callback that
    came in during the call (delivered, read) has the provider's later word and is not overwritten."""
    moved = db.session.execute(update(Message).where(
        Message.id == message.id, Message.delivery_status == ReplyStatus.QUEUED)
        .values(delivery_status=status, delivery_error=error[:1000], status_at=utcnow(), **values)
        .execution_options(synchronize_session=False)).rowcount
    if moved:
        publish_after_commit(message.organisation_id, CONVERSATION_EVENT, {"conversation_id": message.conversation_id})
    return bool(moved)


def _tried(message_id: int, **values) -> Message:
    """The try is over (its attempt was counted when it was claimed): its lease ends."""
    db.session.execute(update(Message).where(Message.id == message_id)
                       .values(next_attempt_at=None, **values)
                       .execution_options(synchronize_session=False))
    return db.session.get(Message, message_id, populate_existing=True)


def _record_sent(message_id: int, sent: Sent) -> None:
    message = _tried(message_id, **({"external_id": sent.external_id} if sent.external_id else {}))
    _move(message, sent.status)
    db.session.commit()


def _record_failure(message_id: int, failure: SendFailed) -> None:
    message = _tried(message_id)
    if not failure.retryable or message.attempts >= current_app.config["CHANNELS_MAX_ATTEMPTS"]:
        _move(message, ReplyStatus.FAILED, failure.message)
        db.session.commit()
        return
    delay = current_app.config["CHANNELS_RETRY_BASE_SECONDS"] * 2 ** (message.attempts - 1)
    org_id = message.organisation_id
    again = _move(message, ReplyStatus.QUEUED, f"Try {message.attempts} failed: {failure.message}. Trying again.",
                  next_attempt_at=utcnow() + timedelta(seconds=delay))
    db.session.commit()
    if again:
        _schedule(message_id, org_id, delay)


def _schedule(message_id: int, org_id: int, delay: float) -> None:
    from app.inbox.channels.tasks import reply_deliver

    if delay <= 0:
        enqueue(reply_deliver, message_id, org_id=org_id, queue="high")
    else:
        get_queue("high").enqueue_in(timedelta(seconds=delay), reply_deliver, message_id,
                                     meta={"organisation_id": org_id})


def reply_retry(*, org_id: int, message_id: int, by: User | None) -> Message:
    """Put a failed reply (or one kept in the outbox) back in the queue for another try."""
    from app.inbox.channels.tasks import reply_deliver

    message = db.session.get(Message, message_id)
    if message is None or message.organisation_id != org_id or message.direction != Direction.OUT:
        raise NotFound("No such reply in your organisation.")
    moved = db.session.execute(update(Message).where(
        Message.id == message_id, Message.delivery_status.in_(ReplyStatus.group("retryable")))
        .values(delivery_status=ReplyStatus.QUEUED, next_attempt_at=None, attempts=0, status_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if not moved:
        db.session.rollback()
        raise Conflict("This reply is not waiting for a retry any more.")
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="inbox.reply_retry", object_type="message",
                 object_id=message_id)
    enqueue_after_commit(reply_deliver, message_id, org_id=org_id, queue="high")
    publish_after_commit(org_id, CONVERSATION_EVENT, {"conversation_id": message.conversation_id})
    db.session.commit()
    db.session.refresh(message)
    return message


def replies_due(limit: int = 500) -> list[tuple[int, int]]:
    """(message id, organisation id) of queued replies whose next try is due (their scheduled job may be lost)."""
    return list(db.session.execute(select(Message.id, Message.organisation_id).where(
        Message.direction == Direction.OUT, Message.delivery_status == ReplyStatus.QUEUED,
        Message.next_attempt_at <= utcnow()).limit(limit)).all())


def test_message_send(*, channel_id: int, recipient: str) -> None:
    """Send the test message an admin asked for and record what the provider said."""
    from app.inbox.channels.models import InboxChannel

    row = db.session.get(InboxChannel, channel_id)
    if row is None or (row.last_test or {}).get("status") != ReplyStatus.QUEUED.value:
        return
    conf = channel_services.conf_of(row)
    db.session.commit()
    out = Outgoing(org_id=conf.org_id, message_id=None, kind=conf.kind, recipient=recipient,
                   subject="Stockroom test message", body=f"Test message from Stockroom ({conf.name}).")
    try:
        sent = provider_send(conf, out)
    except SendFailed as exc:
        channel_services.channel_test_record(channel_id=channel_id, status=ReplyStatus.FAILED, detail=exc.message)
        return
    detail = f"{conf.provider} message id {sent.external_id}" if sent.external_id else ""
    channel_services.channel_test_record(channel_id=channel_id, status=sent.status, detail=detail)


