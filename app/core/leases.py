"""Leases: exclusive, expiring claims on rows, for every kind of background work.

A row that a worker is working on carries who holds it (a job id, a worker name) and until when
(`lease_until`). The holder renews the lease while it works (`renew`, or a `Heartbeat` thread);
a row whose lease ran out belongs to a worker that died, and a sweeper gives it back.

Claims are one statement, so two workers never get the same row (measured here: a SELECT then
an UPDATE gave thousands of duplicate claims with four processes on PostgreSQL):

    UPDATE t SET status = :claimed, holder = :me, lease_until = :until
    WHERE id IN (SELECT id FROM t WHERE status = :ready … ORDER BY … LIMIT n FOR UPDATE SKIP LOCKED)
      AND status = :ready
    RETURNING id

The inner SELECT is a CTE (evaluated once: as a plain IN PostgreSQL may re-run it per outer row
and claim more than n). SQLAlchemy leaves FOR UPDATE out on SQLite, where the write lock taken
by BEGIN IMMEDIATE (see app.core.database) serialises claims instead.

Sweepers: each domain registers a function that gives back its expired rows (and re-sends lost
jobs); one periodic RQ job, `sweep`, runs them all and reschedules itself while any reports work
in flight. `ensure_sweeping` schedules it once (a Redis marker makes it one per installation,
however many workers run).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from app.core.models import utcnow
from app.extensions import db

log = logging.getLogger(__name__)
SWEEP_SECONDS = 20


def each_apart(ids: Iterable[int], act: Callable[..., bool], *, what: str, now: datetime | None = None) -> int:
    """`act(id, now=now)` for every id, each in its own transaction: one that raises is rolled back
    and logged ("<what> <id> failed") without stopping the others. How many returned true."""
    done = 0
    for row_id in ids:
        try:
            done += bool(act(row_id, now=now))
        except Exception:  # one broken row must not stop the others
            log.exception("%s %s failed", what, row_id)
            db.session.rollback()
    return done


@dataclass(frozen=True)
class Leased:
    """How a table is leased: the model and the names of the columns that hold the lease."""

    model: Any
    lease_seconds: Callable[[], float]
    status: str = "status"
    holder: str = "holder"
    lease_until: str = "lease_until"
    heartbeat: str | None = None  # stamped on every renewal when the table has such a column

    def column(self, name: str):
        return getattr(self.model, name)


def claim(spec: Leased, *, holder: str | None, ready, claimed, where: Iterable = (), order_by=None, limit: int = 1,
          now: datetime | None = None, values: dict | None = None) -> list[int]:
    """Claim up to `limit` rows in status `ready` (and `where`) for `holder`: ids claimed, in order.

    Runs in the caller's transaction (the caller commits: a claim is only real once committed)."""
    now = now or utcnow()
    model, status = spec.model, spec.column(spec.status)
    ready_rows = (select(model.id).where(status == ready, *where)
                  .order_by(*(order_by if order_by is not None else (model.id,)))
                  .limit(limit).with_for_update(skip_locked=True).cte(f"ready_{model.__tablename__}"))
    changes = {spec.status: claimed, spec.lease_until: now + timedelta(seconds=spec.lease_seconds())}
    if holder is not None:  # None: the row names its holder already (a job id set when it was queued)
        changes[spec.holder] = holder
    changes |= values or {}
    if spec.heartbeat:
        changes[spec.heartbeat] = now
    stmt = (update(model).add_cte(ready_rows)
            .where(model.id.in_(select(ready_rows.c.id)), status == ready)
            .values(**changes).returning(model.id))
    return sorted(r[0] for r in db.session.execute(stmt, execution_options={"synchronize_session": False}))


def renew(spec: Leased, *, holder: str, held: Iterable, ids: Iterable[int] | None = None,
          now: datetime | None = None) -> int:
    """Extend the leases `holder` has on rows still in a `held` status (all of them, or `ids`)."""
    now = now or utcnow()
    conditions = [spec.column(spec.holder) == holder, spec.column(spec.status).in_(tuple(held))]
    if ids is not None:
        conditions.append(spec.model.id.in_(tuple(ids)))
    changes = {spec.lease_until: now + timedelta(seconds=spec.lease_seconds())}
    if spec.heartbeat:
        changes[spec.heartbeat] = now
    result = db.session.execute(update(spec.model).where(*conditions).values(**changes),
                                execution_options={"synchronize_session": False})
    return result.rowcount


