"""Reads of the attention queue: counts per kind, the queue page, a person's alerts and deliveries.

Items come from the registered sources (app.core.attention), each one bounded, indexed query;
snoozed items are left out of lists and counts, and assignments are shown beside the items.
Counts are kept in Redis for a short while and tagged with the organisation's last live event,
so a burst of open tabs re-counting after one event costs one count, and any later event
(something changed) or COUNTS_TTL seconds (things that change with time alone) start afresh.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.attention.models import Alert, AlertDelivery, AlertSettings, AttentionMark
from app.core import attention
from app.core.attention import Item, Source
from app.core.events import last_event_key
from app.core.models import Role, User, utcnow
from app.core.pagination import Page
from app.core.queue import get_redis, key
from app.extensions import db

log = logging.getLogger(__name__)
PER_PAGE = 50
SECTION_SIZE = 8  # items per kind when every kind is shown
MARKS_CAP = 2000  # snoozes and assignments looked at per organisation
COUNTS_TTL = 20


@dataclass(frozen=True)
class Entry:
    """An item as the queue shows it: with its source and whatever people added to it."""

    item: Item
    source: Source
    mark: AttentionMark | None = None

    @property
    def assigned_to(self) -> User | None:
        return self.mark.assigned_to if self.mark is not None else None


def _marks(org_id: int) -> list[AttentionMark]:
    """The organisation's assignments and snoozes, with who took each (shown beside the items)."""
    return list(db.session.scalars(select(AttentionMark).where(AttentionMark.organisation_id == org_id)
                                   .options(selectinload(AttentionMark.assigned_to))
                                   .order_by(AttentionMark.id.desc()).limit(MARKS_CAP)))


def snoozed(org_id: int, now: datetime | None = None) -> dict[str, set[str]]:
    """{kind: subjects snoozed until a later time}."""
    now = now or utcnow()
    rows = db.session.execute(select(AttentionMark.kind, AttentionMark.subject).where(
        AttentionMark.organisation_id == org_id, AttentionMark.snoozed_until > now).limit(MARKS_CAP))
    found: dict[str, set[str]] = {}
    for kind, subject in rows:
        found.setdefault(kind, set()).add(subject)
    return found


UNKNOWN = -1  # the source could not answer: pages say so instead of showing a number


def _count_all(org_id: int) -> dict[str, int]:
    asleep = snoozed(org_id)
    counts = {}
    for source in attention.sources():
        hidden = asleep.get(source.kind)
        try:
            counts[source.kind] = max(0, source.count(org_id) - (len(source.find(org_id, hidden)) if hidden else 0))
        except Exception:  # one domain's store being down must not take the whole queue with it
            log.exception("attention source %s could not count for organisation %s", source.kind, org_id)
            db.session.rollback()
            counts[source.kind] = UNKNOWN
    return counts


def counts(org_id: int) -> dict[str, int]:
    """Open items per kind (snoozed ones left out), for every registered kind."""
    redis = get_redis()
    cache, stamp = key("attention", "counts", org_id), redis.get(last_event_key(org_id))
    stamp = stamp.decode() if stamp else ""
    cached = redis.get(cache)
    if cached:
        data = json.loads(cached)
        if data.get("stamp") == stamp:
            return data["counts"]
    found = _count_all(org_id)
    redis.set(cache, json.dumps({"stamp": stamp, "counts": found}), ex=COUNTS_TTL)
    return found


def forget_counts(org_id: int) -> None:
    """Count afresh next time (after a change that publishes no event of its own)."""
    get_redis().delete(key("attention", "counts", org_id))


def unread_alerts(user: User) -> int:
    return db.session.scalar(select(func.count(Alert.id)).where(Alert.user_id == user.id,
                                                                Alert.read_at.is_(None))) or 0


def badge(user: User) -> dict:
    """The top bar's figures for one person: open items of the kinds they resolve, unread alerts."""
    found = counts(user.organisation_id)
    mine = [found.get(s.kind, 0) for s in attention.sources_for(user)]
    return {"total": sum(c for c in mine if c > 0), "unknown": UNKNOWN in mine, "alerts": unread_alerts(user)}


@dataclass(frozen=True)
class Filters:
    kind: str = ""
    role: str = ""
    mine: bool = False
    page: int = 1

    @classmethod
    def from_args(cls, args) -> Filters:
        """Read filters from a query string; unknown values are ignored rather than refused."""
        kind = args.get("kind", "")
        role = args.get("role", "")
        try:
            page = max(1, min(int(args.get("page", 1)), 10_000))
        except (TypeError, ValueError):
            page = 1
        return cls(kind=kind if attention.source(kind) else "", role=role if role in {r.value for r in Role} else "",
                   mine=args.get("mine") in ("1", "on", "true"), page=page)

    def as_args(self, **changes) -> dict:
        values = {"kind": self.kind, "role": self.role, "mine": "1" if self.mine else "", **changes}
        return {k: v for k, v in values.items() if v}


def sources_shown(user: User, filters: Filters) -> list[Source]:
    shown = attention.sources_for(user)
    if filters.role:
        shown = [s for s in shown if Role(filters.role) in s.roles]
    if filters.kind:
        shown = [s for s in shown if s.kind == filters.kind]
    return shown


def _entries(items: Iterable[Item], marks: dict[str, AttentionMark], by_kind: dict[str, Source]) -> list[Entry]:
    return [Entry(i, by_kind[i.kind], marks.get(i.key)) for i in items]


