"""The backups' attention items: no verified backup for too long, or the last backup or drill failed.

Backups are the installation's, so every organisation's admins see the same items (as they see
the same health page).
"""
from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime

from sqlalchemy import func, select

from app.backups.health import age_text, last_failure
from app.backups.layout import newest
from app.backups.services import stale_after
from app.backups.statuses import RunKind
from app.core.attention import Item, register_source
from app.core.models import Organisation
from app.extensions import db


def _overdue() -> Item | None:
    now, stale = datetime.now(UTC), stale_after()
    backup = newest()
    if backup is not None:
        if now - backup.created_at <= stale:
            return None
        return Item(kind="backup", subject="overdue", title="Backups are overdue",
                    why=f"The newest verified backup is {age_text(backup.created_at)} old "
                        f"(more than {stale.total_seconds() / 3600:g} h)",
                    endpoint="admin.health", since=backup.created_at + stale, level="error")
    # A fresh installation is not overdue before it could have had its first backup.
    first = db.session.scalar(select(func.min(Organisation.created_at)))
    if first is None or now - first <= stale:
        return None
    return Item(kind="backup", subject="overdue", title="Backups are overdue", why="There is no verified backup yet",
                endpoint="admin.health", since=first + stale, level="error")


def _failures() -> list[Item]:
    found = []
    for kind, what in ((RunKind.BACKUP, "backup"), (RunKind.DRILL, "restore drill")):
        run = last_failure(kind)
        if run is not None:
            found.append(Item(kind="backup", subject=f"{kind.value}-failed-{run.id}", title=f"The last {what} failed",
                              why=(run.error or "see the health page")[:300], endpoint="admin.health",
                              since=run.finished_at or run.created_at, level="error"))
    return found


def _all() -> list[Item]:
    overdue = _overdue()
    return ([overdue] if overdue else []) + _failures()


def _items(org_id: int, *, limit: int, offset: int = 0, exclude: Collection[str] = ()) -> list[Item]:
    return [i for i in _all() if i.subject not in exclude][offset:offset + limit]


def _find(org_id: int, subjects: Collection[str]) -> list[Item]:
    return [i for i in _all() if i.subject in subjects]


register_source("backup", label="Backups overdue or failed", roles=("admin",), count=lambda org_id: len(_all()),
                items=_items, find=_find, conditions=lambda org_id: {i.subject for i in _all()}, order=80)
