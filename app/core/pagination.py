"""List queries: pages of a SELECT (tables and HTMX "load more"), and LIKE patterns for their searches."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select

from app.extensions import db


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(query: Select, page, per_page: int = 50, *, count: bool = True) -> Page:
    """One page of ORM rows; a bad page number is page 1."""
    try:
        page = max(1, int(page))
    except (TypeError, ValueError):
        page = 1
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) if count else 0
    return Page(_page_rows(query, per_page, (page - 1) * per_page), page, per_page, total or 0)


DEFERRED_FROM = 1000  # rows skipped before a page is found by its ids first


def _page_rows(query: Select, per_page: int, offset: int) -> list:
    """The page's rows. A deep page skips over ids alone, then loads its own rows: the database does
    not build (and join, for eager loads) thousands of full rows only to throw them away."""
    entity = query.column_descriptions[0].get("entity")
    if offset < DEFERRED_FROM or entity is None or not hasattr(entity, "id"):
        return list(db.session.scalars(query.limit(per_page).offset(offset)).all())
    ids = db.session.scalars(query.with_only_columns(entity.id).limit(per_page).offset(offset)).all()
    return list(db.session.scalars(query.where(entity.id.in_(ids))).all()) if ids else []


def like_escape(text: str) -> str:
    """`text` inside a LIKE pattern with escape="\\": its %, _ and backslashes match only themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
