"""The interface domains use to put "needs a person" items in the one attention queue.

The core knows no domain: each domain registers a *source* of items from its own module (listed
in `app.attention_modules`), the way sweepers register in app.core.leases. Items are computed
from the domain's own state whenever they are asked for, never stored: an item is there while
its row says it needs a person (a product in review, a batch that ended with failed rows) and
is gone the moment the row is resolved, wherever that happened. Only assignment and snoozing
are stored, beside the queue (app.attention).

A source answers four questions for one organisation, each bounded and meant to be one indexed
query:

    count(org_id) -> int                                   how many items are open
    items(org_id, limit, offset, exclude) -> [Item]        the open items, most urgent first
    find(org_id, subjects) -> [Item]                       those of `subjects` still open
    conditions(org_id) -> set[str]                         subjects that are "on", for alerts

`conditions` is usually the subjects of the open items; a source may alert on finer conditions
than it lists (the AI budget lists one item but alerts at 50, 80 and 100 %). Most sources are a
query over one table: `register_query_source` derives all four from one SELECT.

`events` name the live events (app.core.events) after which the source's count may have changed;
open pages re-count when one arrives, and every 60 s for what changes with time alone.
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func

from app.core.models import Role
from app.extensions import db

LEVELS = ("info", "warning", "error")
CONDITIONS_CAP = 100_000  # subjects one source may report as "on" at once
EVENT = "attention-changed"  # published when an assignment, a snooze or an alert changes


@dataclass(frozen=True)
class Item:
    """One thing a person should look at: what, why, and where it is resolved."""

    kind: str
    subject: str  # unique within the kind and the organisation (a row id, "2026-12:80")
    title: str
    why: str
    endpoint: str  # where it is resolved: url_for(endpoint, **args)
    args: dict = field(default_factory=dict)
    since: datetime | None = None
    level: str = "warning"

    @property
    def key(self) -> str:
        return f"{self.kind}.{self.subject}"


@dataclass(frozen=True)
class Source:
    kind: str
    label: str  # "Products waiting for review"
    roles: tuple[Role, ...]  # who resolves these (admins always)
    count: Callable[[int], int]
    items: Callable[..., list[Item]]
    find: Callable[[int, Collection[str]], list[Item]]
    conditions: Callable[[int], set[str]]
    events: tuple[str, ...] = ()  # hx-trigger event specs, e.g. "product-changed"
    order: int = 100

    def visible_to(self, user) -> bool:
        return user.has_role(*self.roles)


_sources: dict[str, Source] = {}


def register_source(kind: str, *, label: str, roles: Iterable[str | Role], count: Callable[[int], int],
                    items: Callable[..., list[Item]], find: Callable[[int, Collection[str]], list[Item]],
                    conditions: Callable[[int], set[str]] | None = None, events: Iterable[str] = (),
                    order: int = 100) -> Source:
    """Add a source of attention items of `kind` (a short identifier: letters, digits, underscores)."""
    if not kind.replace("_", "").isalnum() or not kind.islower():
        raise ValueError(f"attention kind {kind!r}: use lower-case letters, digits and underscores")

    def _subjects(org_id: int) -> set[str]:
        return {i.subject for i in items(org_id, limit=CONDITIONS_CAP, offset=0, exclude=())}

    source = Source(kind, label, tuple(Role(r) for r in roles), count, items, find, conditions or _subjects,
                    tuple(events), order)
    _sources[kind] = source
    return source


def register_query_source(kind: str, *, label: str, roles: Iterable[str | Role], rows: Callable[[int], Select],
                          id_column, order_by: Iterable, item: Callable[[Any], Item], options: Iterable = (),
                          events: Iterable[str] = (), order: int = 100) -> Source:
    """A source whose items are the rows of one SELECT (`rows(org_id)`), keyed by an integer id column.

    `rows` must be org-scoped and should be served by an index; `item(row)` turns a row into an Item
    whose subject is str(id). `options` (eager loads for `item`) apply to the listed rows only."""
    order_by, options = tuple(order_by), tuple(options)

    def count(org_id: int) -> int:
        return db.session.scalar(rows(org_id).with_only_columns(func.count(), maintain_column_froms=True).order_by(None)) or 0

    def items(org_id: int, *, limit: int, offset: int = 0, exclude: Collection[str] = ()) -> list[Item]:
        query = rows(org_id)
        skip = int_ids(exclude)
        if skip:
            query = query.where(id_column.not_in(skip))
        return [item(r) for r in db.session.scalars(query.options(*options).order_by(*order_by)
                                                    .limit(limit).offset(offset))]

    def find(org_id: int, subjects: Collection[str]) -> list[Item]:
        wanted = int_ids(subjects)
        if not wanted:
            return []
        query = rows(org_id).where(id_column.in_(wanted)).options(*options).order_by(*order_by)
        return [item(r) for r in db.session.scalars(query)]

    def conditions(org_id: int) -> set[str]:
        query = rows(org_id).with_only_columns(id_column, maintain_column_froms=True).order_by(None).limit(CONDITIONS_CAP)
        return {str(i) for i in db.session.scalars(query)}

    return register_source(kind, label=label, roles=roles, count=count, items=items, find=find,
                           conditions=conditions, events=events, order=order)


def int_ids(subjects: Collection[str]) -> list[int]:
    """The subjects that are row ids (anything else names no row)."""
    return sorted({int(s) for s in subjects if isinstance(s, str) and s.isdigit() and len(s) < 19})


def sources() -> list[Source]:
    """Every registered source, in queue order."""
    return sorted(_sources.values(), key=lambda s: (s.order, s.kind))


def source(kind: str) -> Source | None:
    return _sources.get(kind)


def sources_for(user) -> list[Source]:
    """The sources whose items this person resolves (admins see every source)."""
    return [s for s in sources() if s.visible_to(user)]


def split_key(key: str) -> tuple[str, str]:
    """"product_review.12" → ("product_review", "12"); ("", "") when it is not a key."""
    kind, _, subject = (key or "").partition(".")
    return (kind, subject) if kind and subject else ("", "")


def unregister_source(kind: str) -> None:
    """Tests only."""
    _sources.pop(kind, None)
