"""A customer's files: every image or PDF a message brings is downloaded, checked and stored, and the
conversation shows it (a thumbnail, a link with name and size, or the reason it was not kept), live.

- `attachments_add` runs inside the transaction that stores the message: one row per file. Bytes
  that came inside the request (e-mail parts from Mailgun, Postmark, a raw message) are stored as
  received; the others (Twilio media URLs, WhatsApp media ids, a relay's links) are fetched later.
  The webhook answers without waiting: a job per file does the rest after the commit.
- `attachment_download` (the job) fetches through the outbound guard at most
  CHANNELS_ATTACHMENT_MAX_BYTES, checks the content (app.inbox.channels.media) and stores it by
  hash. A provider that is down or busy leaves the file pending with the reason and the time of the
  next try (base × 2^(try-1), like replies); a refusal by the provider, or the last try, makes it
  failed, and a person can retry it from the conversation. Too large or not an image or PDF: refused,
  kept as a link with the reason.
- `attachment_to_pipeline` sends a stored image to the product pipeline (from our copy: no second
  download); the product made, or why not, is written on the attachment.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from app.core import audit, storage
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.events import publish_after_commit
from app.core.models import User, user_id_of, utcnow
from app.core.queue import enqueue, enqueue_after_commit, get_queue
from app.extensions import db
from app.inbox.channels import media
from app.inbox.channels.models import InboxChannel
from app.inbox.models import AttachmentStatus, HandoffStatus, Message, MessageAttachment
from app.inbox.services import CONVERSATION_EVENT

log = logging.getLogger(__name__)
# A download whose job was lost (Redis restarted) is queued again by `flask inbox sweep` after this.
LOST_JOB_GRACE = timedelta(minutes=5)
PENDING, STORED, FAILED, REFUSED = (AttachmentStatus.PENDING, AttachmentStatus.STORED, AttachmentStatus.FAILED,
                                    AttachmentStatus.REFUSED)


def _endpoints() -> media.Endpoints:
    config = current_app.config
    return media.Endpoints(limit=config["CHANNELS_ATTACHMENT_MAX_BYTES"], timeout=config["CHANNELS_TIMEOUT_SECONDS"],
                           twilio_api_url=config["CHANNELS_TWILIO_API_URL"],
                           graph_api_url=config["CHANNELS_GRAPH_API_URL"])


def _size(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _new_row(message: Message, position: int, item: dict, limit: int) -> MessageAttachment:
    row = MessageAttachment(organisation_id=message.organisation_id, position=position,
                            filename=str(item.get("filename") or "")[:255],
                            content_type=str(item.get("content_type") or "")[:100],
                            declared_size=_size(item.get("size")), url=str(item.get("url") or "")[:1000],
                            media_id=str(item.get("media_id") or "")[:200], status=PENDING, status_at=utcnow())
    content = item.get("content")
    reason = media.not_kept(row.content_type, row.filename)
    if reason is None and content is None and not (row.url or row.media_id):
        reason = "the provider sent the file's name only, not the file"
    if reason is None and max(len(content or b""), row.declared_size or 0) > limit:
        reason = media.too_large(limit)
    if reason is not None:
        row.status, row.reason = REFUSED, reason
    elif content is not None:
        stored = storage.save_bytes(content)  # as received; checked by the job before it is shown
        row.sha256, row.size_bytes = stored.sha256, stored.size
    if row.status == PENDING:
        row.next_attempt_at = utcnow() + LOST_JOB_GRACE
    return row


def attachments_add(*, message: Message, items: list[dict]) -> list[MessageAttachment]:
    """Attach a new message's files (in the caller's transaction); their downloads are queued after its commit."""
    from app.inbox.channels.tasks import attachment_download

    limit = current_app.config["CHANNELS_ATTACHMENT_MAX_BYTES"]
    rows = [_new_row(message, position, item, limit) for position, item in enumerate(items)]
    message.attachments.extend(rows)
    db.session.flush()
    for row in rows:
        if row.status == PENDING:
            enqueue_after_commit(attachment_download, row.id, org_id=message.organisation_id, queue="default")
    return rows


# --- the download job ------------------------------------------------------------------------------

def attachment_download(*, attachment_id: int) -> None:
    """One try at getting, checking and storing a file; the outcome is written on it and shown live."""
    row = db.session.get(MessageAttachment, attachment_id)
    if row is None or row.status != PENDING:
        return
    channel_id = row.message.channel_id
    channel = db.session.get(InboxChannel, channel_id) if channel_id else None
    from app.inbox.channels.services import conf_of

    conf = conf_of(channel) if channel is not None else None
    source, received, ends = media.Source(row.url, row.media_id, row.content_type), row.sha256, _endpoints()
    db.session.commit()  # no transaction (nor SQLite's write lock) held during the download
    try:
        data = _received_bytes(received) if received else media.fetch(conf, source, ends)
        checked = media.check(data, ends.limit)
    except media.Refused as exc:
        _record(attachment_id, REFUSED, reason=exc.reason, sha256=None)
        return
    except media.FetchFailed as exc:
        log.warning("inbox: attachment %s could not be fetched: %s", attachment_id, exc.reason)
        _record_failure(attachment_id, exc)
        return
    original = storage.save_bytes(data)
    thumb = storage.save_bytes(checked.thumbnail).sha256 if checked.thumbnail else None
    _record(attachment_id, STORED, reason="", sha256=original.sha256, thumb_sha256=thumb, size_bytes=original.size,
            mime=checked.mime, preview=checked.preview, next_attempt_at=None)


def _received_bytes(sha256: str) -> bytes:
    try:
        return storage.open_path(sha256).read_bytes()
    except (FileNotFoundError, ValueError):
        raise media.FetchFailed("the file as received is missing from storage") from None


def _record(attachment_id: int, status: AttachmentStatus, **values) -> None:
    # One statement guarded by the state: of two tries that ran at once, the first to finish is kept.
    moved = db.session.execute(update(MessageAttachment).where(
        MessageAttachment.id == attachment_id, MessageAttachment.status == PENDING)
        .values(attempts=MessageAttachment.attempts + 1, status=status, status_at=utcnow(),
                **{"next_attempt_at": None, **values}).execution_options(synchronize_session=False)).rowcount
    if not moved:  # another try finished first
        db.session.rollback()
        return
    row = db.session.get(MessageAttachment, attachment_id, populate_existing=True)
    publish_after_commit(row.organisation_id, CONVERSATION_EVENT, {"conversation_id": row.message.conversation_id})
    db.session.commit()


def _record_failure(attachment_id: int, failure: media.FetchFailed) -> None:
    row = db.session.get(MessageAttachment, attachment_id)
    if row is None or row.status != PENDING:
        return
    tries = row.attempts + 1
    if not failure.retryable or tries >= current_app.config["CHANNELS_MAX_ATTEMPTS"]:
        _record(attachment_id, FAILED, reason=failure.reason)
        return
    delay = current_app.config["CHANNELS_RETRY_BASE_SECONDS"] * 2 ** (tries - 1)
    org_id = row.organisation_id
    _record(attachment_id, PENDING, reason=f"Try {tries} failed: {failure.reason}. Trying again.",
            next_attempt_at=utcnow() + timedelta(seconds=delay))
    _schedule(attachment_id, org_id, delay)


def _schedule(attachment_id: int, org_id: int, delay: float) -> None:
    from app.inbox.channels.tasks import attachment_download as job

    if delay <= 0:
        enqueue(job, attachment_id, org_id=org_id, queue="default")
    else:
        get_queue("default").enqueue_in(timedelta(seconds=delay), job, attachment_id,
                                        meta={"organisation_id": org_id})


def downloads_due(limit: int = 500) -> list[tuple[int, int]]:
    """(attachment id, organisation id) of pending downloads whose next try is due (their job may be lost)."""
    return list(db.session.execute(select(MessageAttachment.id, MessageAttachment.organisation_id).where(
        MessageAttachment.status == PENDING, MessageAttachment.next_attempt_at <= utcnow()).limit(limit)).all())


# --- what people do on the conversation -------------------------------------------------------------

def _attachment(org_id: int, attachment_id: int) -> MessageAttachment:
    row = db.session.get(MessageAttachment, attachment_id)
    if row is None or row.organisation_id != org_id:
        raise NotFound("No such attachment in your organisation.")
    return row


def attachment_retry(*, org_id: int, attachment_id: int, by: User | None) -> MessageAttachment:
    """Download a file whose download failed once more."""
    from app.inbox.channels.tasks import attachment_download as job

    row = _attachment(org_id, attachment_id)
    moved = db.session.execute(update(MessageAttachment).where(
        MessageAttachment.id == row.id, MessageAttachment.status.in_(AttachmentStatus.group("retryable")))
        .values(status=PENDING, attempts=0, reason="", status_at=utcnow(), next_attempt_at=utcnow() + LOST_JOB_GRACE)
        .execution_options(synchronize_session=False)).rowcount
    if not moved:
        db.session.rollback()
        raise Conflict("This file is not waiting for a retry any more.")
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="inbox.attachment_retry",
                 object_type="message_attachment", object_id=row.id)
    enqueue_after_commit(job, row.id, org_id=org_id, queue="default")
    publish_after_commit(org_id, CONVERSATION_EVENT, {"conversation_id": row.message.conversation_id})
    db.session.commit()
    db.session.refresh(row)
    return row


def attachment_to_pipeline(*, org_id: int, attachment_id: int, by: User | None) -> MessageAttachment:
    """Queue a stored image for the product pipeline (the job hands it our copy)."""
    from app.inbox.channels.tasks import attachment_handoff

    row = _attachment(org_id, attachment_id)
    if row.status == STORED and not row.is_image:
        raise InvalidInput("Only images can go to the product pipeline.")
    if row.status != STORED:
        raise Conflict("Only a stored image can go to the product pipeline: this file is "
                       f"{row.status.label.rstrip('…')}.")
    if not row.handoff.can_become(HandoffStatus.QUEUED):
        raise Conflict("This image was already sent to the product pipeline.")
    row.handoff, row.handoff_reason = HandoffStatus.QUEUED, ""
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="inbox.attachment_to_pipeline",
                 object_type="message_attachment", object_id=row.id)
    enqueue_after_commit(attachment_handoff, row.id, user_id_of(by), org_id=org_id, queue="default")
    publish_after_commit(org_id, CONVERSATION_EVENT, {"conversation_id": row.message.conversation_id})
    db.session.commit()
    return row


def handoff_run(*, attachment_id: int, user_id: int | None) -> None:
    """Create a product from the stored image; the outcome is written on the attachment."""
    from app.pipeline.services import product_create

    row = db.session.get(MessageAttachment, attachment_id)
    if row is None or row.handoff != HandoffStatus.QUEUED:
        return
    org_id, name = row.organisation_id, row.filename or f"message-{row.message_id}-{row.position + 1}"
    try:
        path = storage.open_path(row.sha256 or "")
    except (FileNotFoundError, ValueError):
        return _handoff_finish(attachment_id, HandoffStatus.FAILED, reason="the stored file is missing")
    user = db.session.get(User, user_id) if user_id else None
    with open(path, "rb") as stream:
        result = product_create(org_id=org_id, by=user, files=[(name, stream)])
    if result.product is None:
        reason = result.errors[0].reason if result.errors else "the pipeline did not take it"
        return _handoff_finish(attachment_id, HandoffStatus.FAILED, reason=reason)
    _handoff_finish(attachment_id, HandoffStatus.DONE, product_id=result.product.id)


def _handoff_finish(attachment_id: int, status: HandoffStatus, *, reason: str = "",
                    product_id: int | None = None) -> None:
    row = db.session.get(MessageAttachment, attachment_id)
    row.handoff, row.handoff_reason, row.product_id = status, reason[:1000], product_id
    publish_after_commit(row.organisation_id, CONVERSATION_EVENT, {"conversation_id": row.message.conversation_id})
    db.session.commit()


def stored_file(row: MessageAttachment, *, thumbnail: bool = False):
    """(path, mimetype) of a stored attachment or its thumbnail; None when there is none."""
    sha = row.thumb_sha256 if thumbnail else row.sha256
    if row.status != STORED or not sha:
        return None
    try:
        return storage.open_path(sha), "image/jpeg" if thumbnail else (row.mime or "application/octet-stream")
    except (FileNotFoundError, ValueError):
        return None
