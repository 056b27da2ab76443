"""Channel writes: add and change an organisation's channels, test them, take what providers send.

Secrets arrive from the form in plain text and are written to an encrypted column; a blank secret
field on an edit keeps the stored one, so nothing secret ever has to be shown back.
"""
from __future__ import annotations

import hashlib
import logging
import re
import secrets as token_source
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select

from app.core import audit, leases
from app.core.errors import InvalidInput, NotFound
from app.core.events import publish_after_commit
from app.core.models import User, user_id_of, utcnow
from app.core.queue import enqueue_after_commit
from app.extensions import db
from app.inbox import services as inbox_services
from app.inbox.channels.base import ChannelConf, Inbound, StatusReport
from app.inbox.channels.models import (
    KIND_PROVIDERS,
    PROVIDER_FIELDS,
    SENDING_PROVIDERS,
    HookReceipt,
    InboxChannel,
    Provider,
)
from app.inbox.models import Channel, Direction, Message
from app.inbox.statuses import REPLY_RANK, ReplyStatus

CHANNEL_EVENT = "channel-changed"
RECEIPT_PRUNE_SECONDS = 3600
log = logging.getLogger(__name__)
PHONE = re.compile(r"^\+[1-9]\d{6,14}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TWILIO_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
REQUIRED_SECRETS = {Provider.TWILIO: "Twilio console, Account Info",
                    Provider.META: "Meta app: WhatsApp › API Setup for the token, Settings › Basic for the app secret",
                    Provider.MAILGUN: "Mailgun › Sending › Webhooks › HTTP webhook signing key",
                    Provider.POSTMARK: "a long random password you write into the URL given to Postmark",
                    Provider.RFC822: "any long random string your relay signs with"}


def _kind_and_provider(kind: str, provider: str) -> tuple[Channel, Provider]:
    try:
        chosen_kind, chosen_provider = Channel(kind), Provider(provider)
    except ValueError:
        raise InvalidInput("Choose a kind of channel and a provider from the lists.", field="provider") from None
    if chosen_provider not in KIND_PROVIDERS[chosen_kind]:
        names = ", ".join(p.label for p in KIND_PROVIDERS[chosen_kind])
        raise InvalidInput(f"{chosen_kind.label} can be connected through {names}.", field="provider")
    return chosen_kind, chosen_provider


def _address(kind: Channel, raw: str) -> str:
    value = (raw or "").strip()
    if kind == Channel.EMAIL:
        if not EMAIL.match(value):
            raise InvalidInput("Enter the e-mail address replies are sent from, like shop@example.com.",
                               field="address")
        return value[:254]
    number = inbox_services.normalise_address(kind, value)
    if not PHONE.match(number):
        raise InvalidInput("Enter the number in international form, like +447700900123.", field="address")
    return number


def _settings(provider: Provider, raw: dict) -> dict:
    wanted = PROVIDER_FIELDS[provider]["settings"]
    values = {name: str(raw.get(name) or "").strip()[:200] for name in wanted}
    if provider == Provider.TWILIO and not TWILIO_SID.match(values["account_sid"]):
        raise InvalidInput("The Account SID is AC followed by 32 letters and digits (Twilio console, Account Info).",
                           field="account_sid")
    if provider == Provider.META:
        if not values["phone_number_id"].isdigit():
            raise InvalidInput("The phone number ID is the number under WhatsApp › API Setup in your Meta app.",
                               field="phone_number_id")
        # Any string the admin also types into Meta's webhook settings; one is made if none is given.
        values["verify_token"] = values["verify_token"] or token_source.token_urlsafe(18)
    if provider == Provider.POSTMARK and not re.fullmatch(r"[A-Za-z0-9._-]{3,64}", values["username"]):
        raise InvalidInput("The user name is 3 to 64 letters, digits, dots, dashes or underscores.", field="username")
    if provider == Provider.SMTP:
        if not values["host"]:
            raise InvalidInput("Enter the SMTP server's host name.", field="host")
        values["port"] = values["port"] or "587"
        if not values["port"].isdigit() or not 0 < int(values["port"]) < 65536:
            raise InvalidInput("The port is a number between 1 and 65535.", field="port")
    return values


def _secrets(provider: Provider, raw: dict, kept: dict) -> dict:
    values = dict(kept)
    for name, label in PROVIDER_FIELDS[provider]["secrets"].items():
        typed = str(raw.get(name) or "").strip()
        if typed:
            values[name] = typed[:500]
        elif not values.get(name) and provider in REQUIRED_SECRETS:
            raise InvalidInput(f"Enter the {label} ({REQUIRED_SECRETS[provider]}).", field=name)
    return values


def _name(raw: str) -> str:
    name = (raw or "").strip()
    if not name:
        raise InvalidInput("Give the channel a name, like 'Shop number'.", field="name")
    return name[:80]


def _channel(org_id: int, channel_id: int) -> InboxChannel:
    row = db.session.get(InboxChannel, channel_id)
    if row is None or row.organisation_id != org_id:
        raise NotFound("No such channel in your organisation.")
    return row


def channel_create(*, org_id: int, kind: str, provider: str, name: str, address: str, settings: dict,
                   secrets: dict, hook_url_for: Callable[[str, str], str], by: User | None) -> InboxChannel:
    """Add a number or mailbox; `hook_url_for(token, provider)` is the public address its provider will call."""
    chosen_kind, chosen_provider = _kind_and_provider(kind, provider)
    row = InboxChannel(organisation_id=org_id, kind=chosen_kind, provider=chosen_provider, name=_name(name),
                       address=_address(chosen_kind, address), settings=_settings(chosen_provider, settings),
                       secrets=_secrets(chosen_provider, secrets, {}), active=True, last_test={},
                       hook_token=token_source.token_urlsafe(24))
    row.hook_url = hook_url_for(row.hook_token, chosen_provider.value)[:500]
    db.session.add(row)
    db.session.flush()
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="inbox.channel_create", object_type="inbox_channel",
                 object_id=row.id, after={"kind": chosen_kind.value, "provider": chosen_provider.value,
                                          "name": row.name})
    db.session.commit()
    return row


