"""Reads for the batch pages: the organisation's batches, a batch's workers, rows, errors and log."""
from __future__ import annotations

from sqlalchemy import distinct, select

from app.batches.models import IN_FLIGHT, Batch, BatchLog, BatchRow, BatchWorker, RowStatus
from app.core.pagination import Page, paginate
from app.core.tenancy import scoped
from app.extensions import db

LOG_LEVELS = ("info", "warning", "error")


def batches(org_id: int, page) -> Page:
    """The organisation's batches, newest first."""
    return paginate(scoped(Batch, org_id).order_by(Batch.id.desc()), page, 25)


def batch_workers(batch: Batch) -> list[BatchWorker]:
    """The workers working on this batch: holding its rows, or naming it as their current batch.

    The worker table is shared by every organisation (a worker serves them all), so a batch page
    shows only the workers busy with that batch, never the others'."""
    holders = select(distinct(BatchRow.claimed_by)).where(BatchRow.batch_id == batch.id, BatchRow.status.in_(IN_FLIGHT))
    return list(db.session.scalars(select(BatchWorker).where(
        (BatchWorker.current_batch_id == batch.id) | BatchWorker.instance.in_(holders))
        .order_by(BatchWorker.instance)))


def recent_problems(batch: Batch, limit: int = 8) -> list[BatchLog]:
    """The batch's latest errors and warnings."""
    return db.session.scalars(select(BatchLog).where(BatchLog.batch_id == batch.id,
                                                     BatchLog.level.in_(("error", "warning")))
                              .order_by(BatchLog.id.desc()).limit(limit)).all()


def batch_rows(batch: Batch, *, status: str, page) -> tuple[Page, str]:
    """One page of the batch's rows, in file order, of one status if a known one is asked for."""
    query = select(BatchRow).where(BatchRow.batch_id == batch.id).order_by(BatchRow.row_number)
    if status in {s.value for s in RowStatus}:
        query = query.where(BatchRow.status == status)
    else:
        status = ""
    return paginate(query, page, 25), status


def batch_log(batch: Batch, *, level: str, operation: str, page) -> tuple[Page, list[str]]:
    """One page of the batch's log, newest first, filtered; and the operations it holds (for the filter)."""
    query = select(BatchLog).where(BatchLog.batch_id == batch.id).order_by(BatchLog.id.desc())
    if level:
        query = query.where(BatchLog.level == level)
    if operation:
        query = query.where(BatchLog.operation == operation)
    operations = db.session.scalars(select(distinct(BatchLog.operation)).where(BatchLog.batch_id == batch.id)
                                    .order_by(BatchLog.operation)).all()
    return paginate(query, page, 50), operations
