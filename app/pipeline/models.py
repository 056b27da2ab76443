"""Products moving through the intake pipeline: images, phases, the log, external model calls.

The statuses and their allowed moves are in app.pipeline.statuses; `ProductStatus.check(old, new)`
and `PhaseStatus.check(old, new)` raise on anything else.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.enums import LabelledEnum, db_enum
from app.core.models import User, UTCDateTime, utcnow
from app.core.statuses import status_column
from app.extensions import db
from app.pipeline.statuses import (  # noqa: F401 - the statuses are part of this domain's model
    ACTIVE_STATUSES,
    BOARD_STATUSES,
    PHASE_DONE,
    PHASE_IN_FLIGHT,
    PhaseStatus,
    ProductStatus,
)

PHASE_NAMES = ("analysis", "market", "seo", "listing")
PHASE_LABELS = {"analysis": "Analysis", "market": "Market research", "seo": "SEO", "listing": "Listing"}



class Condition(LabelledEnum):
    UNKNOWN = "unknown"
    NEW = "new"
    LIKE_NEW = "like_new"
    USED = "used"
    DAMAGED = "damaged"



class LogLevel(LabelledEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class Product(db.Model):
    __tablename__ = "products"
    __table_args__ = (
        Index("ix_products_org_status", "organisation_id", "status"),
        Index("ix_products_org_gtin", "organisation_id", "gtin"),
        # The analysis phase's check of what changed (app.pipeline.catalogue): count and latest change from the index.
        Index("ix_products_org_updated", "organisation_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    status: Mapped[ProductStatus] = status_column(ProductStatus, length=16, default=ProductStatus.UPLOADED)
    # What the person told us at upload; never overwritten by analysis.
    hint_name: Mapped[str | None] = mapped_column(String(200))
    hint_model: Mapped[str | None] = mapped_column(String(120))
    condition: Mapped[Condition] = mapped_column(db_enum(Condition, length=16), default=Condition.UNKNOWN)
    # What analysis (or a reviewer) identified; None when nobody found it.
    name: Mapped[str | None] = mapped_column(String(200))
    brand: Mapped[str | None] = mapped_column(String(120))
    model: Mapped[str | None] = mapped_column(String(120))
    category: Mapped[str | None] = mapped_column(String(200))
    gtin: Mapped[str | None] = mapped_column(String(14))
    confidence: Mapped[int | None] = mapped_column(Integer)
    confidence_source: Mapped[str | None] = mapped_column(String(40))  # "analysis" | "confirmed by person"
    evidence: Mapped[dict | None] = mapped_column(JSON)
    phash: Mapped[str | None] = mapped_column(String(32))
    # Where each identified field came from: "upload" (typed by the uploader), "person" (a
    # reviewer), or the machine path that set it ("catalogue", "reference data", "text match").
    field_sources: Mapped[dict | None] = mapped_column(JSON)
    # Machine guesses below the threshold, never written into the fields: each
    # {"field", "value", "source", "score", "why"}; one click in the review form accepts one.
    suggestions: Mapped[list | None] = mapped_column(JSON)
    # Why the product waits for a person (codes from app.pipeline.identify.REVIEW_REASONS).
    review_reasons: Mapped[list | None] = mapped_column(JSON)
    # The photo text lines a reviewer marked as real product text; later phases use only these.
    kept_text: Mapped[list | None] = mapped_column(JSON)
    # Fair ordering: how many of the uploader's products were still in flight when this one
    # arrived; products beyond the fair share go to the low queue (see pipeline.fairness).
    fair_rank: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    queue: Mapped[str] = mapped_column(String(16), default="default", server_default="default")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    archive_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    images: Mapped[list[ProductImage]] = relationship(
        back_populates="product", order_by="ProductImage.position", cascade="all, delete-orphan")
    phases: Mapped[list[ProductPhase]] = relationship(
        back_populates="product", order_by="ProductPhase.position", cascade="all, delete-orphan")

    @property
    def title(self) -> str:
        return self.name or self.hint_name or f"Product #{self.id}"

    def suggestions_for(self, field_name: str) -> list[dict]:
        """Machine suggestions for one field (below the threshold, or beside a person's value)."""
        return [s for s in (self.suggestions or []) if s.get("field") == field_name]

    @property
    def name_suggestion(self) -> dict | None:
        """The strongest suggestion for the name (a catalogue or reference reading first)."""
        found = self.suggestions_for("name")
        return found[0] if found else None

    def source_of(self, field_name: str) -> str | None:
        """Who set a field: "upload", "person", or the machine path that wrote it."""
        return (self.field_sources or {}).get(field_name)

    @property
    def primary_image(self) -> ProductImage | None:
        return self.images[0] if self.images else None

    def phase(self, name: str) -> ProductPhase | None:
        return next((p for p in self.phases if p.name == name), None)

    def set_status(self, new: ProductStatus) -> None:
        ProductStatus.check(self.status, new)
        self.status = ProductStatus(new)


class ProductImage(db.Model):
    __tablename__ = "product_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))  # the user's name for it: a label only
    format: Mapped[str] = mapped_column(String(16))
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)  # 0 is the primary image
    thumb_sha256: Mapped[str | None] = mapped_column(String(64))
    analysis: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    product: Mapped[Product] = relationship(back_populates="images")


class ProductPhase(db.Model):
    __tablename__ = "product_phases"
    __table_args__ = (
        UniqueConstraint("product_id", "name"),
        Index("ix_product_phases_status_lease", "status", "lease_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[PhaseStatus] = status_column(PhaseStatus, length=16, default=PhaseStatus.PENDING)
    # Attempts of the current run (automatic retries stop at MAX_ATTEMPTS); reset by retry/restart.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Every attempt this phase ever made, across retries and restarts.
    attempts_total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rq_job_id: Mapped[str | None] = mapped_column(String(80))
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    product: Mapped[Product] = relationship(back_populates="phases")

    @property
    def label(self) -> str:
        return PHASE_LABELS.get(self.name, self.name.capitalize())


class PipelineLog(db.Model):
    __tablename__ = "pipeline_log"
    __table_args__ = (Index("ix_pipeline_log_product_id_id", "product_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    phase: Mapped[str | None] = mapped_column(String(32))
    level: Mapped[LogLevel] = mapped_column(db_enum(LogLevel, length=8), default=LogLevel.INFO)
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

