"""CSV batches: the uploaded file, one row job per product row, worker heartbeats, the log,
saved column mappings and the organisation's prompt templates."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.batches.statuses import (  # noqa: F401 - the statuses are part of this domain's model
    ACTIVE_STATUSES,
    FINISHED_STATUSES,
    IN_FLIGHT,
    BatchStatus,
    RowStatus,
    WorkerStatus,
)
from app.core.models import User, UTCDateTime, utcnow
from app.core.statuses import status_column
from app.extensions import db


class Batch(db.Model):
    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    stored_sha256: Mapped[str] = mapped_column(String(64))
    stored_suffix: Mapped[str] = mapped_column(String(16), default=".csv")
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    format: Mapped[dict] = mapped_column(JSON, default=dict)
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)
    validation: Mapped[dict | None] = mapped_column(JSON)
    status: Mapped[BatchStatus] = status_column(BatchStatus, length=32, default=BatchStatus.UPLOADED, index=True)
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    successful_rows: Mapped[int] = mapped_column(Integer, default=0)
    failed_rows: Mapped[int] = mapped_column(Integer, default=0)
    max_concurrent_jobs: Mapped[int] = mapped_column(Integer, default=2)
    chunk_size: Mapped[int] = mapped_column(Integer, default=20)
    rate_rows_per_min: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User | None] = relationship()

    @property
    def remaining_rows(self) -> int:
        return max(0, self.total_rows - self.processed_rows)

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status in FINISHED_STATUSES else 0
        return int(100 * self.processed_rows / self.total_rows)

    @property
    def average_rows_per_min(self) -> float | None:
        """Rows per minute over the whole run of a finished batch (its live rate ends with it)."""
        if self.status not in FINISHED_STATUSES or not (self.started_at and self.finished_at and self.processed_rows):
            return None
        minutes = max((self.finished_at - self.started_at).total_seconds(), 1.0) / 60
        return round(self.processed_rows / minutes, 1)

    @property
    def eta_minutes(self) -> float | None:
        if self.status != BatchStatus.PROCESSING or not self.rate_rows_per_min:
            return None
        return self.remaining_rows / self.rate_rows_per_min

    def allows(self, target: BatchStatus) -> bool:
        return self.status.can_become(target)


class BatchRow(db.Model):
    __tablename__ = "batch_rows"
    __table_args__ = (
        Index("ix_batch_rows_claim", "batch_id", "status", "id"),
        Index("ix_batch_rows_finished", "batch_id", "finished_at"),
        UniqueConstraint("batch_id", "row_number", name="uq_batch_rows_batch_id_row_number"),
        CheckConstraint("status IN ('pending', 'claimed', 'processing', 'completed', 'failed')", name="status"),
        CheckConstraint("retry_count >= 0 AND retry_count <= 3", name="retry_count"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"))
    row_number: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict] = mapped_column(JSON)
    status: Mapped[RowStatus] = status_column(RowStatus, length=16, default=RowStatus.PENDING)
    retry_count: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    results: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    error_column: Mapped[str | None] = mapped_column(String(255))
    # "invalid": the file's row itself is wrong (retrying cannot help); "error": the work failed.
    error_kind: Mapped[str | None] = mapped_column(String(16))


class BatchWorker(db.Model):
    """A worker instance's heartbeat while it processes batch rows (one row per instance)."""

    __tablename__ = "batch_workers"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[WorkerStatus] = status_column(WorkerStatus, length=16, default=WorkerStatus.IDLE)
    current_batch_id: Mapped[int | None] = mapped_column(Integer)
    current_jobs: Mapped[int] = mapped_column(Integer, default=0)
    processed_count: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_heartbeat: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class BatchLog(db.Model):
    __tablename__ = "batch_logs"
    __table_args__ = (Index("ix_batch_logs_batch_id_id", "batch_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(16))  # info | warning | error
    operation: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SavedMapping(db.Model):
    __tablename__ = "batch_saved_mappings"
    __table_args__ = (UniqueConstraint("organisation_id", "name", name="uq_batch_saved_mappings_org_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    mapping: Mapped[dict] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PromptTemplate(db.Model):
    __tablename__ = "batch_prompt_templates"
    __table_args__ = (UniqueConstraint("organisation_id", "style", name="uq_batch_prompt_templates_org_style"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    style: Mapped[str] = mapped_column(String(40))
    template: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
