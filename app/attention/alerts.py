"""Alerts that reach people once: conditions switch on and off, and only switching on alerts.

`evaluate(org_id)` asks every attention source which of its conditions are on now (a product in
review, an item at its reorder point, the AI budget past 50/80/100 %, backups older than 26 h…)
and compares with the conditions stored as on. Conditions that went off are switched off (and
their assignments and snoozes dropped: the item was resolved). Conditions that came on are
switched on by one statement per batch,

    INSERT … ON CONFLICT (organisation_id, kind, subject)
           DO UPDATE SET active = true, … WHERE alert_conditions.active = false
    RETURNING subject

which returns a subject only to the evaluator that really switched it on: a second evaluator at
the same moment finds the row on (PostgreSQL waits for the first one's commit; SQLite's write
lock serialises the two) and gets nothing back. That evaluator, and only it, writes the alerts in
the same transaction: one in-app alert, e-mail or webhook call per person and kind per
evaluation, for the people who want that kind "at once". E-mails and webhook calls are sent by
jobs after the commit (app.attention.delivery), so a slow or failing channel never holds up the
evaluation or the work that raised the condition. A condition stays on however often it is seen
again (a thousand AI calls past 80 % are one alert) until it goes off and comes on again.

`digest_run(slot)` sends each person, once per day and channel, the conditions that started in
the last day for the kinds they want "in the daily digest", with the open counts.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Iterable
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from app.attention import selectors
from app.attention.models import Alert, AlertCondition, AlertDelivery, AlertSettings, AttentionMark
from app.attention.services import modes_for
from app.attention.statuses import DeliveryStatus
from app.core import attention
from app.core.attention import Item, Source
from app.core.database import write_intent
from app.core.events import publish_after_commit
from app.core.models import Organisation, User, utcnow
from app.core.queue import enqueue_after_commit, get_redis, key
from app.extensions import db

log = logging.getLogger(__name__)
DETAIL_CAP = 200  # conditions described (title, why, link) per kind and evaluation
LINES_CAP = 20  # items listed in one alert; the rest are counted
CHUNK = 500


# --- links ---------------------------------------------------------------------------------------

def path_of(item: Item) -> str:
    """The item's page as a path ("/review/?product=12"), outside a request too."""
    return current_app.url_map.bind("localhost").build(item.endpoint, item.args)


def absolute(path: str) -> str:
    """A link for e-mails and webhooks (ALERTS_BASE_URL + path)."""
    return current_app.config["ALERTS_BASE_URL"].rstrip("/") + path


def todo_path(kind: str = "") -> str:
    return current_app.url_map.bind("localhost").build("attention.todo", {"kind": kind} if kind else {})


# --- evaluation ----------------------------------------------------------------------------------

def evaluate_all(now: datetime | None = None) -> dict[int, int]:
    """Evaluate every organisation: {organisation id: conditions that started}."""
    report = {}
    for org_id in db.session.scalars(select(Organisation.id).order_by(Organisation.id)).all():
        try:
            report[org_id] = len(evaluate(org_id=org_id, now=now))
        except Exception:  # one organisation's failure must not stop the others' alerts
            log.exception("alert evaluation of organisation %s failed", org_id)
            db.session.rollback()
    return report


def evaluate(*, org_id: int, kinds: Collection[str] | None = None, now: datetime | None = None,
             lock: bool = True) -> list[str]:
    """Switch conditions on and off for one organisation and alert on those that came on: their keys.

    With `lock`, an evaluation already running for the organisation (another worker) makes this one
    return at once; correctness does not depend on it (see the module's docstring)."""
    token = uuid.uuid4().hex
    name = key("alerts", "evaluating", org_id)
    if lock and not get_redis().set(name, token, nx=True, ex=current_app.config["ALERTS_LOCK_SECONDS"]):
        return []
    try:
        started = []
        for source in attention.sources():
            if kinds is not None and source.kind not in kinds:
                continue
            try:
                started += _evaluate_source(org_id, source, now or utcnow())
            except Exception:  # one source's failure (Redis, a backup folder) must not silence the others
                log.exception("alert evaluation of %s for organisation %s failed", source.kind, org_id)
                db.session.rollback()
        return started
    finally:
        if lock and get_redis().get(name) == token.encode():
            get_redis().delete(name)


def _evaluate_source(org_id: int, source: Source, now: datetime) -> list[str]:
    current = source.conditions(org_id)
    active = dict(db.session.execute(select(AlertCondition.subject, AlertCondition.id).where(
        AlertCondition.organisation_id == org_id, AlertCondition.kind == source.kind,
        AlertCondition.active.is_(True))).all())
    new = sorted(current - active.keys())
    gone = [active[s] for s in active.keys() - current]
    details = {i.subject: i for i in source.find(org_id, new[:DETAIL_CAP])} if new else {}
    stale_marks = _stale_marks(org_id, source)
    db.session.commit()  # the reads end here: no transaction is held while deciding
    if not (new or gone or stale_marks):
        return []
    with write_intent():
        _switch_off(gone, now)
        if stale_marks:
            db.session.execute(delete(AttentionMark).where(AttentionMark.id.in_(stale_marks)))
        won = _switch_on(org_id, source.kind, new, details, now)
        if won:
            _alert(org_id, source, [details.get(s) or _unnamed(source, s) for s in won], len(won))
        if won or gone:
            selectors.forget_counts(org_id)
            publish_after_commit(org_id, attention.EVENT, {"kind": source.kind})
        db.session.commit()
    return [f"{source.kind}.{s}" for s in won]


