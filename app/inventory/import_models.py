"""Supplier imports (one uploaded export each) and the supplier lines they brought in."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import User, UTCDateTime, utcnow
from app.core.statuses import status_column
from app.extensions import db
from app.inventory.models import Item
from app.inventory.statuses import ImportStatus  # noqa: F401 - part of this domain's model


class SupplierImport(db.Model):
    __tablename__ = "supplier_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    supplier: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(255))  # the user's name for the file, a label only
    file_sha256: Mapped[str] = mapped_column(String(64))
    file_size: Mapped[int] = mapped_column(Integer)
    format: Mapped[str] = mapped_column(String(8))
    column_mapping: Mapped[dict | None] = mapped_column(JSON)
    default_currency: Mapped[str | None] = mapped_column(String(3))
    status: Mapped[ImportStatus] = status_column(ImportStatus, length=24)
    valid_only: Mapped[bool] = mapped_column(Boolean, default=False)
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    error_rows: Mapped[int] = mapped_column(Integer, default=0)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, default=0)
    skipped_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[list | None] = mapped_column(JSON)  # one dict per row: outcome, item, category, why
    error: Mapped[str | None] = mapped_column(Text)
    job_id: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User | None] = relationship()

    @property
    def percent(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0


class SupplierLine(db.Model):
    """A purchase line of a supplier order, keyed by its line id: importing it again updates it."""

    __tablename__ = "supplier_lines"
    __table_args__ = (UniqueConstraint("organisation_id", "supplier", "supplier_line_id",
                                       name="uq_supplier_lines_organisation_id_supplier_line"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    supplier: Mapped[str] = mapped_column(String(40))
    supplier_line_id: Mapped[str] = mapped_column(String(160))
    supplier_order_id: Mapped[str] = mapped_column(String(64))
    item_id: Mapped[int] = mapped_column(ForeignKey("inventory_items.id"), index=True)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("supplier_imports.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    received_quantity: Mapped[int] = mapped_column(Integer, default=0)  # what went into on_hand
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3))
    order_status: Mapped[str | None] = mapped_column(String(60))
    order_date: Mapped[date | None] = mapped_column(Date)
    store: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    item: Mapped[Item] = relationship()
