"""Writes of the attention queue: take an item, put it aside until a time, choose how to hear of
items, read one's alerts. Each is one transaction; open pages re-count after it commits."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update

from app.attention import selectors
from app.attention.models import Alert, AlertSettings, AttentionMark
from app.attention.statuses import CHANNELS, DEFAULT_MODES, MODES
from app.core import attention, audit, http
from app.core.errors import Forbidden, InvalidInput, NotFound
from app.core.events import publish_after_commit
from app.core.models import User, user_id_of, utcnow
from app.extensions import db

MAX_SNOOZE = timedelta(days=90)


def open_entry(by: User, item_key: str) -> selectors.Entry:
    """The open item the person may act on: NotFound when resolved or another organisation's, Forbidden by role."""
    source = attention.source(attention.split_key(item_key)[0])
    if source is not None and not source.visible_to(by):
        raise Forbidden("Your role does not resolve items of this kind.")
    entry = selectors.entry(by, item_key)
    if entry is None:
        raise NotFound("That item is not in your queue any more: it was resolved, or it is not yours to see.")
    return entry


def _mark(org_id: int, kind: str, subject: str) -> AttentionMark:
    mark = db.session.scalar(select(AttentionMark).where(AttentionMark.organisation_id == org_id,
                                                         AttentionMark.kind == kind, AttentionMark.subject == subject))
    if mark is None:
        mark = AttentionMark(organisation_id=org_id, kind=kind, subject=subject)
        db.session.add(mark)
    return mark


def _changed(org_id: int, item_key: str) -> None:
    selectors.forget_counts(org_id)
    publish_after_commit(org_id, attention.EVENT, {"key": item_key})


def item_assign(*, item_key: str, to_me: bool, by: User) -> AttentionMark:
    """Take an open item ("assign to me"), or give it back."""
    entry = open_entry(by, item_key)
    item = entry.item
    mark = _mark(by.organisation_id, item.kind, item.subject)
    before = mark.assigned_to_id
    mark.assigned_to_id, mark.assigned_at = (by.id, utcnow()) if to_me else (None, None)
    audit.record(org_id=by.organisation_id, actor_id=user_id_of(by), action="attention.assign" if to_me
                 else "attention.unassign", object_type="attention_item", object_id=item.key,
                 before={"assigned_to": before}, after={"assigned_to": mark.assigned_to_id})
    _changed(by.organisation_id, item.key)
    db.session.commit()
    return mark


def item_snooze(*, item_key: str, until: datetime | None, by: User) -> AttentionMark:
    """Put an open item aside until `until` (for everyone: it leaves lists and counts), or wake it now."""
    entry = open_entry(by, item_key)
    now = utcnow()
    if until is not None:
        if until.tzinfo is None:
            raise InvalidInput("Give the time with its time zone.", field="until")
        if until <= now:
            raise InvalidInput("Choose a time in the future.", field="until")
        if until - now > MAX_SNOOZE:
            raise InvalidInput(f"Snooze for at most {MAX_SNOOZE.days} days.", field="until")
    item = entry.item
    mark = _mark(by.organisation_id, item.kind, item.subject)
    mark.snoozed_until, mark.snoozed_by_id = until, (by.id if until else None)
    audit.record(org_id=by.organisation_id, actor_id=user_id_of(by), action="attention.snooze",
                 object_type="attention_item", object_id=item.key,
                 after={"until": until.isoformat() if until else None})
    _changed(by.organisation_id, item.key)
    db.session.commit()
    return mark


def modes_for(settings: AlertSettings | None, kind: str) -> dict[str, str]:
    """How the person hears of `kind` on each channel (the defaults where they chose nothing)."""
    chosen = ((settings.channels if settings else None) or {}).get(kind) or {}
    return {channel: chosen.get(channel) if chosen.get(channel) in MODES else DEFAULT_MODES[channel]
            for channel in CHANNELS}


def _webhook_url(raw: str) -> str:
    url = (raw or "").strip()
    if not url:
        return ""
    if len(url) > 500:
        raise InvalidInput("The address is longer than 500 characters.", field="webhook_url")
    refused = http.refusal(url)
    if refused:
        raise InvalidInput(refused, field="webhook_url")
    return url


def settings_set(*, channels: dict[str, dict[str, str]], webhook_url: str, by: User) -> AlertSettings:
    """Save how the person hears of each kind of item, and where their webhook calls go."""
    known = {s.kind for s in attention.sources()}
    chosen = {}
    for kind, modes in (channels or {}).items():
        if kind not in known:
            continue
        for channel, mode in (modes or {}).items():
            if channel not in CHANNELS or mode not in MODES:
                raise InvalidInput(f"Choose one of {', '.join(MODES.values())}.", field=f"{kind}-{channel}")
        chosen[kind] = {c: modes[c] for c in CHANNELS if c in modes}
    url = _webhook_url(webhook_url)
    if url == "" and any(m.get("webhook") in ("now", "digest") for m in chosen.values()):
        raise InvalidInput("Give the webhook's address, or switch the webhook off for every kind.",
                           field="webhook_url")
    settings = selectors.settings_of(by) or AlertSettings(organisation_id=by.organisation_id, user_id=by.id)
    if url and (not settings.webhook_secret or url != settings.webhook_url):
        settings.webhook_secret = secrets.token_urlsafe(32)  # a new address gets a new signing secret
    settings.channels, settings.webhook_url = chosen, url
    db.session.add(settings)
    audit.record(org_id=by.organisation_id, actor_id=user_id_of(by), action="alerts.settings", object_type="user",
                 object_id=by.id, after={"channels": chosen, "webhook_url": url})
    db.session.commit()
    return settings


def alerts_read(*, by: User) -> int:
    """Mark every unread alert of the person as read."""
    result = db.session.execute(update(Alert).where(Alert.user_id == by.id, Alert.read_at.is_(None))
                                .values(read_at=utcnow()), execution_options={"synchronize_session": False})
    publish_after_commit(by.organisation_id, attention.EVENT, {"user_id": by.id})
    db.session.commit()
    return result.rowcount
