"""Reads for the pipeline pages: the board, the summary counts, the review queue, the log."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import case, func, null, or_, select

from app.core.models import Organisation, User
from app.core.pagination import like_escape
from app.extensions import db
from app.pipeline.models import (
    ACTIVE_STATUSES,
    BOARD_STATUSES,
    PHASE_LABELS,
    PhaseStatus,
    PipelineLog,
    Product,
    ProductImage,
    ProductPhase,
    ProductStatus,
)

# Cards per column on the whole board; one column alone shows COLUMN_PAGE cards a page, with "show more".
BOARD_LIMIT = 20
COLUMN_PAGE = 60
SEARCH_SCAN = 1000


@dataclass(frozen=True)
class PhaseDot:
    """One phase dot on a card, its strings made once (a board renders hundreds of them)."""

    name: str
    status: str
    css: str
    title: str

    @classmethod
    @lru_cache(maxsize=256)
    def of(cls, name: str, status: PhaseStatus) -> PhaseDot:
        label = PHASE_LABELS.get(name, name.capitalize())
        return cls(name, status.value, f"dot-{status.value.replace('_', '-')}", f"{label}: {status.label}")


@dataclass
class BoardCard:
    """What a board card shows, read as plain columns: the board holds no ORM objects."""

    id: int
    status: ProductStatus
    name: str | None
    hint_name: str | None
    confidence: int | None
    confidence_source: str | None
    suggestions: list | None = None
    image_id: int | None = None
    phases: list[PhaseDot] = field(default_factory=list)

    title = Product.title
    suggestions_for = Product.suggestions_for
    name_suggestion = Product.name_suggestion


def board(org_id: int, *, q: str = "", status: str = "", mine_id: int | None = None,
          archived: bool = False, page=1) -> dict:
    """Products grouped by status column, most recently changed first, with counts, after filters
    and search: BOARD_LIMIT cards a column, or pages of COLUMN_PAGE when one status is chosen."""
    statuses = list(BOARD_STATUSES) + ([ProductStatus.ARCHIVED] if archived or status == "archived" else [])
    if status:
        statuses = [s for s in statuses if s.value == status]
    scope = [Product.organisation_id == org_id, Product.status.in_(statuses)]
    if q.strip():
        # lower() LIKE lower(): what ILIKE means on SQLite, and on PostgreSQL 2–3× cheaper than ILIKE.
        like = func.lower(f"%{like_escape(q.strip())}%")
        scope.append(or_(*(func.lower(column).like(like, escape="\\") for column in (
            Product.name, Product.hint_name, Product.gtin, Product.brand, Product.model, Product.hint_model))))
    if mine_id:
        scope.append(Product.created_by_id == mine_id)
    page = _page_number(page) if len(statuses) == 1 else 1
    limit = COLUMN_PAGE if len(statuses) == 1 else BOARD_LIMIT
    counts, ids = _column_ids(scope, statuses, searching=bool(q.strip()), offset=(page - 1) * limit, limit=limit)
    cards = _cards([i for column in ids.values() for i in column])
    columns = []
    for s in statuses:
        shown = [cards[i] for i in ids.get(s, [])]
        total = counts.get(s, 0)
        columns.append({"status": s, "products": shown, "total": total, "page": page,
                        "more": max(0, total - (page - 1) * limit - len(shown))})
    _attach_images_and_phases(cards)
    return {"columns": columns}


def _column_ids(scope: list, statuses: list, *, searching: bool, offset: int, limit: int) -> tuple[dict, dict]:
    """(matching products per status, the ids shown in each column, newest first). A search cannot
    use an index for the text, so the columns' first cards come from one pass over the newest
    SEARCH_SCAN matches; a column still short after it (or any column unsearched) asks on its own."""
    newest = (Product.updated_at.desc(), Product.id.desc())
    counts: dict = {}
    ids: dict = {}
    if searching and offset == 0:
        matches = db.session.execute(select(Product.id, Product.status).where(*scope).order_by(*newest)
                                     .limit(SEARCH_SCAN)).all()
        for product_id, status in matches:
            counts[status] = counts.get(status, 0) + 1
            if counts[status] <= limit:
                ids.setdefault(status, []).append(product_id)
        if len(matches) < SEARCH_SCAN:  # every match was read: the counts are complete
            return counts, ids
    counts = dict(db.session.execute(select(Product.status, func.count()).where(*scope).group_by(Product.status)).all())
    for s in statuses:
        if len(ids.get(s, [])) < min(limit, counts.get(s, 0) - offset):
            ids[s] = list(db.session.scalars(select(Product.id).where(*scope, Product.status == s)
                                             .order_by(*newest).limit(limit).offset(offset)))
    return counts, ids


def _cards(ids: list[int]) -> dict[int, BoardCard]:
    if not ids:
        return {}
    # Only cards waiting for review show the name suggestion: other cards skip reading the JSON.
    suggestions = case((Product.status == ProductStatus.NEEDS_REVIEW, Product.suggestions), else_=null())
    rows = db.session.execute(select(Product.id, Product.status, Product.name, Product.hint_name, Product.confidence,
                                     Product.confidence_source, suggestions).where(Product.id.in_(ids))).all()
    return {row[0]: BoardCard(*row) for row in rows}


def _page_number(page) -> int:
    try:
        return max(1, int(page))
    except (TypeError, ValueError):
        return 1


def _attach_images_and_phases(cards: dict[int, BoardCard]) -> None:
    if not cards:
        return
    ids = list(cards)
    for product_id, image_id in db.session.execute(
            select(ProductImage.product_id, ProductImage.id).where(ProductImage.product_id.in_(ids))
            .order_by(ProductImage.product_id, ProductImage.position.desc(), ProductImage.id.desc())):
        cards[product_id].image_id = image_id  # the last one written per product is its first by position
    for product_id, name, phase_status in db.session.execute(
            select(ProductPhase.product_id, ProductPhase.name, ProductPhase.status)
            .where(ProductPhase.product_id.in_(ids)).order_by(ProductPhase.product_id, ProductPhase.position)):
        cards[product_id].phases.append(PhaseDot.of(name, phase_status))


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
