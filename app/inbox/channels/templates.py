"""WhatsApp message templates: what an organisation had approved by Meta, registered per WhatsApp
Cloud API channel by an admin, and sent by staff when the 24-hour customer-service window is closed.

Meta checks the template itself (name, language, parameter count) when it is sent; what is typed
here is checked only as far as Meta's published rules go, and Meta's refusal (132001 and friends)
is shown on the reply in its own words.
"""
from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.core import audit
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.events import publish_after_commit
from app.core.models import User, user_id_of
from app.extensions import db
from app.inbox import services as inbox_services
from app.inbox.channels.models import InboxChannel, WhatsAppTemplate
from app.inbox.channels.services import CHANNEL_EVENT, reply_channel
from app.inbox.models import Channel, Conversation, Message

NAME = re.compile(r"^[a-z0-9_]{1,512}$")  # Meta: lower-case letters, digits and underscores
LANGUAGE = re.compile(r"^[a-z]{2,3}(?:_[A-Z]{2}|_[A-Z][a-z]{3})?$")  # en, en_US, zh_Hant
PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")
MAX_PARAMS = 20
MAX_PARAM_LENGTH = 1024
# Meta refuses a body parameter with a new line, a tab or more than four spaces in a row (132018).
BAD_PARAM = re.compile(r"[\n\r\t]| {5,}")


def _channel(org_id: int, channel_id: int) -> InboxChannel:
    row = db.session.get(InboxChannel, channel_id)
    if row is None or row.organisation_id != org_id:
        raise NotFound("No such channel in your organisation.")
    if not row.takes_templates:
        raise Conflict("Message templates are sent through the WhatsApp Cloud API (Meta) only.")
    return row


def _count(raw) -> int:
    try:
        count = int(str(raw).strip() or "0")
    except ValueError:
        raise InvalidInput("The number of body parameters is a whole number, like 2.", field="body_params") from None
    if not 0 <= count <= MAX_PARAMS:
        raise InvalidInput(f"A template has between 0 and {MAX_PARAMS} body parameters.", field="body_params")
    return count


def _preview(raw: str, count: int) -> str:
    preview = (raw or "").strip()
    if not preview:
        raise InvalidInput("Paste the template's body text, with {{1}}, {{2}}… where the parameters go.",
                           field="preview")
    found = sorted({int(n) for n in PLACEHOLDER.findall(preview)})
    if found != list(range(1, count + 1)):
        wanted = ", ".join(f"{{{{{n}}}}}" for n in range(1, count + 1)) or "none"
        raise InvalidInput(f"The body text must name each parameter once in turn ({wanted}) to match "
                           f"{count} parameter{'s' if count != 1 else ''}.", field="preview")
    return preview[:4000]


def template_add(*, org_id: int, channel_id: int, name: str, language: str, body_params, preview: str,
                 by: User | None) -> WhatsAppTemplate:
    """Register a template approved at Meta on a WhatsApp Cloud API channel."""
    row = _channel(org_id, channel_id)
    name, language = (name or "").strip(), (language or "").strip()
    if not NAME.match(name):
        raise InvalidInput("The name is the template's name in WhatsApp Manager: lower-case letters, digits and "
                           "underscores, like order_update.", field="name")
    if not LANGUAGE.match(language):
        raise InvalidInput("The language code is the one in WhatsApp Manager, like en, en_US or pt_BR.",
                           field="language")
    count = _count(body_params)
    template = WhatsAppTemplate(organisation_id=org_id, channel=row, name=name, language=language,
                                body_params=count, preview=_preview(preview, count))
    db.session.add(template)
    try:
        db.session.flush()
    except IntegrityError:  # the unique (channel, name, language) decides, however many admins click
        db.session.rollback()
        raise InvalidInput(f"{name} ({language}) is already registered on this channel.", field="name") from None
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="inbox.template_add", object_type="inbox_channel",
                 object_id=row.id, after={"template": name, "language": language, "body_params": count})
    publish_after_commit(org_id, CHANNEL_EVENT, {"channel_id": row.id})
    db.session.commit()
    return template


def template_remove(*, org_id: int, template_id: int, by: User | None) -> InboxChannel:
    """Forget a template (replies already sent with it keep their text)."""
    template = db.session.get(WhatsAppTemplate, template_id)
    if template is None or template.organisation_id != org_id:
        raise NotFound("No such template in your organisation.")
    row = template.channel
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="inbox.template_remove",
                 object_type="inbox_channel", object_id=row.id,
                 after={"template": template.name, "language": template.language})
    db.session.delete(template)
    publish_after_commit(org_id, CHANNEL_EVENT, {"channel_id": row.id})
    db.session.commit()
    return row


def templates_for(conversation: Conversation) -> list[WhatsAppTemplate]:
    """The templates a reply on this conversation can be sent as: those of the channel it would leave from."""
    if conversation.channel != Channel.WHATSAPP:
        return []
    row = reply_channel(conversation.organisation_id, conversation.channel, conversation.channel_id)
    if row is None or not row.takes_templates:
        return []
    return list(db.session.scalars(select(WhatsAppTemplate).where(WhatsAppTemplate.channel_id == row.id)
                                   .order_by(WhatsAppTemplate.name, WhatsAppTemplate.language)))


def _params(template: WhatsAppTemplate, raw: list[str]) -> list[str]:
    values = [(v or "").strip() for v in raw[:template.body_params]]
    values += [""] * (template.body_params - len(values))
    for number, value in enumerate(values, start=1):
        if not value:
            raise InvalidInput(f"Fill in parameter {{{{{number}}}}}.", field=f"param-{number}")
        if len(value) > MAX_PARAM_LENGTH:
            raise InvalidInput(f"Parameter {{{{{number}}}}} is limited to {MAX_PARAM_LENGTH:,} characters.",
                               field=f"param-{number}")
        if BAD_PARAM.search(value):
            raise InvalidInput(f"Parameter {{{{{number}}}}} cannot hold a new line, a tab or more than four spaces "
                               "in a row (WhatsApp refuses them).", field=f"param-{number}")
    return values


def filled(preview: str, params: list[str]) -> str:
    """The preview with its placeholders replaced: what the customer will read."""
    return PLACEHOLDER.sub(lambda m: params[int(m.group(1)) - 1] if 0 < int(m.group(1)) <= len(params)
                           else m.group(), preview)


def template_reply_send(*, org_id: int, conversation_id: int, template_id, params: list[str],
                        by: User | None) -> Message:
    """Queue a template message to the customer (allowed inside and outside the 24-hour window)."""
    conversation = inbox_services.reply_conversation(org_id, conversation_id)
    available = {t.id: t for t in templates_for(conversation)}
    try:
        template = available.get(int(template_id))
    except (TypeError, ValueError):
        template = None
    if template is None:
        raise InvalidInput("Choose one of the templates of the channel this conversation replies from.",
                           field="template_id")
    values = _params(template, params)
    return inbox_services.reply_queue(
        conversation, filled(template.preview, values), by=by, channel_id=template.channel_id,
        template={"name": template.name, "language": template.language, "params": values})
