"""Tech files per product revision, their version history, collections and the credit cost table.

A "slot" is (organisation, product, revision, type, view, category): every regeneration,
replacement or rollback in a slot adds a version, and a partial unique index lets exactly one
row per slot be the latest. View and category are never NULL ('' when not used) so that the
index compares them (NULLs would never collide).
"""
from __future__ import annotations

import enum
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.enums import db_enum
from app.core.models import User, UTCDateTime, utcnow
from app.core.statuses import status_column
from app.extensions import db
from app.pipeline.models import Product, ProductImage  # noqa: F401  (FK targets must be in the metadata)
from app.techfiles.statuses import CollectionStatus, FileStatus  # noqa: F401 - part of this domain's model

SLOT_COLUMNS = ("organisation_id", "product_id", "revision", "file_type", "view", "category")
DEFAULT_REVISION = "1"
STALE_MINUTES = 15  # a running collection without progress for this long may be retried



class _Labelled(str, enum.Enum):
    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class FileType(_Labelled):
    BASE_VIEW = "base_view"
    CLOSE_UP = "close_up"
    SKETCH = "sketch"
    CATEGORY = "category"
    COMPLETE_PACK = "complete_pack"

    @property
    def plural(self) -> str:
        return {"base_view": "Base views", "close_up": "Close-ups", "sketch": "Sketches",
                "category": "Category shots", "complete_pack": "Complete packs"}[self.value]


class CollectionKind(_Labelled):
    TECH_PACK = "tech_pack"
    BASE_VIEWS = "base_views"
    CLOSE_UPS = "close_ups"
    SKETCHES = "sketches"
    CATEGORY_SHEET = "category_sheet"

    @property
    def steps(self) -> tuple[str, ...]:
        """The sections it makes by default, in order (each section is one file type)."""
        return {"tech_pack": STEPS, "base_views": ("base_views",), "close_ups": ("close_ups",),
                "sketches": ("sketches",), "category_sheet": ("category",)}[self.value]


# Sections in the order a pack is made: the category sheet needs base views, the complete pack
# needs everything before it.
STEPS = ("base_views", "close_ups", "sketches", "category", "complete_pack")
STEP_FILE_TYPE = {"base_views": FileType.BASE_VIEW, "close_ups": FileType.CLOSE_UP, "sketches": FileType.SKETCH,
                  "category": FileType.CATEGORY, "complete_pack": FileType.COMPLETE_PACK}
STEP_LABEL = {"base_views": "Base views", "close_ups": "Close-ups", "sketches": "Sketches",
              "category": "Category sheet", "complete_pack": "Complete pack (PDF)"}
PER_PHOTO_STEPS = ("base_views", "close_ups", "sketches")


