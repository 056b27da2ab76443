"""Append-only audit log: who did what to which row, when, with before and after."""
from __future__ import annotations

from typing import Any

from flask import g, has_app_context

from app.core.models import AuditEntry
from app.extensions import db


def _token():
    """The API token of the request being served, if it came with one (the API sets `g.api_token`)."""
    return g.get("api_token") if has_app_context() else None


def record(*, org_id: int, actor_id: int | None, action: str, object_type: str,
           object_id: Any = None, before: dict | None = None, after: dict | None = None) -> AuditEntry:
    """Add an audit entry to the current transaction (the caller's commit makes it stick); a change
    made through an API token names the token beside its owner."""
    token = _token()
    entry = AuditEntry(organisation_id=org_id, actor_id=actor_id, action=action,
                       object_type=object_type, object_id=None if object_id is None else str(object_id),
                       before=before, after=after, api_token_id=token.id if token is not None else None,
                       api_token_name=token.name if token is not None else None)
    db.session.add(entry)
    return entry
