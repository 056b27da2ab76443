"""Storage hygiene: remove stored files that no row names, once they are older than a grace period.

The grace period (STORAGE_GRACE_DAYS, default 7) covers files stored a moment before the row
that will name them is committed, and an upload kept between two steps of a form (a supplier
file waiting for its columns to be chosen is named only by the user's session). Storing a file
again restarts its grace period, and a file is renamed aside and its time read again before it
is deleted (app.core.storage.remove_if_stale). No file is removed while a backup is being taken.
The same pass measures the store: bytes per capability (the domain whose rows name the files)
and what a sweep frees.
"""
from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select

from app.backups.canonical import reflect
from app.backups.models import BackupRun
from app.backups.references import scan, table_owners
from app.backups.statuses import RunKind, RunStatus
from app.core import storage
from app.core.models import utcnow
from app.extensions import db

TEMP_GRACE_SECONDS = 24 * 3600
LISTED = 200


@dataclass
class Swept:
    dry_run: bool
    grace_days: float
    files: int = 0
    bytes: int = 0
    usage: dict[str, dict] = field(default_factory=dict)  # capability -> {"files", "bytes"}
    unreferenced: int = 0
    unreferenced_bytes: int = 0
    reclaimable: list[dict] = field(default_factory=list)  # {"path", "bytes", "age_days"}, first LISTED
    reclaimable_count: int = 0
    reclaimable_bytes: int = 0
    removed: int = 0
    removed_bytes: int = 0
    temporaries: int = 0
    note: str = ""

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def storage_sweep(*, dry_run: bool, grace_days: float | None = None, now: float | None = None) -> Swept:
    """Measure the store; unless dry, remove unnamed files older than the grace period."""
    grace = float(current_app.config["STORAGE_GRACE_DAYS"] if grace_days is None else grace_days)
    now = time.time() if now is None else now
    cutoff = now - grace * 86400
    files = list(storage.iter_files())
    with db.engine.connect() as conn:
        refs = scan(conn, reflect(conn))
    result = Swept(dry_run, grace, len(files), sum(f.size for f in files))
    _measure(result, files, refs.where)
    stale = [f for f in files if f.sha256 not in refs and f.mtime < cutoff]
    result.reclaimable_count, result.reclaimable_bytes = len(stale), sum(f.size for f in stale)
    result.reclaimable = [{"path": f.relpath, "bytes": f.size, "age_days": round((now - f.mtime) / 86400, 1)}
                          for f in sorted(stale, key=lambda f: -f.size)[:LISTED]]
    if dry_run:
        return result
    if backup_running():
        result.note = "nothing removed: a backup is being taken"
        return result
    for item in stale:
        if storage.remove_if_stale(item, cutoff):
            result.removed += 1
            result.removed_bytes += item.size
    result.temporaries = _remove_leftovers(now)
    return result


def _measure(result: Swept, files: list[storage.Listed], where: dict[str, set[str]]) -> None:
    owners = table_owners()
    for item in files:
        places = where.get(item.sha256)
        if not places:
            result.unreferenced += 1
            result.unreferenced_bytes += item.size
            continue
        for capability in sorted({owners.get(p.split(".")[0], p.split(".")[0]) for p in places}):
            entry = result.usage.setdefault(capability, {"files": 0, "bytes": 0})
            entry["files"] += 1
            entry["bytes"] += item.size


def _remove_leftovers(now: float) -> int:
    """Half-written uploads and restore staging folders left by processes that died a day ago or more."""
    leftovers = storage.stale_temporaries(now - TEMP_GRACE_SECONDS)
    for path in leftovers:
        path.unlink(missing_ok=True)
    root = storage.root()
    staged = [p for p in root.glob(".restore-*") if p.is_dir() and p.stat().st_mtime < now - TEMP_GRACE_SECONDS] \
        if root.is_dir() else []
    for path in staged:
        shutil.rmtree(path, ignore_errors=True)
    return len(leftovers) + len(staged)


def backup_running() -> bool:
    """True while a backup run holds a live lease."""
    return db.session.scalar(select(BackupRun.id).where(
        BackupRun.kind == RunKind.BACKUP, BackupRun.status == RunStatus.RUNNING,
        BackupRun.lease_until > utcnow()).limit(1)) is not None
