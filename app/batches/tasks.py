"""Background jobs of CSV batches: thin, given ids, safe to run twice."""
from __future__ import annotations

import logging
import time

from sqlalchemy import select

from app.batches import processing as proc
from app.batches.generate import RowInvalid, process_row
from app.batches.models import IN_FLIGHT, Batch, BatchRow, BatchStatus, RowStatus
from app.batches.services import templates_for
from app.core import ai
from app.core.database import database_lost, outside_write_lock
from app.core.models import utcnow
from app.extensions import db

log = logging.getLogger(__name__)


FLUSH_SECONDS = 1.0  # results are written at least this often (progress stays live; a crash loses less)
STATUS_CHECK_SECONDS = 0.25  # a cancel or pause is seen this soon (a query per row cost 15 % of a fast row)


def process_chunk(batch_id: int) -> dict:
    """Claim a chunk of rows of the batch, process them, then pass the turn on (or finish).

    Rows are computed outside any transaction and their results written together, one
    transaction per chunk (or per second of work): on SQLite two workers would otherwise queue on
    the write lock for every row. The claim's lease covers the rows meanwhile. While the job has
    run less than BATCH_JOB_SECONDS it claims the next chunk itself: fast rows do not pay for a job (a
    fork, a connection, a claim) every twenty rows, and other batches still get a turn."""
    worker = proc.worker_instance()
    proc.token_seen(batch_id)
    proc.reap_stale(batch_id=batch_id)
    started, claimed, org_id = time.monotonic(), 0, None
    job_seconds = proc.setting("BATCH_JOB_SECONDS", 5)
    while True:
        batch = db.session.get(Batch, batch_id)
        if batch is None or batch.status != BatchStatus.PROCESSING:
            return {"claimed": claimed}
        ids = proc.claim_rows(batch_id=batch_id, worker=worker, limit=batch.chunk_size)
        if not ids:
            if not claimed:
                _after_empty_claim(batch_id)
                return {"claimed": 0}
            break
        claimed += len(ids)
        org_id = batch.organisation_id
        _work_through(batch_id, worker, ids, dict(batch.mapping), org_id)
        if time.monotonic() - started >= job_seconds or _status(batch_id) != BatchStatus.PROCESSING:
            break
    proc.heartbeat(worker=worker, batch_id=None, jobs=0, status="idle")
    if not proc.batch_finish_if_done(batch_id=batch_id) and _status(batch_id) == BatchStatus.PROCESSING:
        proc._enqueue_now(batch_id, org_id, 1)
    return {"claimed": claimed}


def _work_through(batch_id: int, worker: str, ids: list[int], mapping: dict, org_id: int) -> None:
    """Process one claimed chunk, writing results every FLUSH_SECONDS and at its end."""
    templates = templates_for(org_id)
    rows = dict(db.session.execute(select(BatchRow.id, BatchRow.data).where(BatchRow.id.in_(ids))).all())
    db.session.rollback()  # ends the read: nothing is held while the rows are computed
    done: list[proc.RowDone] = []
    last_flush = last_check = time.monotonic()
    for row_id in ids:
        if time.monotonic() - last_check >= STATUS_CHECK_SECONDS:
            if _status(batch_id) != BatchStatus.PROCESSING:
                break  # cancelled or paused: the rows not started go back with the claim's release
            last_check = time.monotonic()
        outcome = _process_one(row_id, dict(rows[row_id]), org_id, batch_id, worker, mapping, templates)
        if outcome is not None:
            done.append(outcome)
        if time.monotonic() - last_flush >= FLUSH_SECONDS:
            proc.rows_complete(batch_id=batch_id, worker=worker, done=done, heartbeat_jobs=1)
            proc.progress_tick(batch_id=batch_id)
            done, last_flush = [], time.monotonic()
    proc.rows_complete(batch_id=batch_id, worker=worker, done=done)
    proc.progress_tick(batch_id=batch_id)
    proc.release_claims(batch_id=batch_id, worker=worker)


def _status(batch_id: int) -> BatchStatus | None:
    with outside_write_lock():  # a plain read: checked before every row, it must not take the write lock
        return db.session.scalar(select(Batch.status).where(Batch.id == batch_id)
                                 .execution_options(populate_existing=True))


def _process_one(row_id: int, data: dict, org_id: int, batch_id: int, worker: str, mapping: dict,
                 templates: dict) -> proc.RowDone | None:
    """The row's results to write with its chunk, or None when its failure was recorded now."""
    started_at, started = utcnow(), time.perf_counter()
    served = ai.Served(org_id, "batch_row", row_id, "batch", batch_id)
    try:
        # Texts, images and model calls take seconds: the row's lease covers it, no write lock does.
        with outside_write_lock(), ai.serving(served):
            results = process_row(data, mapping, templates)
    except RowInvalid as exc:
        _fail(row_id, batch_id, worker, str(exc), column=exc.column, permanent=True)
        return None
    except Exception as exc:  # recorded on the row and retried with backoff; the job goes on
        if database_lost(exc):
            raise  # not the row's fault: the job waits for the database and runs again (app.core.worker)
        db.session.rollback()
        log.warning("batch %s row %s failed", batch_id, row_id, exc_info=True)
        _fail(row_id, batch_id, worker, f"{type(exc).__name__}: {exc}")
        return None
    results["worker"] = worker
    return proc.RowDone(row_id=row_id, results=results, started_at=started_at,
                        duration_ms=int((time.perf_counter() - started) * 1000),
                        warnings=tuple(results.get("image_problems") or ()))


def _fail(row_id: int, batch_id: int, worker: str, message: str, **how) -> None:
    """Failures are rare: the row is started and its failure recorded at once (backoff, log)."""
    if proc.row_start(row_id=row_id, worker=worker) is not None:
        proc.row_fail(row_id=row_id, batch_id=batch_id, worker=worker, message=message, **how)


def _after_empty_claim(batch_id: int) -> None:
    """Nothing claimable: finish, wait for backed-off rows, or leave it to the jobs still working."""
    if proc.batch_finish_if_done(batch_id=batch_id):
        return
    batch = db.session.get(Batch, batch_id)
    if batch is None or batch.status != BatchStatus.PROCESSING:
        return
    next_at = db.session.scalar(select(BatchRow.next_attempt_at).where(
        BatchRow.batch_id == batch_id, BatchRow.status == RowStatus.PENDING.value,
        BatchRow.next_attempt_at.is_not(None)).order_by(BatchRow.next_attempt_at).limit(1))
    ready_now = db.session.scalar(select(BatchRow.id).where(
        BatchRow.batch_id == batch_id, BatchRow.status == RowStatus.PENDING.value,
        BatchRow.next_attempt_at.is_(None)).limit(1))
    lease_end = db.session.scalar(select(BatchRow.lease_expires_at).where(
        BatchRow.batch_id == batch_id, BatchRow.status.in_(IN_FLIGHT)).order_by(BatchRow.lease_expires_at).limit(1))
    # Come back when a backed-off row is due or another worker's lease could run out.
    wake = [t for t in (next_at if ready_now is None else None, lease_end) if t is not None]
    if wake:
        delay = max(1.0, (min(wake) - utcnow()).total_seconds() + 0.5)
        proc._enqueue_now(batch_id, batch.organisation_id, 1, delay=delay)
