"""Statuses of tech files and of collections (see app.core.statuses)."""
from __future__ import annotations

from app.core.statuses import StatusEnum, define


class FileStatus(StatusEnum):
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    ARCHIVED = "archived"


F = FileStatus
define(F, moves={
    F.PROCESSING: {F.COMPLETED, F.FAILED},
    F.COMPLETED: {F.ARCHIVED},
    F.FAILED: {F.PROCESSING, F.ARCHIVED},  # generated again, or put away
    F.ARCHIVED: set(),  # a later version replaces an archived file; it never comes back itself
})


class CollectionStatus(StatusEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


C = CollectionStatus
define(C, moves={
    C.QUEUED: {C.RUNNING, C.FAILED},
    C.RUNNING: {C.COMPLETED, C.FAILED, C.QUEUED},  # queued again: its worker died and the lease ran out
    C.FAILED: {C.QUEUED},
    C.COMPLETED: set(),
}, groups={"in_flight": {C.QUEUED, C.RUNNING}})