def _stale_marks(org_id: int, source: Source) -> list[int]:
    """Assignments and snoozes of items that are resolved (not open any more)."""
    marks = dict(db.session.execute(select(AttentionMark.subject, AttentionMark.id).where(
        AttentionMark.organisation_id == org_id, AttentionMark.kind == source.kind)
        .limit(selectors.MARKS_CAP)).all())
    if not marks:
        return []
    still_open = {i.subject for i in source.find(org_id, list(marks))}
    return [mark_id for subject, mark_id in marks.items() if subject not in still_open]


def _switch_off(ids: list[int], now: datetime) -> None:
    for i in range(0, len(ids), CHUNK):
        db.session.execute(update(AlertCondition).where(AlertCondition.id.in_(ids[i:i + CHUNK]),
                                                        AlertCondition.active.is_(True))
                           .values(active=False, cleared_at=now), execution_options={"synchronize_session": False})


def _insert():
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def _switch_on(org_id: int, kind: str, subjects: list[str], details: dict[str, Item], now: datetime) -> list[str]:
    """Switch the conditions on; the subjects this call switched (never one another evaluator did)."""
    table = AlertCondition.__table__
    stmt = _insert()(table)
    # One statement compiled once and sent for many rows (SQLAlchemy's "insertmanyvalues"): a
    # multi-row VALUES built per chunk cost most of a first evaluation in compiling alone.
    stmt = stmt.on_conflict_do_update(
        index_elements=["organisation_id", "kind", "subject"],
        set_={"active": True, "started_at": stmt.excluded.started_at, "cleared_at": None,
              "occurrences": table.c.occurrences + 1, "title": stmt.excluded.title,
              "why": stmt.excluded.why, "url": stmt.excluded.url},
        where=table.c.active.is_(False)).returning(table.c.subject)
    won = []
    for i in range(0, len(subjects), CHUNK):
        rows = [_condition_row(org_id, kind, subject, details.get(subject), now) for subject in subjects[i:i + CHUNK]]
        won += list(db.session.scalars(stmt, rows))
    return sorted(won)


def _condition_row(org_id: int, kind: str, subject: str, item: Item | None, now: datetime) -> dict:
    return {"organisation_id": org_id, "kind": kind, "subject": subject, "active": True, "started_at": now,
            "cleared_at": None, "occurrences": 1, "title": (item.title if item else subject)[:300],
            "why": item.why if item else "", "url": path_of(item)[:500] if item else ""}


def _unnamed(source: Source, subject: str) -> Item:
    return Item(kind=source.kind, subject=subject, title=f"{source.label}: {subject}", why="",
                endpoint="attention.todo", args={"kind": source.kind})


def _people(org_id: int, source: Source | None = None) -> list[tuple[User, AlertSettings | None]]:
    users = db.session.scalars(select(User).where(User.organisation_id == org_id, User.active.is_(True))
                               .order_by(User.id)).all()
    settings = {s.user_id: s for s in db.session.scalars(
        select(AlertSettings).where(AlertSettings.organisation_id == org_id))}
    return [(u, settings.get(u.id)) for u in users if source is None or source.visible_to(u)]


def _lines(items: Iterable[Item]) -> list[dict]:
    return [{"title": i.title, "why": i.why, "url": path_of(i), "key": i.key} for i in items][:LINES_CAP]


def _alert(org_id: int, source: Source, items: list[Item], total: int) -> None:
    """Write the alerts of conditions that came on, to everyone who wants this kind at once."""
    lines = _lines(items)
    if total == 1:
        title, url = f"{source.label}: {items[0].title}", lines[0]["url"]
    else:
        title, url = f"{total} new · {source.label}", todo_path(source.kind)
    for user, settings in _people(org_id, source):
        modes = modes_for(settings, source.kind)
        if modes["app"] == "now":
            db.session.add(Alert(organisation_id=org_id, user_id=user.id, kind=source.kind, title=title[:300],
                                 lines=lines, url=url))
        if modes["email"] == "now":
            _delivery(org_id, user, "email", user.email, title, _text(title, lines, total, url))
        if modes["webhook"] == "now" and settings is not None and settings.webhook_url:
            _delivery(org_id, user, "webhook", settings.webhook_url, title, "",
                      payload=_payload(source.kind, title, lines, total, url))


def _text(title: str, lines: list[dict], total: int, url: str) -> str:
    out = [title, ""]
    for line in lines:
        out += [f"- {line['title']}", *( [f"  {line['why']}"] if line["why"] else []), f"  {absolute(line['url'])}"]
    if total > len(lines):
        out.append(f"… and {total - len(lines)} more: {absolute(url)}")
    out += ["", f"Everything that needs a person: {absolute(todo_path())}",
            f"Choose what you hear about: {absolute(current_app.url_map.bind('localhost').build('attention.settings'))}"]
    return "\n".join(out)


