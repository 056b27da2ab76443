"""Row jobs on the workers: exclusive claims with a lease, heartbeats, completion written once,
retries with backoff, stale leases returned to pending, and the batch finishing by itself.

A chunk job ("token") claims up to `chunk_size` rows, works through them and re-enqueues itself
while rows remain, so a batch never has more than `max_concurrent_jobs` tokens working and
tokens of different batches take turns at the tail of the queue. Every state change of a row is
one conditional UPDATE (on status and claimed_by): a worker that lost its lease cannot write.
"""
from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, distinct, exists, func, or_, select, update

from app.batches.models import (
    ACTIVE_STATUSES,
    IN_FLIGHT,
    Batch,
    BatchLog,
    BatchRow,
    BatchStatus,
    BatchWorker,
    RowStatus,
)
from app.core import leases
from app.core.database import write_intent
from app.core.events import publish
from app.core.models import utcnow
from app.extensions import db

log = logging.getLogger(__name__)
EVENT = "batch-progress"
MAX_RETRIES = 3


def setting(name: str, default):
    """A batch setting as read by app.config (BATCH_SETTINGS: names and defaults), of `default`'s type."""
    value = current_app.config.get(name)
    return default if value in (None, "") else type(default)(value)


def lease_seconds() -> float:
    return setting("BATCH_LEASE_SECONDS", 60.0)


# A row's lease: held by the name of the worker processing it (app.core.leases).
ROW_LEASE = leases.Leased(BatchRow, lease_seconds, holder="claimed_by", lease_until="lease_expires_at")


def worker_instance() -> str:
    """This worker's name (the RQ worker running the job), else host:pid."""
    from rq import get_current_job

    job = get_current_job()
    if job is not None and job.worker_name:
        return job.worker_name
    return f"{socket.gethostname()}:{os.getpid()}"


def add_log(batch: Batch | int, level: str, operation: str, message: str, details: dict | None = None,
            org_id: int | None = None) -> None:
    """Add a processing log entry to the current transaction."""
    if isinstance(batch, Batch):
        batch_id, org_id = batch.id, batch.organisation_id
    else:
        batch_id = batch
        if org_id is None:
            org_id = db.session.scalar(select(Batch.organisation_id).where(Batch.id == batch_id))
    db.session.add(BatchLog(organisation_id=org_id, batch_id=batch_id, level=level, operation=operation,
                            message=message, details=details))


# --- claims ----------------------------------------------------------------------------------

def _active_claimers(batch_id: int, worker: str, now: datetime) -> int:
    return db.session.scalar(
        select(func.count(distinct(BatchRow.claimed_by))).where(
            BatchRow.batch_id == batch_id, BatchRow.status.in_(IN_FLIGHT),
            BatchRow.claimed_by != worker, BatchRow.lease_expires_at > now)) or 0


def claim_rows(*, batch_id: int, worker: str, limit: int, now: datetime | None = None) -> list[int]:
    """Claim up to `limit` ready rows for `worker` with a lease, in one statement; commit."""
    now = now or utcnow()
    with write_intent():
        # Locking the batch row serialises claims of one batch on PostgreSQL, so the
        # concurrent-jobs limit below is exact; SQLite's BEGIN IMMEDIATE already does.
        head = db.session.execute(select(Batch.status, Batch.max_concurrent_jobs)
                                  .where(Batch.id == batch_id).with_for_update()).first()
        if head is None or head.status != BatchStatus.PROCESSING:
            db.session.commit()
            return []
        if _active_claimers(batch_id, worker, now) >= head.max_concurrent_jobs:
            db.session.commit()
            return []
        ids = leases.claim(ROW_LEASE, holder=worker, ready=RowStatus.PENDING.value, claimed=RowStatus.CLAIMED.value,
                           where=(BatchRow.batch_id == batch_id,
                                  or_(BatchRow.next_attempt_at.is_(None), BatchRow.next_attempt_at <= now)),
                           limit=limit, now=now, values={"claimed_at": now})
        _heartbeat(worker, batch_id, now, jobs=1)
        db.session.commit()
    return ids


def _heartbeat(worker: str, batch_id: int | None, now: datetime, *, jobs: int, processed: int = 0,
               status: str = "busy") -> None:
    row = db.session.scalar(select(BatchWorker).where(BatchWorker.instance == worker))
    if row is None:
        row = BatchWorker(instance=worker, started_at=now, processed_count=0)
        db.session.add(row)
    row.status, row.current_batch_id, row.current_jobs = status, batch_id, jobs
    row.processed_count = (row.processed_count or 0) + processed
    row.last_heartbeat = now
    if status == "busy":
        leases.renew(ROW_LEASE, holder=worker, held=IN_FLIGHT, now=now)


