"""Reads of the core's own rows for its pages and for other domains' pages: users, the audit log."""
from __future__ import annotations

from app.core.models import AuditEntry, User
from app.core.pagination import Page, paginate
from app.core.tenancy import scoped
from app.extensions import db


def users(org_id: int, *, active_only: bool = False) -> list[User]:
    """The organisation's users by e-mail (only the active ones when asked, e.g. to assign work)."""
    query = scoped(User, org_id)
    if active_only:
        query = query.where(User.active.is_(True))
    return db.session.scalars(query.order_by(User.name, User.email) if active_only
                              else query.order_by(User.email)).all()


def audit_page(org_id: int, *, object_type: str = "", page=1) -> Page:
    """One page of the organisation's audit log, newest first, of one kind of object if asked."""
    query = scoped(AuditEntry, org_id).order_by(AuditEntry.id.desc())
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    return paginate(query, page, per_page=50)
