"""Reads for the pipeline pages: the board, the summary counts, the review queue, the log."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from app.core.models import Organisation, User
from app.extensions import db
from app.pipeline.models import (
    ACTIVE_STATUSES,
    BOARD_STATUSES,
    PipelineLog,
    Product,
    ProductStatus,
)

BOARD_LIMIT = 60  # cards per column; the column says how many more there are


def board(org_id: int, *, q: str = "", status: str = "", mine_id: int | None = None,
          archived: bool = False) -> dict:
    """Products grouped by status column, newest first, with counts, after filters and search."""
    statuses = list(BOARD_STATUSES) + ([ProductStatus.ARCHIVED] if archived or status == "archived" else [])
    if status:
        statuses = [s for s in statuses if s.value == status]
    base = select(Product).where(Product.organisation_id == org_id)
    if q.strip():
        like = f"%{q.strip()}%"
        base = base.where(or_(Product.name.ilike(like), Product.hint_name.ilike(like), Product.gtin.ilike(like),
                              Product.brand.ilike(like), Product.model.ilike(like), Product.hint_model.ilike(like)))
    if mine_id:
        base = base.where(Product.created_by_id == mine_id)
    counts = dict(db.session.execute(
        base.with_only_columns(Product.status, func.count()).group_by(Product.status)).all())
    columns = []
    for s in statuses:
        rows = db.session.scalars(base.where(Product.status == s).options(
            selectinload(Product.images), selectinload(Product.phases))
            .order_by(Product.updated_at.desc(), Product.id.desc()).limit(BOARD_LIMIT)).all()
        columns.append({"status": s, "products": rows, "total": counts.get(s, 0)})
    return {"columns": columns}


def summary(org_id: int) -> dict:
    """Counts for the dashboard card."""
    counts = dict(db.session.execute(
        select(Product.status, func.count()).where(Product.organisation_id == org_id)
        .group_by(Product.status)).all())
    return {
        "total": sum(v for k, v in counts.items() if k != ProductStatus.ARCHIVED),
        "active": sum(counts.get(s, 0) for s in ACTIVE_STATUSES),
        "completed": counts.get(ProductStatus.COMPLETED, 0),
        "needs_review": counts.get(ProductStatus.NEEDS_REVIEW, 0),
        "errors": counts.get(ProductStatus.ERROR, 0),
    }


# Confidence bands the review queue filters by (the calibration table uses finer ones).
REVIEW_BANDS = {"0-39": (0, 39), "40-59": (40, 59), "60-79": (60, 79), "80-100": (80, 100)}
REVIEW_QUEUE_CAP = 5000


@dataclass(frozen=True)
class ReviewFilters:
    uploader_id: int | None = None
    band: str = ""
    reason: str = ""

    def as_args(self) -> dict:
        return {k: v for k, v in (("uploader", self.uploader_id), ("band", self.band), ("reason", self.reason)) if v}


def review_queue(org_id: int, filters: ReviewFilters | None = None) -> list[int]:
    """Ids of products waiting for review, oldest first, after the uploader/band/reason filters."""
    filters = filters or ReviewFilters()
    query = select(Product.id, Product.review_reasons).where(
        Product.organisation_id == org_id, Product.status == ProductStatus.NEEDS_REVIEW)
    if filters.uploader_id:
        query = query.where(Product.created_by_id == filters.uploader_id)
    if filters.band in REVIEW_BANDS:
        low, high = REVIEW_BANDS[filters.band]
        query = query.where(func.coalesce(Product.confidence, 0).between(low, high))
    rows = db.session.execute(query.order_by(Product.created_at, Product.id).limit(REVIEW_QUEUE_CAP)).all()
    if filters.reason:
        rows = [r for r in rows if filters.reason in (r.review_reasons or [])]
    return [r.id for r in rows]


def review_uploaders(org_id: int) -> list[tuple[int, str]]:
    """(user id, name) of everyone with a product waiting for review, for the queue's filter."""
    rows = db.session.execute(select(User.id, User.name, User.email).join(Product, Product.created_by_id == User.id)
                              .where(Product.organisation_id == org_id,
                                     Product.status == ProductStatus.NEEDS_REVIEW).distinct()).all()
    return sorted(((r.id, r.name or r.email) for r in rows), key=lambda r: r[1].casefold())


def log_lines(product_id: int, *, limit: int = 200) -> list[PipelineLog]:
    rows = db.session.scalars(select(PipelineLog).where(PipelineLog.product_id == product_id)
                              .order_by(PipelineLog.id.desc()).limit(limit)).all()
    return list(reversed(rows))


def organisation(org_id: int) -> Organisation:
    """The organisation's own row (its identification threshold)."""
    return db.session.get(Organisation, org_id)