def heartbeat(*, worker: str, batch_id: int | None, jobs: int, processed: int = 0, status: str = "busy") -> None:
    """Record that `worker` is alive and extend the leases of the rows it holds; commit."""
    with write_intent():
        _heartbeat(worker, batch_id, utcnow(), jobs=jobs, processed=processed, status=status)
        db.session.commit()


def row_start(*, row_id: int, worker: str, now: datetime | None = None) -> BatchRow | None:
    """claimed → processing for the holder of the claim; None when the claim was lost."""
    now = now or utcnow()
    with write_intent():
        res = db.session.execute(
            update(BatchRow).where(BatchRow.id == row_id, BatchRow.status == RowStatus.CLAIMED.value,
                                   BatchRow.claimed_by == worker)
            .values(status=RowStatus.PROCESSING.value, started_at=now),
            execution_options={"synchronize_session": False})
        db.session.commit()
    if res.rowcount != 1:
        return None
    row = db.session.get(BatchRow, row_id)
    db.session.refresh(row)
    return row


def _count(batch_id: int, *, ok: int = 0, failed: int = 0) -> None:
    db.session.execute(update(Batch).where(Batch.id == batch_id).values(
        processed_rows=Batch.processed_rows + ok + failed, successful_rows=Batch.successful_rows + ok,
        failed_rows=Batch.failed_rows + failed), execution_options={"synchronize_session": False})


@dataclass(frozen=True)
class RowDone:
    """A row's results, computed outside any transaction, waiting to be written with its chunk."""

    row_id: int
    results: dict
    started_at: datetime | None  # None: keep the one set when the row was started
    duration_ms: int
    warnings: tuple[str, ...] = ()


def rows_complete(*, batch_id: int, worker: str, done: list[RowDone], heartbeat_jobs: int | None = None) -> int:
    """Write the results of rows `worker` still holds (claimed or processing), count them and,
    with `heartbeat_jobs`, beat the worker's heartbeat: one transaction, one commit. A row taken
    over by another worker meanwhile is left alone (its results are that worker's to write).

    Warnings (e.g. an image model replaced by a local card) go to the batch log in the same
    transaction. Returns how many rows were written."""
    now = utcnow()
    with write_intent():
        # Rows without warnings (nearly all) in one executemany: on PostgreSQL one pipelined round
        # trip instead of one per row (a row's UPDATE cost 1.9 ms of a worker's 10 ms per row).
        written = _write_results(worker, [row for row in done if not row.warnings], now)
        for row in done:
            if row.warnings and _write_results(worker, [row], now):
                written += 1
                number, org_id = db.session.execute(select(BatchRow.row_number, BatchRow.organisation_id)
                                                    .where(BatchRow.id == row.row_id)).one()
                for message in row.warnings:
                    add_log(batch_id, "warning", "image", f"Row {number}: {message}",
                            {"row_number": number, "worker": worker}, org_id=org_id)
        if written:
            _count(batch_id, ok=written)
        if heartbeat_jobs is not None:
            _heartbeat(worker, batch_id, now, jobs=heartbeat_jobs, processed=written)
        db.session.commit()
    return written


def _write_results(worker: str, done: list[RowDone], now: datetime) -> int:
    """completed, with its results, for each of `done` that `worker` still holds; how many were."""
    if not done:
        return 0
    rows = BatchRow.__table__
    statement = (update(rows)
                 .where(rows.c.id == bindparam("done_id"),
                        # not IN (...): an expanding parameter cannot go into an executemany
                        or_(rows.c.status == RowStatus.CLAIMED.value, rows.c.status == RowStatus.PROCESSING.value),
                        rows.c.claimed_by == worker)
                 .values(status=RowStatus.COMPLETED.value, results=bindparam("done_results", type_=rows.c.results.type),
                         finished_at=now, error=None, error_kind=None, lease_expires_at=None,
                         duration_ms=bindparam("done_ms"),
                         # None: keep the start written when the row was started on its own
                         started_at=func.coalesce(bindparam("done_started", type_=rows.c.started_at.type),
                                                  rows.c.started_at)))
    params = [{"done_id": row.row_id, "done_results": row.results, "done_ms": row.duration_ms,
               "done_started": row.started_at} for row in done]
    return db.session.execute(statement, params).rowcount


