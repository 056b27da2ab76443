"""Append-only audit log: who did what to which row, when, with before and after."""
from __future__ import annotations

from typing import Any

from app.core.models import AuditEntry
from app.extensions import db


def record(*, org_id: int, actor_id: int | None, action: str, object_type: str,
           object_id: Any = None, before: dict | None = None, after: dict | None = None) -> AuditEntry:
    """Add an audit entry to the current transaction (the caller's commit makes it stick)."""
    entry = AuditEntry(organisation_id=org_id, actor_id=actor_id, action=action,
                       object_type=object_type, object_id=None if object_id is None else str(object_id),
                       before=before, after=after)
    db.session.add(entry)
    return entry
