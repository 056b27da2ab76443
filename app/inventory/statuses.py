"""Statuses of inventory items and supplier imports (see app.core.statuses)."""
from __future__ import annotations

from app.core.statuses import StatusEnum, define


class ItemStatus(StatusEnum):
    """Derived from stock (see Item.status), never stored: any status may follow any other."""

    ACTIVE = "active"
    LOW_STOCK = "low_stock"
    OUT_OF_STOCK = "out_of_stock"
    DISCONTINUED = "discontinued"


define(ItemStatus, moves={s: set(ItemStatus) for s in ItemStatus})


class ImportStatus(StatusEnum):
    PREVIEWED = "previewed"
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    COMPLETED_WITH_ERRORS = "completed_with_errors"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in ImportStatus.group("finished")


I = ImportStatus  # noqa: E741 - the table reads better short
define(I, moves={
    I.PREVIEWED: {I.QUEUED, I.FAILED},
    I.QUEUED: {I.RUNNING, I.FAILED},
    I.RUNNING: {I.COMPLETED, I.COMPLETED_WITH_ERRORS, I.FAILED},
    I.COMPLETED: set(),
    I.COMPLETED_WITH_ERRORS: set(),
    I.FAILED: set(),
}, groups={"finished": {I.COMPLETED, I.COMPLETED_WITH_ERRORS, I.FAILED}})
