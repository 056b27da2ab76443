"""Channel reads, scoped to the organisation."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.inbox.channels.models import InboxChannel
from app.inbox.models import Conversation, Message

RECENT_DELIVERIES = 20


def channels(org_id: int) -> list[InboxChannel]:
    return list(db.session.scalars(select(InboxChannel).where(InboxChannel.organisation_id == org_id)
                                   .order_by(InboxChannel.kind, InboxChannel.id)))


def recent_deliveries(org_id: int, channel_id: int | None = None) -> dict[int, list[Message]]:
    """The last 20 messages in and out of each channel (or of one), newest first."""
    rows = channels(org_id) if channel_id is None else [db.session.get(InboxChannel, channel_id)]
    return {row.id: list(db.session.scalars(
        select(Message).where(Message.organisation_id == org_id, Message.channel_id == row.id)
        .options(joinedload(Message.conversation).joinedload(Conversation.customer))
        .order_by(Message.id.desc()).limit(RECENT_DELIVERIES))) for row in rows}
