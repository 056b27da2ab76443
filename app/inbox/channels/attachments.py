"""A customer's image, sent to the product pipeline in one click.

The file is fetched from where the provider keeps it (Twilio's media URL with the account's
credentials, Meta's media id through the Graph API, a relay's URL as given), at most
CHANNELS_ATTACHMENT_MAX_BYTES, through the outbound guard, and handed to the pipeline's own
upload checks (content, not name; pixel limit). What happened is written on the attachment: the
product made, or why not, and the attachment stays a link either way.
"""
from __future__ import annotations

import io
import json

from flask import current_app

from app.core import audit, http
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.events import publish_after_commit
from app.core.models import User, user_id_of
from app.core.queue import enqueue_after_commit
from app.extensions import db
from app.inbox.channels.base import ChannelConf
from app.inbox.channels.models import InboxChannel, Provider
from app.inbox.models import Direction, Message
from app.inbox.services import CONVERSATION_EVENT


class FetchFailed(Exception):
    """The file could not be fetched; the message says why."""


def _attachment(org_id: int, message_id: int, index: int) -> tuple[Message, dict]:
    message = db.session.get(Message, message_id)
    if message is None or message.organisation_id != org_id or message.direction != Direction.IN:
        raise NotFound("No such message in your organisation.")
    if not 0 <= index < len(message.attachments or []):
        raise NotFound("No such attachment on this message.")
    return message, dict(message.attachments[index])


def _set(message: Message, index: int, **changes) -> None:
    attachments = [dict(a) for a in message.attachments]
    attachments[index] = {**attachments[index], **changes}
    message.attachments = attachments  # a new list, so the JSON column sees the change


def attachment_to_pipeline(*, org_id: int, message_id: int, index: int, by: User | None) -> Message:
    """Queue an image attachment for the product pipeline (downloaded and checked in a job)."""
    from app.inbox.channels.tasks import attachment_pipeline

    message, attachment = _attachment(org_id, message_id, index)
    if not (attachment.get("content_type") or "").startswith("image/"):
        raise InvalidInput("Only images can go to the product pipeline.")
    if (attachment.get("pipeline") or {}).get("status") in ("queued", "done"):
        raise Conflict("This image was already sent to the product pipeline.")
    _set(message, index, pipeline={"status": "queued"})
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="inbox.attachment_to_pipeline",
                 object_type="message", object_id=message.id, after={"attachment": index})
    enqueue_after_commit(attachment_pipeline, message.id, index, user_id_of(by), org_id=org_id, queue="default")
    publish_after_commit(org_id, CONVERSATION_EVENT, {"conversation_id": message.conversation_id})
    db.session.commit()
    return message


def pipeline_run(*, message_id: int, index: int, user_id: int | None) -> None:
    """Fetch the image and create a product from it; the outcome is written on the attachment."""
    from app.inbox.channels import services as channel_services
    from app.pipeline.services import product_create

    message = db.session.get(Message, message_id)
    if message is None or (message.attachments[index].get("pipeline") or {}).get("status") != "queued":
        return
    attachment = dict(message.attachments[index])
    channel = db.session.get(InboxChannel, message.channel_id) if message.channel_id else None
    conf = channel_services.conf_of(channel) if channel is not None else None
    db.session.commit()  # nothing held during the download
    try:
        data = fetch(conf, attachment)
    except FetchFailed as exc:
        return _finish(message_id, index, {"status": "failed", "reason": str(exc)})
    user = db.session.get(User, user_id) if user_id else None
    name = attachment.get("filename") or f"message-{message_id}-{index + 1}"
    result = product_create(org_id=message.organisation_id, by=user, files=[(name, io.BytesIO(data))])
    if result.product is None:
        reason = result.errors[0].reason if result.errors else "the pipeline did not take it"
        return _finish(message_id, index, {"status": "failed", "reason": reason})
    _finish(message_id, index, {"status": "done", "product_id": result.product.id})


def _finish(message_id: int, index: int, outcome: dict) -> None:
    message = db.session.get(Message, message_id)
    _set(message, index, pipeline=outcome)
    publish_after_commit(message.organisation_id, CONVERSATION_EVENT, {"conversation_id": message.conversation_id})
    db.session.commit()


def fetch(conf: ChannelConf | None, attachment: dict) -> bytes:
    """The attachment's bytes from its provider, within the size limit."""
    config = current_app.config
    limit, timeout = config["CHANNELS_ATTACHMENT_MAX_BYTES"], config["CHANNELS_TIMEOUT_SECONDS"]
    if attachment.get("media_id"):
        if conf is None or conf.provider != Provider.META.value:
            raise FetchFailed("the WhatsApp channel this came through is gone")
        meta_url = f"{config['CHANNELS_GRAPH_API_URL'].rstrip('/')}/{attachment['media_id']}"
        info = _get(meta_url, timeout=timeout, limit=65536, bearer=conf.secret("access_token"))
        try:
            url = json.loads(info).get("url")
        except (ValueError, AttributeError):
            url = None
        if not isinstance(url, str):
            raise FetchFailed("WhatsApp did not give the file's address")
        return _get(url, timeout=timeout, limit=limit, bearer=conf.secret("access_token"))
    url = attachment.get("url") or ""
    auth = None
    if conf is not None and conf.provider == Provider.TWILIO.value:
        auth = (conf.setting("account_sid"), conf.secret("auth_token"))  # Twilio media may require the account
    return _get(url, timeout=timeout, limit=limit, auth=auth)


def _get(url: str, *, timeout: float, limit: int, bearer: str | None = None, auth=None) -> bytes:
    if not url:
        raise FetchFailed("the attachment has no address")
    try:
        answer = http.request("GET", url, timeout=timeout, max_bytes=limit, bearer=bearer, auth=auth)
    except http.HttpFailure as exc:
        reason = exc.reason
        if "larger" in reason or "limit" in reason:
            reason = f"the file is larger than {limit // (1024 * 1024)} MB"
        raise FetchFailed(reason) from None
    if answer.status != 200:
        raise FetchFailed(f"the provider answered HTTP {answer.status}")
    return answer.body