def row_complete(*, row_id: int, batch_id: int, worker: str, results: dict, started: float,
                 warnings: list[str] | None = None, now: datetime | None = None) -> bool:
    """Write one row's results once: only while `worker` holds it; commit."""
    done = RowDone(row_id=row_id, results=results, started_at=None,
                   duration_ms=int((time.perf_counter() - started) * 1000), warnings=tuple(warnings or ()))
    return rows_complete(batch_id=batch_id, worker=worker, done=[done]) == 1


def retry_delay(retry_count: int) -> float:
    """Backoff before attempt `retry_count + 1`: base, 2×base, 4×base."""
    return setting("BATCH_RETRY_BASE_SECONDS", 10.0) * (2 ** retry_count)


def row_fail(*, row_id: int, batch_id: int, worker: str, message: str, column: str | None = None,
             permanent: bool = False, now: datetime | None = None) -> str | None:
    """Record a failed attempt: back to pending with backoff while retries remain, else failed.

    Returns the row's new status, or None when `worker` no longer held the row.
    """
    now = now or utcnow()
    with write_intent():
        row = db.session.execute(select(BatchRow.retry_count, BatchRow.row_number, BatchRow.organisation_id)
                                 .where(BatchRow.id == row_id, BatchRow.status == RowStatus.PROCESSING.value,
                                        BatchRow.claimed_by == worker)).first()
        if row is None:
            db.session.commit()
            return None
        base = update(BatchRow).where(BatchRow.id == row_id, BatchRow.status == RowStatus.PROCESSING.value,
                                      BatchRow.claimed_by == worker, BatchRow.retry_count == row.retry_count)
        opts = {"synchronize_session": False}
        if not permanent and row.retry_count < MAX_RETRIES:
            delay = retry_delay(row.retry_count)
            res = db.session.execute(base.values(
                status=RowStatus.PENDING.value, retry_count=row.retry_count + 1, claimed_by=None,
                lease_expires_at=None, next_attempt_at=now + timedelta(seconds=delay), error=message,
                error_column=column, error_kind="error"), execution_options=opts)
            new_status = RowStatus.PENDING.value
            add_log(batch_id, "warning", "retry",
                    f"Row {row.row_number} failed (attempt {row.retry_count + 1}); retrying in {delay:g} s: {message}",
                    {"row_number": row.row_number, "worker": worker}, org_id=row.organisation_id)
        else:
            res = db.session.execute(base.values(
                status=RowStatus.FAILED.value, finished_at=now, lease_expires_at=None, error=message,
                error_column=column, error_kind="invalid" if permanent else "error"), execution_options=opts)
            new_status = RowStatus.FAILED.value
            if res.rowcount == 1:
                _count(batch_id, failed=1)
            add_log(batch_id, "error", "row",
                    f"Row {row.row_number} failed: {message}",
                    {"row_number": row.row_number, "column": column, "worker": worker,
                     "attempts": row.retry_count + 1}, org_id=row.organisation_id)
        db.session.commit()
    return new_status if res.rowcount == 1 else None


def release_claims(*, batch_id: int, worker: str) -> int:
    """Give back rows claimed but not started (a cancelled batch, a stopping token); commit."""
    with write_intent():
        count = leases.release(ROW_LEASE, holder=worker, held=(RowStatus.CLAIMED.value,),
                               to_status=RowStatus.PENDING.value, where=(BatchRow.batch_id == batch_id,))
        db.session.commit()
    return count


def reap_stale(*, batch_id: int | None = None, now: datetime | None = None) -> int:
    """Rows whose lease ran out go back to pending; silent workers are marked stale; commit."""
    return sum(reap_by_batch(batch_id=batch_id, now=now).values())


def reap_by_batch(*, batch_id: int | None = None, now: datetime | None = None) -> dict[int, int]:
    """As reap_stale: {batch id: rows given back}."""
    now = now or utcnow()
    where = (BatchRow.batch_id == batch_id,) if batch_id is not None else ()
    silent_since = now - timedelta(seconds=lease_seconds())
    # Look before taking the write lock: an idle sweep every few seconds must not make writers wait.
    if not leases.expired(ROW_LEASE, held=IN_FLIGHT, now=now, where=where, limit=1) and not db.session.scalar(
            select(exists().where(BatchWorker.last_heartbeat < silent_since, BatchWorker.status == "busy"))):
        db.session.rollback()
        return {}
    db.session.rollback()
    with write_intent():
        returned = [r[1:] for r in leases.release_expired(
            ROW_LEASE, held=IN_FLIGHT, to_status=RowStatus.PENDING.value, now=now, where=where,
            returning=(BatchRow.batch_id, BatchRow.organisation_id, BatchRow.row_number))]
        # Only a worker that was busy can be stale; one that went idle is simply not working.
        stale = db.session.scalars(select(BatchWorker).where(BatchWorker.last_heartbeat < silent_since,
                                                             BatchWorker.status == "busy")).all()
        for w in stale:
            w.status, w.current_jobs = "stale", 0
        per_batch: dict[tuple[int, int], list[int]] = {}
        for b_id, org_id, number in returned:
            per_batch.setdefault((b_id, org_id), []).append(number)
        for (b_id, org_id), numbers in per_batch.items():
            add_log(b_id, "warning", "reap",
                    f"{len(numbers)} row(s) went back to pending: their worker stopped renewing its lease",
                    {"row_numbers": sorted(numbers)[:50], "stale_workers": [w.instance for w in stale]},
                    org_id=org_id)
        db.session.commit()
    return {b_id: len(numbers) for (b_id, _), numbers in per_batch.items()}