class TechFile(db.Model):
    __tablename__ = "tech_files"
    __table_args__ = (
        Index("uq_tech_files_latest", *SLOT_COLUMNS, unique=True,
              sqlite_where=text("is_latest = 1"), postgresql_where=text("is_latest")),
        UniqueConstraint(*SLOT_COLUMNS, "version", name="uq_tech_files_slot_version"),
        Index("ix_tech_files_org_product", "organisation_id", "product_id"),
        Index("ix_tech_files_org_created", "organisation_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    revision: Mapped[str] = mapped_column(String(40), default=DEFAULT_REVISION)
    file_type: Mapped[FileType] = mapped_column(db_enum(FileType, length=20))
    view: Mapped[str] = mapped_column(String(40), default="", server_default="")
    category: Mapped[str] = mapped_column(String(80), default="", server_default="")
    status: Mapped[FileStatus] = status_column(FileStatus, length=16, default=FileStatus.COMPLETED)
    # The stored image (app.core.storage); None while processing or after a failure.
    sha256: Mapped[str | None] = mapped_column(String(64))
    mime: Mapped[str | None] = mapped_column(String(40))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    source_image_id: Mapped[int | None] = mapped_column(ForeignKey("product_images.id", ondelete="SET NULL"))
    analysis: Mapped[dict | None] = mapped_column(JSON)
    meta: Mapped[dict | None] = mapped_column("metadata", JSON)
    generator: Mapped[str] = mapped_column(String(60))
    model: Mapped[str | None] = mapped_column(String(120))
    parameters: Mapped[dict | None] = mapped_column(JSON)
    batch_id: Mapped[str | None] = mapped_column(String(40), index=True)
    credits: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    # 0..100; None where nothing meaningful was measured.
    confidence: Mapped[int | None] = mapped_column(Integer)
    quality: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("tech_files.id", ondelete="SET NULL"))
    is_latest: Mapped[bool] = mapped_column(Boolean, default=True)
    error: Mapped[str | None] = mapped_column(Text)
    # What it was made from (photo hashes, generator and version, parameters), hashed: a run
    # that would make the same file again reuses this one instead (see app.techfiles.fingerprints).
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    duration_ms: Mapped[int | None] = mapped_column(Integer)  # how long generating it took
    # A person's name for the shot ("clasp"); kept by every later version of the slot.
    label: Mapped[str | None] = mapped_column(String(80))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    product: Mapped[Product] = relationship()
    created_by: Mapped[User | None] = relationship()
    parent: Mapped[TechFile | None] = relationship(remote_side=[id])

    @property
    def shot_name(self) -> str:
        """What the shot shows: the person's name, else where it is on the object ("upper left")."""
        return self.label or (self.meta or {}).get("position_name") or self.category

    @property
    def slot(self) -> tuple:
        return tuple(getattr(self, c) for c in SLOT_COLUMNS)

    @property
    def title(self) -> str:
        parts = [self.file_type.label, self.view, self.shot_name]
        return " · ".join(p for p in parts if p)

    @property
    def is_pdf(self) -> bool:
        return self.mime == "application/pdf"

    @property
    def version_label(self) -> str:
        return f"v{self.version}"

    @property
    def object_found(self) -> bool | None:
        """Whether the generator found a distinct object in the photo (None when not recorded)."""
        found = ((self.analysis or {}).get("object") or {}).get("found")
        return None if found is None else bool(found)


class TechFileVersion(db.Model):
    """What happened to a slot, when, by whom and why, with a snapshot of the file it concerns."""

    __tablename__ = "tech_file_versions"
    __table_args__ = (Index("ix_tech_file_versions_org_product", "organisation_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    tech_file_id: Mapped[int] = mapped_column(ForeignKey("tech_files.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))  # created, regenerated, replaced, rolled_back, archived, annotated
    reason: Mapped[str | None] = mapped_column(Text)
    snapshot: Mapped[dict] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tech_file: Mapped[TechFile] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def action_label(self) -> str:
        return self.action.replace("_", " ").capitalize()


class Collection(db.Model):
    __tablename__ = "tech_collections"
    __table_args__ = (Index("ix_tech_collections_org_product", "organisation_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    kind: Mapped[CollectionKind] = mapped_column(db_enum(CollectionKind, length=20))
    name: Mapped[str | None] = mapped_column(String(120))  # "Winter 2025 line"
    sections: Mapped[list | None] = mapped_column(JSON)  # steps chosen (None: the kind's own)
    force: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    revision: Mapped[str] = mapped_column(String(40), default=DEFAULT_REVISION)
    status: Mapped[CollectionStatus] = status_column(CollectionStatus, length=16, default=CollectionStatus.QUEUED)
    progress: Mapped[int] = mapped_column(Integer, default=0)  # percent, 0..100
    current_step: Mapped[str | None] = mapped_column(String(200))
    failed_step: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[str] = mapped_column(String(40), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    rq_job_id: Mapped[str | None] = mapped_column(String(80))  # who holds the run's lease
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    product: Mapped[Product] = relationship()
    created_by: Mapped[User | None] = relationship()
    items: Mapped[list[CollectionItem]] = relationship(
        back_populates="collection", order_by="CollectionItem.position",
        cascade="all, delete-orphan")

    @property
    def title(self) -> str:
        return self.name or f"{self.kind.label} #{self.id}"

    @property
    def steps(self) -> tuple[str, ...]:
        """The sections this collection makes, in pack order."""
        chosen = set(self.sections or self.kind.steps)
        return tuple(s for s in STEPS if s in chosen)

    @property
    def retryable(self) -> bool:
        """Failed, or running with no progress for a long time (its worker died)."""
        if self.status == CollectionStatus.FAILED:
            return True
        return self.status == CollectionStatus.RUNNING and self.updated_at < utcnow() - timedelta(minutes=STALE_MINUTES)


class CollectionItem(db.Model):
    __tablename__ = "tech_collection_items"
    __table_args__ = (UniqueConstraint("collection_id", "tech_file_id"),
                      Index("ix_tech_collection_items_unit", "collection_id", "unit_key"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("tech_collections.id", ondelete="CASCADE"))
    tech_file_id: Mapped[int] = mapped_column(ForeignKey("tech_files.id", ondelete="CASCADE"))
    section: Mapped[str] = mapped_column(String(32))  # a step name: base_views, close_ups, sketches
    position: Mapped[int] = mapped_column(Integer, default=0)
    # The unit of work that made it (step + source photo): a retry skips units already present.
    unit_key: Mapped[str] = mapped_column(String(80))
    # True when an unchanged file made earlier was taken as it is (no credits charged for it here).
    reused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))

    collection: Mapped[Collection] = relationship(back_populates="items")
    tech_file: Mapped[TechFile] = relationship()


class CreditCost(db.Model):
    """Credits charged per generated file of a type; a type without a row costs DEFAULT_CREDITS."""

    __tablename__ = "tech_credit_costs"
    __table_args__ = (UniqueConstraint("organisation_id", "file_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    file_type: Mapped[FileType] = mapped_column(db_enum(FileType, length=20))
    credits: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


DEFAULT_CREDITS = Decimal("1")
# Assembling the PDF from files already paid for costs nothing unless the organisation sets a price.
DEFAULT_COSTS = {FileType.COMPLETE_PACK: Decimal("0")}


class ScaleReference(db.Model):
    """One length a person knows on a product photo ("chain length 45 cm"), in photo pixels.

    Entered on the photo's base view; every sketch of the same photo computes its measurement
    lines from it (and prints no number while there is none)."""

    __tablename__ = "tech_scale_references"
    __table_args__ = (UniqueConstraint("organisation_id", "source_image_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    source_image_id: Mapped[int] = mapped_column(ForeignKey("product_images.id", ondelete="CASCADE"))
    # The two ends of the known length, in pixels of the original photo.
    x1: Mapped[float] = mapped_column(Float)
    y1: Mapped[float] = mapped_column(Float)
    x2: Mapped[float] = mapped_column(Float)
    y2: Mapped[float] = mapped_column(Float)
    length: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    unit: Mapped[str] = mapped_column(String(8))
    label: Mapped[str] = mapped_column(String(80))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def pixels(self) -> float:
        return ((self.x2 - self.x1) ** 2 + (self.y2 - self.y1) ** 2) ** 0.5

    def as_dict(self) -> dict:
        return {"x1": self.x1, "y1": self.y1, "x2": self.x2, "y2": self.y2, "length": str(self.length),
                "unit": self.unit, "label": self.label}


class ShareLink(db.Model):
    """A read-only link to a product's pack (or one collection of it) for someone outside.

    Only a hash of the random token is stored; the address carries the token signed with the
    app's secret, so a made-up address is refused before the database is asked."""

    __tablename__ = "tech_share_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    collection_id: Mapped[int | None] = mapped_column(ForeignKey("tech_collections.id", ondelete="CASCADE"))
    revision: Mapped[str] = mapped_column(String(40), default=DEFAULT_REVISION)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(120))  # who it is for: "Ningbo factory"
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    product: Mapped[Product] = relationship()
    collection: Mapped[Collection | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    opens: Mapped[list[ShareOpen]] = relationship(back_populates="link", order_by="ShareOpen.id.desc()",
                                                  cascade="all, delete-orphan")

    @property
    def state(self) -> str:
        """active, expired or revoked."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= utcnow() else "active"


class ShareOpen(db.Model):
    """One time a shared link was opened: when, from which address, what was asked for."""

    __tablename__ = "tech_share_opens"
    __table_args__ = (Index("ix_tech_share_opens_link_id", "link_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("tech_share_links.id", ondelete="CASCADE"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    address: Mapped[str | None] = mapped_column(String(64))
    what: Mapped[str] = mapped_column(String(20))  # page or pdf
    user_agent: Mapped[str | None] = mapped_column(String(200))

    link: Mapped[ShareLink] = relationship(back_populates="opens")