def _payload(kind: str, title: str, lines: list[dict], total: int, url: str, digest: str | None = None) -> dict:
    return {"event": "attention.digest" if digest else "attention.alert", "kind": kind, "title": title,
            "total": total, "url": absolute(url), "digest": digest,
            "items": [{"key": line["key"], "title": line["title"], "why": line["why"], "url": absolute(line["url"])}
                      for line in lines]}


def _delivery(org_id: int, user: User, channel: str, recipient: str, subject: str, body: str, *,
              payload: dict | None = None, digest_slot: str | None = None) -> AlertDelivery:
    from app.attention.tasks import deliver

    delivery = AlertDelivery(organisation_id=org_id, user_id=user.id, channel=channel, recipient=recipient,
                             subject=subject[:300], body=body, payload=payload or {}, digest_slot=digest_slot,
                             status=DeliveryStatus.PENDING, next_attempt_at=utcnow())
    db.session.add(delivery)
    db.session.flush()
    enqueue_after_commit(deliver, delivery.id, org_id=org_id, queue="low", timeout=120)
    return delivery


# --- the daily digest ----------------------------------------------------------------------------

def digest_slot(now: datetime) -> tuple[str, datetime]:
    """The latest digest moment that has passed: (its day, its time)."""
    hour = int(current_app.config["ALERTS_DIGEST_HOUR"])
    when = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    if when > now:
        when -= timedelta(days=1)
    return when.date().isoformat(), when


def digest_run(*, slot: str | None = None, now: datetime | None = None) -> int:
    """Send every person the digest of `slot` (the latest day by default) on each channel they chose
    it for, once per person, channel and day: how many were written."""
    latest, when = digest_slot(now or utcnow())
    if slot is not None and slot != latest:
        day = datetime.fromisoformat(slot).replace(tzinfo=UTC)
        when = day.replace(hour=int(current_app.config["ALERTS_DIGEST_HOUR"]))
    slot = slot or latest
    sent = 0
    for org_id in db.session.scalars(select(Organisation.id).order_by(Organisation.id)).all():
        for user, settings in _people(org_id):
            for channel in ("app", "email", "webhook"):
                sent += _digest_one(org_id, user, settings, channel, slot, when - timedelta(days=1), when)
    return sent


def _digest_one(org_id: int, user: User, settings: AlertSettings | None, channel: str, slot: str,
                since: datetime, until: datetime) -> int:
    kinds = [s for s in attention.sources_for(user) if modes_for(settings, s.kind)[channel] == "digest"]
    if not kinds or (channel == "webhook" and not (settings and settings.webhook_url)):
        return 0
    if _digest_done(user.id, channel, slot):
        return 0
    sections, lines, total = [], [], 0
    for source in kinds:
        started = db.session.scalars(select(AlertCondition).where(
            AlertCondition.organisation_id == org_id, AlertCondition.kind == source.kind,
            AlertCondition.started_at >= since, AlertCondition.started_at < until)
            .order_by(AlertCondition.started_at).limit(LINES_CAP)).all()
        if not started:
            continue
        count = db.session.scalar(select(db.func.count(AlertCondition.id)).where(
            AlertCondition.organisation_id == org_id, AlertCondition.kind == source.kind,
            AlertCondition.started_at >= since, AlertCondition.started_at < until))
        total += count
        sections.append(f"{source.label}: {count} new")
        for c in started:
            lines.append({"key": f"{c.kind}.{c.subject}", "title": c.title, "url": c.url or todo_path(c.kind),
                          "why": c.why + ("" if c.active else " (resolved since)")})
    if not total:
        return 0
    title = f"Daily digest for {slot}: {total} new · " + ", ".join(s.split(":")[0] for s in sections)
    try:
        with db.session.begin_nested():
            if channel == "app":
                db.session.add(Alert(organisation_id=org_id, user_id=user.id, kind="digest", title=title[:300],
                                     lines=lines[:LINES_CAP * 3], url=todo_path(), digest_slot=slot))
                db.session.flush()
            elif channel == "email":
                _delivery(org_id, user, "email", user.email, title,
                          _text(title + "\n" + "\n".join(sections), lines, len(lines), todo_path()), digest_slot=slot)
            else:
                _delivery(org_id, user, "webhook", settings.webhook_url, title, "", digest_slot=slot,
                          payload=_payload("digest", title, lines, total, todo_path(), digest=slot))
    except IntegrityError:  # another run sent this person's digest on this channel already
        return 0
    publish_after_commit(org_id, attention.EVENT, {"user_id": user.id})
    db.session.commit()
    return 1


def _digest_done(user_id: int, channel: str, slot: str) -> bool:
    if channel == "app":
        return db.session.scalar(select(Alert.id).where(Alert.user_id == user_id, Alert.digest_slot == slot)) is not None
    return db.session.scalar(select(AlertDelivery.id).where(
        AlertDelivery.user_id == user_id, AlertDelivery.channel == channel,
        AlertDelivery.digest_slot == slot)) is not None
