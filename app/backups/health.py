"""Health checks of backups and storage, and what the health page's panels show."""
from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import select

from app.backups.layout import newest
from app.backups.models import BackupRun
from app.backups.services import latest_finished, mb, stale_after
from app.backups.statuses import RunKind, RunStatus
from app.core.health import register_check
from app.extensions import db


def age_text(when: datetime) -> str:
    hours = (datetime.now(UTC) - when).total_seconds() / 3600
    return f"{hours * 60:.0f} min" if hours < 1 else f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def newest_backup() -> dict | None:
    """The newest verified backup: name, method, when, age, sizes (None when there is none)."""
    backup = newest()
    if backup is None:
        return None
    manifest, verified = backup.manifest(), backup.verified() or {}
    files = manifest.get("files") or {}
    return {"name": backup.name, "method": manifest.get("method"), "created_at": backup.created_at,
            "age": age_text(backup.created_at), "stale": datetime.now(UTC) - backup.created_at > stale_after(),
            "verified_at": verified.get("verified_at"), "database_bytes": manifest["database"]["size"],
            "files": files.get("count", 0), "files_bytes": files.get("bytes", 0),
            "missing_files": (manifest.get("references") or {}).get("missing_count", 0)}


def last_failure(kind: RunKind) -> BackupRun | None:
    """The newest run of `kind` when it failed (None when the newest did not fail)."""
    run = db.session.scalar(select(BackupRun).where(BackupRun.kind == kind, BackupRun.status.in_(
        (RunStatus.SUCCEEDED, RunStatus.FAILED))).order_by(BackupRun.id.desc()).limit(1))
    return run if run is not None and run.status == RunStatus.FAILED else None


def _backups_check() -> tuple[str, str]:
    info = newest_backup()
    failed = last_failure(RunKind.BACKUP)
    if info is None:
        return "warning", "no verified backup yet: run `flask backup`" + (f"; last run failed: {failed.error}" if failed else "")
    detail = (f"newest verified {info['name']} ({info['method']}, {info['files']} files), {info['age']} ago")
    if failed is not None:
        return "warning", detail + f"; the last backup run FAILED: {failed.error}"
    drill = last_failure(RunKind.DRILL)
    if drill is not None:
        return "warning", detail + f"; the last restore drill FAILED: {drill.error}"
    return ("warning" if info["stale"] else "ok"), detail


def _storage_check() -> tuple[str, str]:
    run = latest_finished(RunKind.SWEEP)
    if run is None or not run.report:
        return "ok", "not measured yet (the daily sweep measures it)"
    report = run.report
    return "ok", (f"{report['files']} files, {mb(report['bytes'])}; {mb(report['reclaimable_bytes'])} reclaimable "
                  f"(measured {age_text(run.finished_at)} ago)")


def schedule_text() -> str:
    config = current_app.config
    if not config.get("BACKUP_SCHEDULE"):
        return "the schedule is off (BACKUP_SCHEDULE)"
    return (f"daily at {config['BACKUP_HOUR']:02d}:00 UTC, keeping {config['BACKUP_KEEP_DAILY']} daily, "
            f"{config['BACKUP_KEEP_WEEKLY']} weekly and {config['BACKUP_KEEP_MONTHLY']} monthly; a drill on day "
            f"{config['BACKUP_DRILL_DAY']} of each month; storage swept daily at {config['STORAGE_SWEEP_HOUR']:02d}:00 "
            f"(grace {config['STORAGE_GRACE_DAYS']:g} days)"
            + (f"; copied to {config['BACKUP_S3_URL']}" if config.get("BACKUP_S3_URL") else ""))


register_check("backups", _backups_check)
register_check("storage", _storage_check)
