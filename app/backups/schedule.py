"""The schedule: a daily backup (verified, then retention), a daily storage sweep, a monthly drill.

Why the lease engine's sweeper registry (app.core.leases.register_sweeper) and not RQ's
scheduler: every forking worker already runs the registered sweepers in its upkeep every few
seconds, whichever worker is alive, whereas RQ's scheduler lock stays with a dead worker for a
minute and a self-rescheduling delayed job is gone for good if its Redis key is lost. `tick`
is cheap (a Redis key lets it look at the database at most once a minute per installation);
when a slot is due it inserts the slot's row, and the unique (kind, slot) constraint lets only
one insert win however many workers noticed. The run then goes to RQ's `low` queue and holds
a lease while it works, so one run of a kind goes at a time and a dead worker's run is retried.

A slot is "the latest scheduled moment that has passed": a backup slot is a UTC date (at
BACKUP_HOUR), a drill slot a month (on BACKUP_DRILL_DAY at BACKUP_DRILL_HOUR). Missed days are
not made up one by one: after an outage the latest slot runs once. A fresh installation waits
for its first scheduled moment (the time the schedule was first seen is kept in Redis).
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from flask import current_app
from rq.job import Job
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.backups import services
from app.backups.models import BackupRun
from app.backups.statuses import RunKind, RunStatus
from app.core import leases
from app.core.models import utcnow
from app.core.queue import get_redis, key
from app.extensions import db

log = logging.getLogger(__name__)
TICK_SECONDS = 60
MAX_ATTEMPTS = 3
LOST_AFTER = timedelta(minutes=2)


def _at(day: datetime, hour: int) -> datetime:
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


def slots(now: datetime) -> list[tuple[RunKind, str, datetime]]:
    """The latest scheduled moment of each kind that has passed: (kind, slot, when)."""
    config = current_app.config
    found = []
    for kind, hour in ((RunKind.BACKUP, int(config["BACKUP_HOUR"])), (RunKind.SWEEP, int(config["STORAGE_SWEEP_HOUR"]))):
        when = _at(now, hour)
        when = when if when <= now else when - timedelta(days=1)
        found.append((kind, when.date().isoformat(), when))
    day, hour = int(config["BACKUP_DRILL_DAY"]), int(config["BACKUP_DRILL_HOUR"])
    when = _at(now.replace(day=min(day, 28)), hour)
    if when > now:
        previous = now.replace(day=1) - timedelta(days=1)
        when = _at(previous.replace(day=min(day, 28)), hour)
    found.append((RunKind.DRILL, when.strftime("%Y-%m"), when))
    return found


def _since() -> datetime:
    """When the schedule was first seen running (a fresh installation waits for its first slot)."""
    redis, name = get_redis(), key("backups", "schedule-since")
    redis.set(name, datetime.now(UTC).isoformat(), nx=True)
    return datetime.fromisoformat(redis.get(name).decode())


def tick(*, now: datetime | None = None, force: bool = False) -> bool:
    """Queue every scheduled run that is due and recover lost ones; never keeps the sweep job busy."""
    if not current_app.config.get("BACKUP_SCHEDULE"):
        return False
    if not force and not get_redis().set(key("backups", "tick"), "1", nx=True, ex=TICK_SECONDS):
        return False
    now = now or utcnow()
    recover(now)
    since = _since()
    for kind, slot, when in slots(now):
        if kind == RunKind.SWEEP and current_app.config.get("STORAGE_SWEEP") is False:
            continue
        if db.session.scalar(select(BackupRun.id).where(BackupRun.kind == kind, BackupRun.slot == slot)):
            continue
        first = db.session.scalar(select(BackupRun.id).where(BackupRun.kind == kind, BackupRun.slot.is_not(None)))
        if first is None and when < since:
            continue
        _queue_slot(kind, slot)
    return False


def _queue_slot(kind: RunKind, slot: str) -> None:
    run = BackupRun(kind=kind, slot=slot, requested_by="schedule", status=RunStatus.QUEUED)
    db.session.add(run)
    try:
        db.session.flush()
    except IntegrityError:  # another worker took this slot first
        db.session.rollback()
        return
    services.enqueue_run(run)
    db.session.commit()
    log.info("scheduled %s %s queued as run %s", kind.value, slot, run.id)


def recover(now: datetime) -> None:
    """Runs whose worker died go back to the queue (up to MAX_ATTEMPTS); lost jobs are sent again."""
    spec = services.SPEC
    leases.release_expired(spec, held=[RunStatus.RUNNING], to_status=RunStatus.QUEUED, now=now,
                           where=[BackupRun.attempts < MAX_ATTEMPTS])
    leases.release_expired(spec, held=[RunStatus.RUNNING], to_status=RunStatus.FAILED, now=now,
                           values={"finished_at": now, "error": "its worker stopped during the run, "
                                                                f"{MAX_ATTEMPTS} times"})
    db.session.commit()
    waiting = db.session.scalars(select(BackupRun).where(BackupRun.status == RunStatus.QUEUED,
                                                         BackupRun.created_at < now - LOST_AFTER)).all()
    for run in waiting:
        if not Job.exists(services.job_id(run.id), connection=get_redis()):
            services.enqueue_run(run)
    db.session.commit()


leases.register_sweeper("backups", tick, every=lambda: 3600.0)