def channel_update(*, org_id: int, channel_id: int, name: str, address: str, settings: dict, secrets: dict,
                   active: bool, by: User | None) -> InboxChannel:
    """Change a channel; secret fields left blank keep their stored value."""
    row = _channel(org_id, channel_id)
    values = {"name": _name(name), "address": _address(row.kind, address),
              "settings": _settings(row.provider, settings), "secrets": _secrets(row.provider, secrets, row.secrets)}
    changed = sorted(k for k, v in values.items() if v != getattr(row, k)) + (["active"] if active != row.active else [])
    for key, value in values.items():
        setattr(row, key, value)
    row.active, row.updated_at = active, utcnow()
    # Which fields changed, never their values: secrets stay out of the audit log too.
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="inbox.channel_update", object_type="inbox_channel",
                 object_id=row.id, after={"changed": changed})
    publish_after_commit(org_id, CHANNEL_EVENT, {"channel_id": row.id})
    db.session.commit()
    return row


def channel_test_send(*, org_id: int, channel_id: int, to: str, by: User | None) -> InboxChannel:
    """Queue a test message from the channel to a number or address the admin gave."""
    from app.inbox.channels import tasks

    row = _channel(org_id, channel_id)
    try:
        recipient = _address(row.kind, to)
    except InvalidInput as exc:
        raise InvalidInput(exc.message.replace("replies are sent from", "to send the test to"), field="to") from None
    row.last_test = {"at": utcnow().isoformat(), "to": recipient, "status": ReplyStatus.QUEUED.value, "detail": ""}
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="inbox.channel_test", object_type="inbox_channel",
                 object_id=row.id)
    enqueue_after_commit(tasks.channel_test_deliver, row.id, recipient, org_id=org_id, queue="high")
    publish_after_commit(org_id, CHANNEL_EVENT, {"channel_id": row.id})
    db.session.commit()
    return row


def channel_test_record(*, channel_id: int, status: ReplyStatus, detail: str) -> None:
    """Write what the provider said about a test message."""
    row = db.session.get(InboxChannel, channel_id)
    if row is None:
        return
    row.last_test = {**(row.last_test or {}), "status": status.value, "detail": detail[:500],
                     "done_at": utcnow().isoformat()}
    publish_after_commit(row.organisation_id, CHANNEL_EVENT, {"channel_id": row.id})
    db.session.commit()


def conf_of(row: InboxChannel) -> ChannelConf:
    """The channel's plain values (secrets decrypted), for a network call made outside any transaction."""
    return ChannelConf(id=row.id, org_id=row.organisation_id, kind=row.kind.value, provider=row.provider.value,
                       name=row.name, address=row.address, hook_url=row.hook_url, settings=dict(row.settings or {}),
                       secrets=dict(row.secrets or {}))


def channel_by_token(token: str, provider: Provider) -> InboxChannel | None:
    """The active channel a provider's webhook address belongs to."""
    if not token or len(token) > 64:
        return None
    row = db.session.scalar(select(InboxChannel).where(InboxChannel.hook_token == token))
    return row if row is not None and row.active and row.provider == provider else None


def reply_channel(org_id: int, kind: Channel, channel_id: int | None) -> InboxChannel | None:
    """The channel a reply leaves from: the one the customer wrote to, else the organisation's first of that kind."""
    row = db.session.get(InboxChannel, channel_id) if channel_id else None
    if row is not None and row.organisation_id == org_id and row.active and row.provider in SENDING_PROVIDERS:
        return row
    return db.session.scalar(select(InboxChannel).where(
        InboxChannel.organisation_id == org_id, InboxChannel.kind == kind, InboxChannel.active.is_(True),
        InboxChannel.provider.in_(SENDING_PROVIDERS)).order_by(InboxChannel.id))