def queue(user: User, filters: Filters) -> dict:
    """The queue as one person sees it: one section per kind (one paged list when a kind is chosen)."""
    org_id = user.organisation_id
    marks = {m.key: m for m in _marks(org_id)}
    asleep = snoozed(org_id)
    all_counts = counts(org_id)
    visible = attention.sources_for(user)
    shown = sources_shown(user, filters)
    by_kind = {s.kind: s for s in visible}
    sections, page = [], None
    unavailable = [s.label for s in shown if all_counts.get(s.kind, 0) == UNKNOWN]
    shown = [s for s in shown if all_counts.get(s.kind, 0) != UNKNOWN]
    if filters.mine:
        mine = [m for m in marks.values() if m.assigned_to_id == user.id]
        for source in shown:
            subjects = {m.subject for m in mine if m.kind == source.kind}
            items = source.find(org_id, subjects) if subjects else []
            if items:
                sections.append({"source": source, "count": len(items), "entries": _entries(items, marks, by_kind)})
    elif filters.kind and shown:
        source = shown[0]
        total = all_counts.get(source.kind, 0)
        items = source.items(org_id, limit=PER_PAGE, offset=(filters.page - 1) * PER_PAGE,
                             exclude=asleep.get(source.kind, set()))
        page = Page(items, filters.page, PER_PAGE, total)
        sections.append({"source": source, "count": total, "entries": _entries(items, marks, by_kind)})
    else:
        for source in shown:
            total = all_counts.get(source.kind, 0)
            if not total:
                continue
            items = source.items(org_id, limit=SECTION_SIZE, offset=0, exclude=asleep.get(source.kind, set()))
            sections.append({"source": source, "count": total, "entries": _entries(items, marks, by_kind)})
    chips = [{"source": s, "count": all_counts.get(s.kind, 0)} for s in visible]
    asleep_count = sum(len(v) for k, v in asleep.items() if k in by_kind)
    return {"sections": sections, "page": page, "chips": chips, "snoozed": asleep_count, "unavailable": unavailable,
            "total": sum(c["count"] for c in chips if c["count"] > 0), "roles": [r for r in Role if r != Role.ADMIN or user.has_role(r)]}


def entry(user: User, item_key: str) -> Entry | None:
    """One open item the person may act on, with its mark; None when it is resolved or not theirs."""
    kind, subject = attention.split_key(item_key)
    source = attention.source(kind)
    if source is None or not source.visible_to(user):
        return None
    found = source.find(user.organisation_id, [subject])
    if not found:
        return None
    mark = db.session.scalar(select(AttentionMark).where(
        AttentionMark.organisation_id == user.organisation_id, AttentionMark.kind == kind,
        AttentionMark.subject == subject))
    return Entry(found[0], source, mark)


def settings_of(user: User) -> AlertSettings | None:
    return db.session.scalar(select(AlertSettings).where(AlertSettings.user_id == user.id))


def alerts_page(user: User, page: int = 1, per_page: int = 30) -> Page:
    """One person's in-app alerts, newest first."""
    query = select(Alert).where(Alert.user_id == user.id)
    total = db.session.scalar(query.with_only_columns(func.count(Alert.id))) or 0
    rows = db.session.scalars(query.order_by(Alert.id.desc()).limit(per_page).offset((page - 1) * per_page))
    return Page(list(rows), page, per_page, total)


def deliveries(user: User, limit: int = 20) -> list[AlertDelivery]:
    """The person's latest e-mails and webhook calls, with their status (the local outbox included)."""
    return list(db.session.scalars(select(AlertDelivery).where(AlertDelivery.user_id == user.id)
                                   .order_by(AlertDelivery.id.desc()).limit(limit)))


def open_items(user: User, *, kind: str = "", mine: bool = False, offset: int = 0,
               limit: int = PER_PAGE) -> tuple[list[Entry], int | None, list[str]]:
    """The person's open items as one list, kind after kind in queue order (snoozed ones left out,
    except among their own): one window of it, the offset of the next window (None at the end), and
    the kinds whose source could not answer."""
    org_id = user.organisation_id
    marks = {m.key: m for m in _marks(org_id)}
    by_kind = {s.kind: s for s in attention.sources_for(user)}
    found = counts(org_id)
    shown = [s for s in by_kind.values() if not kind or s.kind == kind]
    unavailable = [s.kind for s in shown if found.get(s.kind, 0) == UNKNOWN]
    shown = [s for s in shown if found.get(s.kind, 0) != UNKNOWN]
    if mine:
        taken = [m for m in marks.values() if m.assigned_to_id == user.id]
        window = []
        for source in shown:
            subjects = {m.subject for m in taken if m.kind == source.kind}
            window += source.find(org_id, subjects) if subjects else []
        window = window[offset:offset + limit + 1]
    else:
        window, skip, asleep = [], offset, snoozed(org_id)
        for source in shown:
            total = found.get(source.kind, 0)
            if skip >= total:
                skip -= total
                continue
            window += source.items(org_id, limit=limit + 1 - len(window), offset=skip,
                                   exclude=asleep.get(source.kind, set()))
            skip = 0
            if len(window) > limit:
                break
    more = len(window) > limit
    return _entries(window[:limit], marks, by_kind), (offset + limit if more else None), unavailable
