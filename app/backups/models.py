"""One row per backup, drill or storage sweep, scheduled or asked for: what ran, when, and what it found.

The backups themselves are folders in BACKUP_DIR (see app.backups.layout); these rows are the
schedule's memory (a slot that has its row has been taken care of) and the health page's history.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.backups.statuses import RunKind, RunStatus
from app.core.enums import db_enum
from app.core.models import UTCDateTime, utcnow
from app.core.statuses import status_column
from app.extensions import db


class BackupRun(db.Model):
    __tablename__ = "backup_runs"
    # One row per scheduled slot ("2026-12-05" for the daily backup): however many workers
    # notice the slot is due, only the first insert wins. Runs asked for by hand have no slot.
    __table_args__ = (UniqueConstraint("kind", "slot", name="uq_backup_runs_kind_slot"),
                      Index("ix_backup_runs_kind_status", "kind", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[RunKind] = mapped_column(db_enum(RunKind, length=16))
    slot: Mapped[str | None] = mapped_column(String(32))
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[RunStatus] = status_column(RunStatus, length=16, default=RunStatus.QUEUED)
    holder: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    requested_by: Mapped[str] = mapped_column(String(120), default="schedule")
    backup_name: Mapped[str | None] = mapped_column(String(80))
    summary: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text)
    report: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()