# --- finishing, promotion, tokens ------------------------------------------------------------

def _open_rows_exist(batch_id: int) -> bool:
    return bool(db.session.scalar(select(exists().where(
        BatchRow.batch_id == batch_id,
        BatchRow.status.in_((RowStatus.PENDING.value, *IN_FLIGHT))))))


def batch_finish_if_done(*, batch_id: int) -> bool:
    """Complete the batch when no row is open (once, whoever notices first); commit."""
    with write_intent():
        batch = db.session.get(Batch, batch_id)
        if batch is None or batch.status != BatchStatus.PROCESSING or _open_rows_exist(batch_id):
            db.session.commit()
            return False
        db.session.refresh(batch)
        target = BatchStatus.COMPLETED_WITH_ERRORS if batch.failed_rows else BatchStatus.COMPLETED
        res = db.session.execute(update(Batch).where(Batch.id == batch_id, Batch.status == BatchStatus.PROCESSING)
                                 .values(status=target, finished_at=utcnow(), rate_rows_per_min=None),
                                 execution_options={"synchronize_session": False})
        if res.rowcount == 1:
            add_log(batch, "info", "finish",
                    f"Batch {target.label}: {batch.successful_rows} row(s) completed, {batch.failed_rows} failed",
                    {"total": batch.total_rows})
            promote_queued(user_id=batch.created_by_id)
        db.session.commit()
    if res.rowcount == 1:
        progress_tick(batch_id=batch_id, force=True)
    return res.rowcount == 1


def promote_queued(*, user_id: int | None) -> list[int]:
    """Move this user's queued batches to processing while under the per-user limit (no commit)."""
    limit = setting("BATCH_USER_CONCURRENT", 2)
    running = db.session.scalar(select(func.count()).select_from(Batch).where(
        Batch.created_by_id == user_id, Batch.status == BatchStatus.PROCESSING)) or 0
    queued = db.session.scalars(select(Batch).where(Batch.created_by_id == user_id,
                                                    Batch.status == BatchStatus.QUEUED)
                                .order_by(Batch.queued_at, Batch.id)).all()
    started = []
    for batch in queued:
        if running >= limit:
            add_log(batch, "info", "queue", f"Waiting: {running} of your batches are running (limit {limit})")
            continue
        batch.status = BatchStatus.PROCESSING
        batch.started_at = batch.started_at or utcnow()
        running += 1
        started.append(batch.id)
        add_log(batch, "info", "start", f"Processing started with up to {batch.max_concurrent_jobs} concurrent jobs")
        enqueue_tokens(batch_id=batch.id, org_id=batch.organisation_id, count=batch.max_concurrent_jobs)
    if started:
        schedule_sweep()
    return started


def enqueue_tokens(*, batch_id: int, org_id: int, count: int, delay: float = 0) -> None:
    """Queue `count` chunk jobs for the batch once the transaction commits."""
    from app.core.transactions import after_commit

    app = current_app._get_current_object()

    def _go() -> None:
        with app.app_context():
            _enqueue_now(batch_id, org_id, count, delay)

    after_commit(_go)


def _enqueue_now(batch_id: int, org_id: int, count: int, delay: float = 0) -> None:
    from app.batches.tasks import process_chunk
    from app.core.queue import get_queue

    queue = get_queue("low")
    options = {"job_timeout": setting("BATCH_JOB_TIMEOUT", 900), "meta": {"organisation_id": org_id},
               "result_ttl": 600, "failure_ttl": 7 * 24 * 3600}
    for _ in range(count):
        if delay > 0:
            queue.enqueue_in(timedelta(seconds=delay), process_chunk, batch_id, **options)
        else:
            queue.enqueue(process_chunk, batch_id, **options)


