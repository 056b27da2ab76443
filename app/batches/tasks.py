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


def process_chunk(batch_id: int) -> dict:
    """Claim a chunk of rows of the batch, process them, then pass the turn on (or finish)."""
    worker = proc.worker_instance()
    proc.token_seen(batch_id)
    proc.reap_stale(batch_id=batch_id)
    batch = db.session.get(Batch, batch_id)
    if batch is None or batch.status != BatchStatus.PROCESSING:
        return {"claimed": 0}
    ids = proc.claim_rows(batch_id=batch_id, worker=worker, limit=batch.chunk_size)
    if not ids:
        _after_empty_claim(batch_id)
        return {"claimed": 0}
    mapping, org_id = dict(batch.mapping), batch.organisation_id
    templates = templates_for(org_id)
    done, last_beat = 0, time.monotonic()
    for row_id in ids:
        if _status(batch_id) != BatchStatus.PROCESSING:
            break
        done += _process_one(row_id, batch_id, worker, mapping, templates)
        if time.monotonic() - last_beat > 2:
            proc.heartbeat(worker=worker, batch_id=batch_id, jobs=1, processed=done)
            done, last_beat = 0, time.monotonic()
        proc.progress_tick(batch_id=batch_id)
    proc.release_claims(batch_id=batch_id, worker=worker)
    proc.heartbeat(worker=worker, batch_id=None, jobs=0, processed=done, status="idle")
    if not proc.batch_finish_if_done(batch_id=batch_id) and _status(batch_id) == BatchStatus.PROCESSING:
        proc._enqueue_now(batch_id, org_id, 1)
    return {"claimed": len(ids)}


def _status(batch_id: int) -> BatchStatus | None:
    return db.session.scalar(select(Batch.status).where(Batch.id == batch_id).execution_options(populate_existing=True))


def _process_one(row_id: int, batch_id: int, worker: str, mapping: dict, templates: dict) -> int:
    row = proc.row_start(row_id=row_id, worker=worker)
    if row is None:
        return 0
    started = time.perf_counter()
    data, served = dict(row.data), ai.Served(row.organisation_id, "batch_row", row_id, "batch", batch_id)
    try:
        # Texts, images and model calls take seconds: the row's lease covers it, no write lock does.
        with outside_write_lock(), ai.serving(served):
            results = process_row(data, mapping, templates)
    except RowInvalid as exc:
        proc.row_fail(row_id=row_id, batch_id=batch_id, worker=worker, message=str(exc), column=exc.column,
                      permanent=True)
        return 1
    except Exception as exc:  # recorded on the row and retried with backoff; the job goes on
        if database_lost(exc):
            raise  # not the row's fault: the job waits for the database and runs again (app.core.worker)
        db.session.rollback()
        log.warning("batch %s row %s failed", batch_id, row_id, exc_info=True)
        proc.row_fail(row_id=row_id, batch_id=batch_id, worker=worker, message=f"{type(exc).__name__}: {exc}")
        return 1
    results["worker"] = worker
    proc.row_complete(row_id=row_id, batch_id=batch_id, worker=worker, results=results, started=started,
                      warnings=results.get("image_problems"))
    return 1


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