# --- what providers send -----------------------------------------------------------------------

def inbound_receive(*, channel_id: int, message: Inbound, receipt_digest: str | None = None) -> tuple[Message, bool]:
    """Store a customer's message that arrived on one of the organisation's channels; (message, new)."""
    row = db.session.get(InboxChannel, channel_id)
    return inbox_services.message_receive(
        org_id=row.organisation_id, channel=row.kind, channel_id=row.id, sender=message.sender, body=message.body,
        external_id=message.external_id, subject=message.subject, sender_name=message.sender_name,
        attachments=message.attachments, receipt_digest=receipt_digest)


def status_apply(*, channel_id: int, report: StatusReport) -> bool:
    """Move a reply forward to what the provider reports (never back); False when no reply matches."""
    row = db.session.get(InboxChannel, channel_id)
    # Only replies that left through this channel: another number's callback cannot move them.
    query = select(Message).where(Message.organisation_id == row.organisation_id, Message.direction == Direction.OUT,
                                  Message.channel_id == row.id)
    if report.message_id:
        query = query.where(Message.id == report.message_id)
    else:
        query = query.where(Message.external_id == report.external_id)
    message = db.session.scalar(query)
    if message is None:
        return False
    current = ReplyStatus(message.delivery_status)
    if report.external_id and not message.external_id:
        message.external_id = report.external_id
    if _moves_forward(current, report.status):
        message.delivery_status, message.status_at = report.status, utcnow()
        message.delivery_error = report.error if report.status == ReplyStatus.FAILED else ""
        message.next_attempt_at = None
        publish_after_commit(row.organisation_id, inbox_services.CONVERSATION_EVENT,
                             {"conversation_id": message.conversation_id})
    db.session.commit()
    return True


def _moves_forward(current: ReplyStatus, reported: ReplyStatus) -> bool:
    if reported not in REPLY_RANK or current not in REPLY_RANK or not current.can_become(reported):
        return False
    # A failure reported after "delivered" is a late report of an earlier try: the delivery stands.
    return REPLY_RANK[reported] > REPLY_RANK[current] or (reported == ReplyStatus.FAILED
                                                          and current in (ReplyStatus.QUEUED, ReplyStatus.SENT))


# --- replays of signed bodies without an id ----------------------------------------------------

def body_digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _replay_cutoff() -> datetime:
    return utcnow() - timedelta(seconds=current_app.config["CHANNELS_REPLAY_WINDOW_SECONDS"])


def replayed_message(*, org_id: int, digest: str) -> Message | None | bool:
    """The message a signed body already made within the replay window; False when it is new."""
    receipt = db.session.scalar(select(HookReceipt).where(HookReceipt.organisation_id == org_id,
                                                          HookReceipt.digest == digest))
    if receipt is None or receipt.created_at < _replay_cutoff():
        return False
    return db.session.get(Message, receipt.message_id) if receipt.message_id else None


def receipt_claim(*, org_id: int, digest: str, message: Message) -> None:
    """Remember a signed body with the message it made, in the caller's transaction; a receipt older
    than the replay window gives way. The same body taken at once by two requests: the unique
    (organisation, digest) key fails the second one's flush, and it stores nothing."""
    db.session.execute(delete(HookReceipt).where(
        HookReceipt.organisation_id == org_id, HookReceipt.digest == digest, HookReceipt.created_at < _replay_cutoff())
        .execution_options(synchronize_session=False))
    db.session.add(HookReceipt(organisation_id=org_id, digest=digest, message_id=message.id))
    db.session.flush()


def receipts_prune(*, now: datetime | None = None, batch: int = 5000) -> int:
    """Delete replay receipts past their retention (never within the replay window); how many went."""
    config = current_app.config
    keep = max(timedelta(days=config["CHANNELS_RECEIPT_RETENTION_DAYS"]),
               timedelta(seconds=config["CHANNELS_REPLAY_WINDOW_SECONDS"]))
    cutoff, removed = (now or utcnow()) - keep, 0
    while True:  # in bounded batches, so no delete holds the write lock for long
        ids = select(HookReceipt.id).where(HookReceipt.created_at < cutoff).order_by(HookReceipt.id).limit(batch)
        done = db.session.execute(delete(HookReceipt).where(HookReceipt.id.in_(ids.scalar_subquery()))
                                  .execution_options(synchronize_session=False)).rowcount
        db.session.commit()
        removed += done
        if done < batch:
            return removed


def receipts_sweep() -> bool:
    """The periodic sweep's part: prune receipts at most once an hour per installation; never busy."""
    from app.core.queue import get_redis, key

    if get_redis().set(key("inbox", "receipts-pruned"), "1", nx=True, ex=RECEIPT_PRUNE_SECONDS):
        removed = receipts_prune()
        if removed:
            log.info("inbox: %s hook receipts past retention deleted", removed)
    return False


leases.register_sweeper("hook-receipts", receipts_sweep, every=lambda: float(RECEIPT_PRUNE_SECONDS))
