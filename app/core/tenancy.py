"""Tenancy in one place: every read of a domain row goes through these helpers.

A row of another organisation is indistinguishable from a missing row (404), whatever id is
typed into a URL.
"""
from __future__ import annotations

from typing import TypeVar

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, select

from app.extensions import db

M = TypeVar("M")


def current_org_id() -> int:
    """The organisation of the logged-in user; 401 when nobody is logged in."""
    if not current_user.is_authenticated:
        abort(401)
    return current_user.organisation_id


def scoped(model: type[M], org_id: int | None = None) -> Select:
    """SELECT model rows of one organisation (the current user's unless given)."""
    org = current_org_id() if org_id is None else org_id
    return select(model).where(model.organisation_id == org)


def get_scoped(model: type[M], row_id, org_id: int) -> M | None:
    """Load one row by id if it belongs to the organisation, else None."""
    try:
        row = db.session.get(model, row_id)
    except (ValueError, TypeError):
        return None
    if row is None or row.organisation_id != org_id:
        return None
    return row


def get_or_404(model: type[M], row_id, org_id: int | None = None) -> M:
    """Load one row of the current organisation or answer 404."""
    row = get_scoped(model, row_id, current_org_id() if org_id is None else org_id)
    if row is None:
        abort(404)
    return row
