"""Statuses of backup runs: backups, restore drills and storage sweeps (see app.core.statuses)."""
from __future__ import annotations

from app.core.enums import LabelledEnum
from app.core.statuses import StatusEnum, define


class RunKind(LabelledEnum):
    BACKUP = "backup"
    DRILL = "drill"
    SWEEP = "sweep"  # storage hygiene: remove files no row names (or only measure, when dry)


class RunStatus(StatusEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"  # another run of the same kind was still going


S = RunStatus
define(S, moves={
    S.QUEUED: {S.RUNNING, S.SKIPPED, S.FAILED},
    S.RUNNING: {S.SUCCEEDED, S.FAILED, S.SKIPPED, S.QUEUED},  # QUEUED: its worker died, it runs again
    S.SUCCEEDED: set(),
    S.FAILED: set(),
    S.SKIPPED: set(),
}, groups={"active": {S.QUEUED, S.RUNNING}, "finished": {S.SUCCEEDED, S.FAILED, S.SKIPPED}})