def expired(spec: Leased, *, held: Iterable, now: datetime | None = None, where: Iterable = (),
            limit: int = 500) -> list[tuple[int, str | None]]:
    """(id, holder) of rows in a `held` status whose lease ran out: their worker stopped."""
    now = now or utcnow()
    rows = db.session.execute(select(spec.model.id, spec.column(spec.holder)).where(
        spec.column(spec.status).in_(tuple(held)), spec.column(spec.lease_until) < now, *where)
        .order_by(spec.model.id).limit(limit)).all()
    return [(r[0], r[1]) for r in rows]


def release_expired(spec: Leased, *, held: Iterable, to_status, now: datetime | None = None, where: Iterable = (),
                    values: dict | None = None, returning: Iterable = ()) -> list:
    """Put every expired row back in `to_status` in one statement; the `returning` columns of each."""
    now = now or utcnow()
    changes = {spec.status: to_status, spec.holder: None, spec.lease_until: None} | (values or {})
    stmt = (update(spec.model).where(spec.column(spec.status).in_(tuple(held)),
                                     spec.column(spec.lease_until) < now, *where)
            .values(**changes).returning(spec.model.id, *returning))
    return db.session.execute(stmt, execution_options={"synchronize_session": False}).all()


def release(spec: Leased, *, holder: str, held: Iterable, to_status, where: Iterable = (),
            values: dict | None = None) -> int:
    """Give back rows `holder` holds in a `held` status (work not started, or given up)."""
    changes = {spec.status: to_status, spec.holder: None, spec.lease_until: None} | (values or {})
    result = db.session.execute(update(spec.model).where(
        spec.column(spec.holder) == holder, spec.column(spec.status).in_(tuple(held)), *where).values(**changes),
        execution_options={"synchronize_session": False})
    return result.rowcount


class Heartbeat:
    """A thread that renews a lease every third of its length while the work runs.

    `beat` does the renewal in its own transaction; it may also do other upkeep (a pipeline
    heartbeat also gives back other workers' expired phases). Use as a context manager."""

    def __init__(self, beat: Callable[[], None], period: float, name: str = "lease-heartbeat"):
        self.app = current_app._get_current_object()
        self.beat, self.period = beat, max(0.5, period)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)

    def _loop(self) -> None:
        with self.app.app_context():
            while not self._stop.wait(self.period):
                try:
                    self.beat()
                except Exception:  # a missed beat is not fatal; the next one (or the lease) decides
                    log.warning("lease heartbeat failed", exc_info=True)
                    db.session.rollback()
                finally:
                    db.session.remove()


# --- sweepers ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sweeper:
    run: Callable[[], bool]  # gives back expired leases, re-sends lost jobs; True while work is in flight
    every: Callable[[], float]  # how often this domain wants it (seconds)


_sweepers: dict[str, Sweeper] = {}


def register_sweeper(name: str, run: Callable[[], bool], *, every: Callable[[], float] | None = None) -> None:
    """Run `run` on every sweep; the sweep comes as often as the most impatient domain asks."""
    _sweepers[name] = Sweeper(run, every or (lambda: SWEEP_SECONDS))


def sweepers() -> dict[str, Sweeper]:
    return dict(_sweepers)


def sweep_seconds() -> float:
    """The sweep period: the shortest any registered domain asks for (SWEEP_SECONDS at most)."""
    longest = float(current_app.config.get("SWEEP_SECONDS") or SWEEP_SECONDS)
    return max(1.0, min([longest, *(s.every() for s in _sweepers.values())]))


def _marker() -> str:
    from app.core.queue import key

    return key("leases", "sweep-scheduled")


def ensure_sweeping() -> None:
    """Make sure one sweep job is scheduled (one per installation, whatever the number of workers)."""
    from app.core.queue import get_queue, get_redis

    interval = sweep_seconds()
    if get_redis().set(_marker(), "1", nx=True, ex=int(interval * 3) + 1):
        get_queue("high").enqueue_in(timedelta(seconds=interval), sweep, result_ttl=60, job_timeout=300)


def run_sweepers() -> dict[str, bool]:
    """Every registered sweeper once: {name: work still in flight}. Also run by each worker's upkeep."""
    report = {}
    for name, sweeper in sorted(_sweepers.items()):
        try:
            report[name] = bool(sweeper.run())
        except Exception:  # one domain's failure must not stop the others' recovery
            log.exception("sweeper %s failed", name)
            db.session.rollback()
            report[name] = True
    return report


def sweep() -> dict:
    """The periodic job: every registered sweeper once; again later while any has work in flight."""
    from app.core.queue import get_queue, get_redis

    report = run_sweepers()
    busy = any(report.values())
    interval = sweep_seconds()
    if busy:
        get_redis().set(_marker(), "1", ex=int(interval * 3) + 1)
        get_queue("high").enqueue_in(timedelta(seconds=interval), sweep, result_ttl=60, job_timeout=300)
    else:
        get_redis().delete(_marker())
    return report