def schedule_sweep() -> None:
    """Make sure the periodic sweep is scheduled (after commit)."""
    from app.core.transactions import after_commit

    app = current_app._get_current_object()

    def _go() -> None:
        with app.app_context():
            leases.ensure_sweeping()

    after_commit(_go)


def token_seen(batch_id: int) -> None:
    from app.core.queue import get_redis, key

    get_redis().set(key("batches", "token", batch_id), "1", ex=int(lease_seconds() * 2) + 1)


def token_recent(batch_id: int) -> bool:
    from app.core.queue import get_redis, key

    return bool(get_redis().exists(key("batches", "token", batch_id)))


def sweep_all() -> dict:
    """Reap stale leases, finish finished batches, restart batches whose jobs were lost."""
    reaped = reap_by_batch()
    finished, restarted = 0, 0
    ids = db.session.execute(select(Batch.id, Batch.organisation_id, Batch.max_concurrent_jobs)
                             .where(Batch.status == BatchStatus.PROCESSING)).all()
    for batch_id, org_id, max_jobs in ids:
        if batch_finish_if_done(batch_id=batch_id):
            finished += 1
        elif not token_recent(batch_id):
            _enqueue_now(batch_id, org_id, max_jobs)
            restarted += 1
        elif reaped.get(batch_id):
            # The rows' worker died, and the chain of chunk jobs it carried with it: start one in its
            # place now rather than when the batch's token runs out (up to two leases later).
            _enqueue_now(batch_id, org_id, 1)
            restarted += 1
    users = db.session.scalars(select(distinct(Batch.created_by_id)).where(Batch.status == BatchStatus.QUEUED)).all()
    db.session.rollback()
    if users:  # the write lock only when there is something to promote
        with write_intent():
            for user_id in users:
                promote_queued(user_id=user_id)
            db.session.commit()
    in_flight = bool(db.session.scalar(select(exists().where(Batch.status.in_(ACTIVE_STATUSES)))))
    return {"reaped": sum(reaped.values()), "finished": finished, "restarted": restarted, "in_flight": in_flight}


leases.register_sweeper("batches", lambda: sweep_all()["in_flight"], every=lambda: max(1.0, lease_seconds()))


# --- progress --------------------------------------------------------------------------------

def rate_rows_per_min(batch_id: int, started_at: datetime | None, now: datetime) -> float | None:
    window = 60.0
    since = now - timedelta(seconds=window)
    if started_at is not None and started_at > since:
        window, since = max(1.0, (now - started_at).total_seconds()), started_at
    done = db.session.scalar(select(func.count()).select_from(BatchRow).where(
        BatchRow.batch_id == batch_id, BatchRow.finished_at >= since)) or 0
    return round(done * 60.0 / window, 1) if done else None


def progress_tick(*, batch_id: int, force: bool = False) -> bool:
    """Publish `batch-progress` at most twice a second per batch (always when forced)."""
    from app.core.queue import get_redis, key

    if not force and not get_redis().set(key("batches", "progress", batch_id), "1", nx=True,
                                         px=int(setting("BATCH_PROGRESS_INTERVAL_MS", 500))):
        return False
    batch = db.session.get(Batch, batch_id)
    if batch is None:
        return False
    db.session.refresh(batch)
    if batch.status == BatchStatus.PROCESSING:
        rate = rate_rows_per_min(batch_id, batch.started_at, utcnow())
        with write_intent():
            db.session.execute(update(Batch).where(Batch.id == batch_id).values(rate_rows_per_min=rate),
                               execution_options={"synchronize_session": False})
            db.session.commit()
    db.session.refresh(batch)
    publish(batch.organisation_id, EVENT, {"batch_id": batch.id, "status": batch.status.value,
                                           "processed": batch.processed_rows, "total": batch.total_rows})
    return True


def health() -> tuple[str, str]:
    """Health check: rows whose lease ran out unnoticed mean no sweeper or worker is running."""
    overdue = db.session.scalar(select(func.count()).select_from(BatchRow).where(
        BatchRow.status.in_(IN_FLIGHT), BatchRow.lease_expires_at < utcnow() - timedelta(seconds=lease_seconds()))) or 0
    running = db.session.scalar(select(func.count()).select_from(Batch).where(Batch.status == BatchStatus.PROCESSING)) or 0
    if overdue:
        return "warning", (f"{overdue} row(s) held past their lease: start a worker or run "
                           "'flask batches reap-stale'")
    return "ok", f"{running} batch(es) processing"
