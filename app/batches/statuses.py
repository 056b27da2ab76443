"""Statuses of CSV batches, their rows and the workers processing them (see app.core.statuses)."""
from __future__ import annotations

from app.core.statuses import StatusEnum, define


class BatchStatus(StatusEnum):
    UPLOADED = "uploaded"
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    COMPLETED_WITH_ERRORS = "completed_with_errors"
    CANCELLED = "cancelled"
    FAILED = "failed"


B = BatchStatus
define(B, moves={
    B.UPLOADED: {B.QUEUED, B.FAILED, B.CANCELLED},
    B.QUEUED: {B.PROCESSING, B.CANCELLED, B.FAILED},
    B.PROCESSING: {B.COMPLETED, B.COMPLETED_WITH_ERRORS, B.CANCELLED, B.FAILED},
    B.COMPLETED: set(),
    B.COMPLETED_WITH_ERRORS: {B.QUEUED},  # retry the failed rows
    B.CANCELLED: {B.QUEUED},  # resume
    B.FAILED: {B.QUEUED},  # resume / retry
}, groups={"active": {B.QUEUED, B.PROCESSING},
           "finished": {B.COMPLETED, B.COMPLETED_WITH_ERRORS, B.CANCELLED, B.FAILED}},
   # Batch pages write the status inside sentences ("Batch completed with errors: …").
   labels={s.value: s.value.replace("_", " ") for s in B})

ACTIVE_STATUSES = (B.QUEUED, B.PROCESSING)
FINISHED_STATUSES = (B.COMPLETED, B.COMPLETED_WITH_ERRORS, B.CANCELLED, B.FAILED)


class RowStatus(StatusEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


R = RowStatus
define(R, moves={
    R.PENDING: {R.CLAIMED},
    R.CLAIMED: {R.PROCESSING, R.PENDING},  # pending again: given back unstarted, or its lease ran out
    R.PROCESSING: {R.COMPLETED, R.FAILED, R.PENDING},  # pending again: retried with backoff, or lease lost
    R.COMPLETED: set(),
    R.FAILED: {R.PENDING},  # "retry failed rows"
}, groups={"in_flight": {R.CLAIMED, R.PROCESSING}})

IN_FLIGHT = (R.CLAIMED.value, R.PROCESSING.value)


class WorkerStatus(StatusEnum):
    BUSY = "busy"
    IDLE = "idle"
    STALE = "stale"  # it was busy and stopped renewing its leases


W = WorkerStatus
define(W, moves={W.BUSY: {W.BUSY, W.IDLE, W.STALE}, W.IDLE: {W.BUSY, W.IDLE}, W.STALE: {W.BUSY, W.IDLE}},
       labels={s.value: s.value for s in W})
