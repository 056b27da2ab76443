"""Statuses of products and of their phases (see app.core.statuses)."""
from __future__ import annotations

from app.core.statuses import StatusEnum, define


class ProductStatus(StatusEnum):
    UPLOADED = "uploaded"
    PROCESSING = "processing"
    NEEDS_REVIEW = "needs_review"
    COMPLETED = "completed"
    ERROR = "error"
    STOPPED = "stopped"
    ARCHIVED = "archived"


P = ProductStatus
define(P, moves={
    P.UPLOADED: {P.PROCESSING, P.STOPPED, P.ARCHIVED},
    P.PROCESSING: {P.PROCESSING, P.NEEDS_REVIEW, P.COMPLETED, P.ERROR, P.STOPPED},
    P.NEEDS_REVIEW: {P.PROCESSING, P.COMPLETED, P.ARCHIVED},
    P.COMPLETED: {P.PROCESSING, P.ARCHIVED},
    P.ERROR: {P.PROCESSING, P.ARCHIVED},
    P.STOPPED: {P.PROCESSING, P.ARCHIVED},
    P.ARCHIVED: set(),
}, groups={"active": {P.UPLOADED, P.PROCESSING}})

# Board columns, in order (archived products are only shown when asked for).
BOARD_STATUSES = (P.UPLOADED, P.PROCESSING, P.NEEDS_REVIEW, P.COMPLETED, P.ERROR, P.STOPPED)
ACTIVE_STATUSES = tuple(s for s in P if s in P.group("active"))


class PhaseStatus(StatusEnum):
    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    NEEDS_REVIEW = "needs_review"
    STOPPED = "stopped"
    SKIPPED = "skipped"


S = PhaseStatus
_RESTARTABLE = {S.PENDING, S.QUEUED}
define(S, moves={
    S.PENDING: {S.QUEUED, S.SKIPPED, S.STOPPED},
    S.QUEUED: {S.QUEUED, S.RUNNING, S.STOPPED, S.PENDING, S.SKIPPED},  # queued → queued: a lost job re-sent
    # running → queued: a transient failure retried, or its worker died (lease expired)
    S.RUNNING: {S.COMPLETED, S.FAILED, S.NEEDS_REVIEW, S.STOPPED, S.QUEUED, S.SKIPPED},
    S.COMPLETED: _RESTARTABLE,
    S.FAILED: _RESTARTABLE,
    S.NEEDS_REVIEW: _RESTARTABLE | {S.COMPLETED, S.STOPPED},
    S.STOPPED: _RESTARTABLE,
    S.SKIPPED: _RESTARTABLE,
}, groups={"done": {S.COMPLETED, S.SKIPPED}, "in_flight": {S.QUEUED, S.RUNNING}})

PHASE_DONE = (S.COMPLETED, S.SKIPPED)
PHASE_IN_FLIGHT = (S.QUEUED, S.RUNNING)
